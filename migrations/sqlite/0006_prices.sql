-- Cost of each request, and the user's own prices (USD per million tokens).
ALTER TABLE usage_records ADD COLUMN cost_usd REAL NOT NULL DEFAULT 0;
ALTER TABLE usage_records ADD COLUMN priced INTEGER NOT NULL DEFAULT 0;

CREATE TABLE prices (
    model       TEXT PRIMARY KEY NOT NULL,   -- PROVIDER/MODEL
    input       REAL NOT NULL,
    output      REAL NOT NULL,
    cache_read  REAL,
    cache_write REAL,
    created_at  TEXT NOT NULL
);
