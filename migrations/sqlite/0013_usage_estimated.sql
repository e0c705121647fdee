-- A record whose provider reported no token counts (a stream cut by the client, an upstream
-- that broke mid-answer, a provider that does not count) holds counts estimated with the
-- tokenizer, and says so.
ALTER TABLE usage_records ADD COLUMN usage_estimated INTEGER NOT NULL DEFAULT 0;
-- Why the account that answered was chosen (its conversation's, first by priority, its
-- rotation turn, least used), with the failed attempts before it counted.
ALTER TABLE usage_records ADD COLUMN chosen TEXT;
