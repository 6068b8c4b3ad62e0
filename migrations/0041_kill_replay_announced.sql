-- When a replayed saved kill's announcement was stored: until then a later replay takes it over once
-- the process that wrote the kill has not announced it within the lease, so it is never lost.
ALTER TABLE "kill_replays" ADD COLUMN "announced_at" timestamp with time zone;--> statement-breakpoint
-- Rows written before this column were announced then (or not at all, long ago): none is paged again.
UPDATE "kill_replays" SET "announced_at" = "replayed_at";
