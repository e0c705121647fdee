-- Subscription logins: an account's shown login, and the quota windows last reported for it.
ALTER TABLE accounts ADD COLUMN login TEXT;
CREATE TABLE login_quotas (
    account_id BIGINT PRIMARY KEY NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    fetched_ms BIGINT NOT NULL,
    windows    TEXT NOT NULL
);
