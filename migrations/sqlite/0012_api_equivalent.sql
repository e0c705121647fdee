-- What each request would have cost on the API: equal to its cost for API keys; for
-- subscription logins (whose requests cost nothing more) the price of the tokens it used.
ALTER TABLE usage_records ADD COLUMN api_equivalent_usd REAL NOT NULL DEFAULT 0;
ALTER TABLE usage_hourly ADD COLUMN api_equivalent_usd REAL NOT NULL DEFAULT 0;
UPDATE usage_records SET api_equivalent_usd = cost_usd;
UPDATE usage_hourly SET api_equivalent_usd = cost_usd;
