-- Cost of each request, and the user's own prices (USD per million tokens).
ALTER TABLE usage_records ADD COLUMN cost_usd DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE usage_records ADD COLUMN priced BIGINT NOT NULL DEFAULT 0;

CREATE TABLE prices (
    model       TEXT PRIMARY KEY NOT NULL,
    input       DOUBLE PRECISION NOT NULL,
    output      DOUBLE PRECISION NOT NULL,
    cache_read  DOUBLE PRECISION,
    cache_write DOUBLE PRECISION,
    created_at  TEXT NOT NULL
);
