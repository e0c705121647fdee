-- Synthesis combos: the judge model and the deadline for the members' answers.
ALTER TABLE combos ADD COLUMN judge TEXT;
ALTER TABLE combos ADD COLUMN deadline_secs INTEGER;
-- The records of one synthesized request (its members and its judge) share a group id.
ALTER TABLE usage_records ADD COLUMN group_id INTEGER;
ALTER TABLE usage_records ADD COLUMN part TEXT;  -- NULL, 'member' or 'judge'
