-- Subscription logins: an account's login (kind, email, plan, expiry: shown in clear; the
-- tokens stay in the sealed secret), and the quota windows last reported for it.
ALTER TABLE accounts ADD COLUMN login TEXT;
CREATE TABLE login_quotas (
    account_id INTEGER PRIMARY KEY NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    fetched_ms INTEGER NOT NULL,
    windows    TEXT NOT NULL   -- JSON array of {name, used_percent, resets_at_ms}
);
