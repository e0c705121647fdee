-- An optional cap on the requests one account serves at the same time (NULL: no cap).
ALTER TABLE accounts ADD COLUMN max_concurrent BIGINT;
