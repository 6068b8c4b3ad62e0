CREATE TABLE "alert_deliveries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"group_id" bigint NOT NULL,
	"kind" text NOT NULL,
	"lane" text NOT NULL,
	"target" text NOT NULL,
	"priority" smallint DEFAULT 0 NOT NULL,
	"payload" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone NOT NULL,
	"sent_at" timestamp with time zone,
	"result" jsonb
);
--> statement-breakpoint
CREATE TABLE "alert_escalations" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"group_id" bigint NOT NULL,
	"severity" text NOT NULL,
	"round" integer DEFAULT 1 NOT NULL,
	"step" integer DEFAULT 0 NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"stopped_reason" text,
	"overdue_at" timestamp with time zone,
	"started_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "alert_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"group_id" bigint NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"source" text NOT NULL,
	"severity" text NOT NULL,
	"title" text NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "alert_groups" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"fingerprint" text NOT NULL,
	"source" text NOT NULL,
	"severity" text NOT NULL,
	"title" text NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"count" integer DEFAULT 1 NOT NULL,
	"first_at" timestamp with time zone NOT NULL,
	"last_at" timestamp with time zone NOT NULL,
	"test" boolean DEFAULT false NOT NULL,
	"slack_channel" text,
	"slack_ts" text,
	"version" integer DEFAULT 1 NOT NULL,
	"reported_version" integer DEFAULT 0 NOT NULL,
	"reported_event_id" bigint DEFAULT 0 NOT NULL,
	"acknowledged_by" text,
	"acknowledged_at" timestamp with time zone,
	"resolved_by" text,
	"resolved_at" timestamp with time zone,
	"silenced_until" timestamp with time zone,
	"silenced_by" text
);
--> statement-breakpoint
CREATE TABLE "alert_pages" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"group_id" bigint NOT NULL,
	"round" integer NOT NULL,
	"step" integer NOT NULL,
	"user_id" text NOT NULL,
	"reason" text NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "alert_policies" (
	"severity" text PRIMARY KEY NOT NULL,
	"steps" jsonb NOT NULL,
	"ack_sla_ms" integer NOT NULL,
	"max_rounds" integer NOT NULL,
	"email" boolean NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"updated_by" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "alert_slack_pacing" (
	"lane" text PRIMARY KEY NOT NULL,
	"next_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "alert_tests" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"actor" text NOT NULL,
	"severity" text NOT NULL,
	"group_id" bigint,
	"ok" boolean NOT NULL,
	"channels" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "oncall_overrides" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "oncall_rotations" (
	"id" integer PRIMARY KEY DEFAULT 1 NOT NULL,
	"members" jsonb NOT NULL,
	"handoff_weekday" smallint NOT NULL,
	"handoff_time" text NOT NULL,
	"time_zone" text NOT NULL,
	"anchor_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"updated_by" text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "alert_deliveries_one_pending_sync" ON "alert_deliveries" USING btree ("group_id") WHERE "alert_deliveries"."kind" = 'slack_sync' and "alert_deliveries"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "alert_deliveries_due" ON "alert_deliveries" USING btree ("lane","priority","next_attempt_at") WHERE "alert_deliveries"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "alert_deliveries_group" ON "alert_deliveries" USING btree ("group_id");--> statement-breakpoint
CREATE UNIQUE INDEX "alert_escalations_group" ON "alert_escalations" USING btree ("group_id");--> statement-breakpoint
CREATE INDEX "alert_escalations_due" ON "alert_escalations" USING btree ("due_at") WHERE "alert_escalations"."status" = 'active';--> statement-breakpoint
CREATE INDEX "alert_events_group" ON "alert_events" USING btree ("group_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "alert_groups_live_fingerprint" ON "alert_groups" USING btree ("fingerprint") WHERE "alert_groups"."status" <> 'resolved';--> statement-breakpoint
CREATE INDEX "alert_groups_last_at" ON "alert_groups" USING btree ("last_at");--> statement-breakpoint
CREATE UNIQUE INDEX "alert_pages_once" ON "alert_pages" USING btree ("group_id","round","step","user_id");--> statement-breakpoint
CREATE INDEX "alert_tests_at" ON "alert_tests" USING btree ("at");--> statement-breakpoint
CREATE INDEX "oncall_overrides_range" ON "oncall_overrides" USING btree ("starts_at","ends_at");