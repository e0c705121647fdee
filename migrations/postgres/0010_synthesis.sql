-- Synthesis combos: the judge model and the deadline for the members' answers.
ALTER TABLE combos ADD COLUMN judge TEXT;
ALTER TABLE combos ADD COLUMN deadline_secs BIGINT;
ALTER TABLE usage_records ADD COLUMN group_id BIGINT;
ALTER TABLE usage_records ADD COLUMN part TEXT;
