-- What each request would have cost on the API.
ALTER TABLE usage_records ADD COLUMN api_equivalent_usd DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE usage_hourly ADD COLUMN api_equivalent_usd DOUBLE PRECISION NOT NULL DEFAULT 0;
