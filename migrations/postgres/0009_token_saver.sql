-- Token saver: tokens each request saved, and the per-key switch.
ALTER TABLE usage_records ADD COLUMN tokens_saved BIGINT NOT NULL DEFAULT 0;
ALTER TABLE usage_hourly ADD COLUMN tokens_saved BIGINT NOT NULL DEFAULT 0;
ALTER TABLE gateway_keys ADD COLUMN token_saver BIGINT;
