-- Where the lease holder's pid means something (its kernel boot id and pid namespace): a standby on the
-- same host and boot that finds that pid gone takes over at once, not after the TTL. Null: unknown.
ALTER TABLE "engine_lease" ADD COLUMN "boot_id" text;
