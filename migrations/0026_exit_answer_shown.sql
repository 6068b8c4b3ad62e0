ALTER TABLE "engine_requests" ADD COLUMN "answer_shown_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "engine_requests" ADD COLUMN "answer_noticed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "engine_requests" ADD COLUMN "outcome_told_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "engine_requests" ADD COLUMN "reply_messages" jsonb;--> statement-breakpoint
-- Exits answered before this release were told (or not) by the old rule: the new sweep leaves them be.
UPDATE "engine_requests" SET "outcome_told_at" = coalesce("finished_at", now()) WHERE "kind" = 'exit_trade' AND "status" IN ('done', 'failed');
