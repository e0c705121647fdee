-- One usage record per request, failed ones included.
CREATE TABLE usage_records (
    id                 BIGSERIAL PRIMARY KEY,
    ts_ms              BIGINT NOT NULL,
    key_id             BIGINT,
    tool               TEXT NOT NULL DEFAULT '',
    inbound            TEXT NOT NULL,
    requested_model    TEXT NOT NULL DEFAULT '',
    provider           TEXT,
    account_id         BIGINT,
    model              TEXT,
    attempts           TEXT NOT NULL DEFAULT '[]',
    stream             BIGINT NOT NULL DEFAULT 0,
    status             BIGINT NOT NULL,
    outcome            TEXT NOT NULL,
    latency_ms         BIGINT NOT NULL,
    ttft_ms            BIGINT,
    input_tokens       BIGINT NOT NULL DEFAULT 0,
    output_tokens      BIGINT NOT NULL DEFAULT 0,
    cache_read_tokens  BIGINT NOT NULL DEFAULT 0,
    cache_write_tokens BIGINT NOT NULL DEFAULT 0,
    reasoning_tokens   BIGINT NOT NULL DEFAULT 0,
    usage_reported     BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX usage_by_time ON usage_records(ts_ms);
