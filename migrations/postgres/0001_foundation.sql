-- PostgreSQL schema, in step with migrations/sqlite (same numbers, same tables and columns).
-- Integers are BIGINT and flags 0/1 BIGINT, as in SQLite, so that one SQL text serves both.
-- Configuration: providers, their accounts, gateway keys, settings, and the revision
-- counter that running gateways poll to pick up changes made elsewhere (CLI, dashboard).

CREATE TABLE providers (
    id           TEXT PRIMARY KEY NOT NULL,
    kind         TEXT NOT NULL,
    base_url     TEXT NOT NULL,
    auth         TEXT NOT NULL,
    models       TEXT NOT NULL DEFAULT '[]',
    from_catalog BIGINT NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL
);

CREATE TABLE accounts (
    id          BIGSERIAL PRIMARY KEY,
    provider_id TEXT NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
    label       TEXT NOT NULL DEFAULT '',
    priority    BIGINT NOT NULL DEFAULT 0,
    enabled     BIGINT NOT NULL DEFAULT 1,
    secret      BYTEA,
    key_hint    TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL
);
CREATE INDEX accounts_by_provider ON accounts(provider_id, priority);

CREATE TABLE gateway_keys (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT NOT NULL DEFAULT '',
    key_hash    TEXT NOT NULL UNIQUE,
    key_hint    TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value BIGINT NOT NULL
);
INSERT INTO meta (key, value) VALUES ('config_rev', 1);
