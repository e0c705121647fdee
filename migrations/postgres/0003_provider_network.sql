-- Per-provider network settings (NULL: the global one).
ALTER TABLE providers ADD COLUMN proxy TEXT;
ALTER TABLE providers ADD COLUMN first_byte_timeout_secs BIGINT;
ALTER TABLE providers ADD COLUMN stall_timeout_secs BIGINT;
