CREATE TABLE "golive_policy" (
	"id" integer PRIMARY KEY DEFAULT 1 NOT NULL,
	"min_paper_trades" integer NOT NULL,
	"min_roi_pct" numeric NOT NULL,
	"alert_window_ms" bigint NOT NULL,
	"recorded_by" text NOT NULL,
	"recorded_at" timestamp with time zone NOT NULL,
	CONSTRAINT "golive_policy_singleton" CHECK ("golive_policy"."id" = 1)
);
--> statement-breakpoint
ALTER TABLE "audit_runs" ADD COLUMN "thresholds" jsonb;