-- What the lease row's `waiting` is: a step of the engine's start, or its gate's reason given on the bot_state
-- version beside it (a reader whose bot_state moved on does not say it).
ALTER TABLE "engine_lease" ADD COLUMN "waiting_kind" text;--> statement-breakpoint
ALTER TABLE "engine_lease" ADD COLUMN "waiting_state_version" integer;--> statement-breakpoint
ALTER TABLE "engine_lease" ADD CONSTRAINT "engine_lease_waiting_kind" CHECK ("engine_lease"."waiting_kind" in ('step', 'gate'));