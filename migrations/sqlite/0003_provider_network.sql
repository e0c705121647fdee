-- Per-provider network settings: an outbound proxy and timeouts that override the global
-- settings (NULL: use the global one).
ALTER TABLE providers ADD COLUMN proxy TEXT;
ALTER TABLE providers ADD COLUMN first_byte_timeout_secs INTEGER;
ALTER TABLE providers ADD COLUMN stall_timeout_secs INTEGER;
