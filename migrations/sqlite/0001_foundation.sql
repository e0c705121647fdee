-- Configuration: providers, their accounts, gateway keys, settings, and the revision
-- counter that running gateways poll to pick up changes made elsewhere (CLI, dashboard).

CREATE TABLE providers (
    id          TEXT PRIMARY KEY NOT NULL,
    kind        TEXT NOT NULL,
    base_url    TEXT NOT NULL,
    auth        TEXT NOT NULL,
    models      TEXT NOT NULL DEFAULT '[]',   -- JSON array of model ids
    from_catalog INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL
);

CREATE TABLE accounts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    provider_id TEXT NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
    label       TEXT NOT NULL DEFAULT '',
    priority    INTEGER NOT NULL DEFAULT 0,
    enabled     INTEGER NOT NULL DEFAULT 1,
    secret      BLOB,                          -- sealed (AES-256-GCM), never plaintext
    key_hint    TEXT NOT NULL DEFAULT '',      -- e.g. "sk-…3f9a" for display
    created_at  TEXT NOT NULL
);
CREATE INDEX accounts_by_provider ON accounts(provider_id, priority);

CREATE TABLE gateway_keys (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL DEFAULT '',
    key_hash    TEXT NOT NULL UNIQUE,          -- hex SHA-256 of the whole key
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
    value INTEGER NOT NULL
);
INSERT INTO meta (key, value) VALUES ('config_rev', 1);
