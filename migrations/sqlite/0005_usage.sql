-- One usage record per request, failed ones included.
CREATE TABLE usage_records (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    ts_ms              INTEGER NOT NULL,
    key_id             INTEGER,
    tool               TEXT NOT NULL DEFAULT '',
    inbound            TEXT NOT NULL,
    requested_model    TEXT NOT NULL DEFAULT '',
    provider           TEXT,
    account_id         INTEGER,
    model              TEXT,
    attempts           TEXT NOT NULL DEFAULT '[]',   -- JSON array: each failed or skipped attempt
    stream             INTEGER NOT NULL DEFAULT 0,
    status             INTEGER NOT NULL,
    outcome            TEXT NOT NULL,                -- ok | error | client_disconnected
    latency_ms         INTEGER NOT NULL,
    ttft_ms            INTEGER,
    input_tokens       INTEGER NOT NULL DEFAULT 0,
    output_tokens      INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens  INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens INTEGER NOT NULL DEFAULT 0,
    reasoning_tokens   INTEGER NOT NULL DEFAULT 0,
    usage_reported     INTEGER NOT NULL DEFAULT 0    -- 1: the provider's own numbers
);
CREATE INDEX usage_by_time ON usage_records(ts_ms);
