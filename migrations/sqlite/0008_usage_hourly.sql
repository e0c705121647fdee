-- Hourly aggregates of usage, kept past the raw records' retention; analytics read these.
CREATE TABLE usage_hourly (
    hour_ms            INTEGER NOT NULL,      -- start of the UTC hour, Unix ms
    provider           TEXT NOT NULL DEFAULT '',
    model              TEXT NOT NULL DEFAULT '',   -- PROVIDER/MODEL, or the requested name when none answered
    account_id         INTEGER NOT NULL DEFAULT 0,
    key_id             INTEGER NOT NULL DEFAULT 0,
    tool               TEXT NOT NULL DEFAULT '',
    requests           INTEGER NOT NULL DEFAULT 0,
    errors             INTEGER NOT NULL DEFAULT 0,
    input_tokens       INTEGER NOT NULL DEFAULT 0,
    output_tokens      INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens  INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens INTEGER NOT NULL DEFAULT 0,
    reasoning_tokens   INTEGER NOT NULL DEFAULT 0,
    cost_usd           REAL NOT NULL DEFAULT 0,
    latency_ms_sum     INTEGER NOT NULL DEFAULT 0,
    -- Requests by latency, for percentiles: under 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128 s, longer.
    lat_0 INTEGER NOT NULL DEFAULT 0, lat_1 INTEGER NOT NULL DEFAULT 0, lat_2 INTEGER NOT NULL DEFAULT 0,
    lat_3 INTEGER NOT NULL DEFAULT 0, lat_4 INTEGER NOT NULL DEFAULT 0, lat_5 INTEGER NOT NULL DEFAULT 0,
    lat_6 INTEGER NOT NULL DEFAULT 0, lat_7 INTEGER NOT NULL DEFAULT 0, lat_8 INTEGER NOT NULL DEFAULT 0,
    lat_9 INTEGER NOT NULL DEFAULT 0, lat_10 INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (hour_ms, provider, model, account_id, key_id, tool)
) WITHOUT ROWID;  -- rows stored in key order: a period is one sequential range

-- Records written before this table existed.
INSERT INTO usage_hourly (hour_ms, provider, model, account_id, key_id, tool, requests, errors, input_tokens, output_tokens,
    cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_usd, latency_ms_sum)
SELECT (ts_ms / 3600000) * 3600000, COALESCE(provider, ''),
       COALESCE(provider || '/' || model, requested_model), COALESCE(account_id, 0), COALESCE(key_id, 0), tool,
       COUNT(*), SUM(outcome = 'error'), SUM(input_tokens), SUM(output_tokens), SUM(cache_read_tokens),
       SUM(cache_write_tokens), SUM(reasoning_tokens), SUM(cost_usd), SUM(latency_ms)
FROM usage_records GROUP BY 1, 2, 3, 4, 5, 6;
