-- Routing: account rotation per provider, combos (named fallback chains), model aliases,
-- and cooldowns that survive a restart.

ALTER TABLE providers ADD COLUMN strategy TEXT NOT NULL DEFAULT 'fill-first';
ALTER TABLE providers ADD COLUMN sticky_uses INTEGER NOT NULL DEFAULT 3;

-- Why an account stopped being used (401/403 and the like), until the user acts.
ALTER TABLE accounts ADD COLUMN needs_attention TEXT;

CREATE TABLE combos (
    name       TEXT PRIMARY KEY NOT NULL,
    strategy   TEXT NOT NULL DEFAULT 'fallback',
    members    TEXT NOT NULL,            -- JSON array of model names, combos or aliases
    created_at TEXT NOT NULL
);

CREATE TABLE aliases (
    name       TEXT PRIMARY KEY NOT NULL,
    target     TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- One row per (account, upstream model) cooling down; `until_ms` is Unix milliseconds.
CREATE TABLE cooldowns (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    model      TEXT NOT NULL,
    until_ms   INTEGER NOT NULL,
    failures   INTEGER NOT NULL DEFAULT 1,
    reason     TEXT NOT NULL,
    PRIMARY KEY (account_id, model)
);
