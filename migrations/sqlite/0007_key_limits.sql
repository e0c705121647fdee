-- Budgets and limits per gateway key (NULL: none).
ALTER TABLE gateway_keys ADD COLUMN budget_daily_usd REAL;
ALTER TABLE gateway_keys ADD COLUMN budget_monthly_usd REAL;
ALTER TABLE gateway_keys ADD COLUMN rpm INTEGER;
ALTER TABLE gateway_keys ADD COLUMN tpm INTEGER;
ALTER TABLE gateway_keys ADD COLUMN models TEXT;          -- comma-separated globs
ALTER TABLE gateway_keys ADD COLUMN expires_at TEXT;      -- RFC 3339
CREATE INDEX usage_by_key_time ON usage_records(key_id, ts_ms);
