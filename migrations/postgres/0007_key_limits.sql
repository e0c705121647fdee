-- Budgets and limits per gateway key (NULL: none).
ALTER TABLE gateway_keys ADD COLUMN budget_daily_usd DOUBLE PRECISION;
ALTER TABLE gateway_keys ADD COLUMN budget_monthly_usd DOUBLE PRECISION;
ALTER TABLE gateway_keys ADD COLUMN rpm BIGINT;
ALTER TABLE gateway_keys ADD COLUMN tpm BIGINT;
ALTER TABLE gateway_keys ADD COLUMN models TEXT;
ALTER TABLE gateway_keys ADD COLUMN expires_at TEXT;
CREATE INDEX usage_by_key_time ON usage_records(key_id, ts_ms);
