-- Counts estimated with the tokenizer, and why the account that answered was chosen.
ALTER TABLE usage_records ADD COLUMN usage_estimated BIGINT NOT NULL DEFAULT 0;
ALTER TABLE usage_records ADD COLUMN chosen TEXT;
