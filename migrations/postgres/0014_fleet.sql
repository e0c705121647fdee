-- Team mode: what the gateways sharing one database must agree on.
-- A value sealed with the master key: a gateway started with another key cannot open it and
-- refuses to start (it must never seal with a second key).
CREATE TABLE key_check (
    id     BIGINT PRIMARY KEY NOT NULL,
    sealed BYTEA NOT NULL
);
-- Dashboard sessions (the SHA-256 of the cookie's token): a login on one gateway is valid on
-- all, a logout ends it everywhere.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL
);
-- Bumped by every change of the routing state gateways share (cooldowns), which they poll as
-- they poll `config_rev`: a quota reset learnt by one gateway reaches the others.
INSERT INTO meta (key, value) VALUES ('state_rev', 1);
-- Requests and tokens per gateway key per minute (`window_ms`: the minute's start), counted by
-- every gateway on a shared database so that a key's rpm and tpm hold across the fleet.
CREATE TABLE rate_counters (
    key_id    BIGINT NOT NULL,
    window_ms BIGINT NOT NULL,
    requests  BIGINT NOT NULL DEFAULT 0,
    tokens    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (key_id, window_ms)
);
-- Short leases a gateway holds while it does what only one may do at a time (refreshing a
-- login, whose rotating refresh token must not be sent twice); one that is not released
-- (a gateway died) expires at `until_ms`.
CREATE TABLE leases (
    name     TEXT PRIMARY KEY NOT NULL,
    holder   TEXT NOT NULL,
    until_ms BIGINT NOT NULL
);
-- The requests each capped account serves now, one row per request, across the gateways
-- sharing the database (`max-concurrent` holds for the fleet). A gateway renews its rows
-- while it runs; those of a gateway that died expire at `until_ms`.
CREATE TABLE account_slots (
    id         BIGSERIAL PRIMARY KEY,
    account_id BIGINT NOT NULL,
    holder     TEXT NOT NULL,
    until_ms   BIGINT NOT NULL
);
CREATE INDEX account_slots_by_account ON account_slots(account_id, until_ms);
