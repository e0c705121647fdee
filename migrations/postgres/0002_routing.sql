-- Routing: account rotation per provider, combos, model aliases, and cooldowns.
ALTER TABLE providers ADD COLUMN strategy TEXT NOT NULL DEFAULT 'fill-first';
ALTER TABLE providers ADD COLUMN sticky_uses BIGINT NOT NULL DEFAULT 3;
ALTER TABLE accounts ADD COLUMN needs_attention TEXT;

CREATE TABLE combos (
    name       TEXT PRIMARY KEY NOT NULL,
    strategy   TEXT NOT NULL DEFAULT 'fallback',
    members    TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE aliases (
    name       TEXT PRIMARY KEY NOT NULL,
    target     TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE cooldowns (
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    model      TEXT NOT NULL,
    until_ms   BIGINT NOT NULL,
    failures   BIGINT NOT NULL DEFAULT 1,
    reason     TEXT NOT NULL,
    PRIMARY KEY (account_id, model)
);
