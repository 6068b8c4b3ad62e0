-- Where an engine request's claimer's pid means something (its kernel boot id and pid namespace, tied
-- to claimed_by): a runner on the same host and boot that finds that pid gone puts the request back at
-- once, not after the stale-claim timeout. Null: unknown.
ALTER TABLE "engine_requests" ADD COLUMN "claimed_scope" text;