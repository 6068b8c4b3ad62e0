-- The holder's ENGINE_LEASE_TTL, written at take and renewal: the holder's TTL, not a standby's or a reader's,
-- decides when its lease is stale. Null on a row an older binary wrote.
ALTER TABLE "engine_lease" ADD COLUMN "ttl_ms" integer;