ALTER TABLE "engine_requests" ADD COLUMN "outcome_claimed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "engine_requests" ADD COLUMN "outcome_claimed_by" text;