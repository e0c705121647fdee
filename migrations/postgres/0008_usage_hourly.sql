-- Hourly aggregates of usage, kept past the raw records' retention; analytics read these.
CREATE TABLE usage_hourly (
    hour_ms            BIGINT NOT NULL,
    provider           TEXT NOT NULL DEFAULT '',
    model              TEXT NOT NULL DEFAULT '',
    account_id         BIGINT NOT NULL DEFAULT 0,
    key_id             BIGINT NOT NULL DEFAULT 0,
    tool               TEXT NOT NULL DEFAULT '',
    requests           BIGINT NOT NULL DEFAULT 0,
    errors             BIGINT NOT NULL DEFAULT 0,
    input_tokens       BIGINT NOT NULL DEFAULT 0,
    output_tokens      BIGINT NOT NULL DEFAULT 0,
    cache_read_tokens  BIGINT NOT NULL DEFAULT 0,
    cache_write_tokens BIGINT NOT NULL DEFAULT 0,
    reasoning_tokens   BIGINT NOT NULL DEFAULT 0,
    cost_usd           DOUBLE PRECISION NOT NULL DEFAULT 0,
    latency_ms_sum     BIGINT NOT NULL DEFAULT 0,
    lat_0 BIGINT NOT NULL DEFAULT 0, lat_1 BIGINT NOT NULL DEFAULT 0, lat_2 BIGINT NOT NULL DEFAULT 0,
    lat_3 BIGINT NOT NULL DEFAULT 0, lat_4 BIGINT NOT NULL DEFAULT 0, lat_5 BIGINT NOT NULL DEFAULT 0,
    lat_6 BIGINT NOT NULL DEFAULT 0, lat_7 BIGINT NOT NULL DEFAULT 0, lat_8 BIGINT NOT NULL DEFAULT 0,
    lat_9 BIGINT NOT NULL DEFAULT 0, lat_10 BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (hour_ms, provider, model, account_id, key_id, tool)
);
