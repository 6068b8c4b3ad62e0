CREATE TABLE "mode_change_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"request_id" bigint NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"kind" text NOT NULL,
	"actor" text NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "mode_change_requests" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"requester" text NOT NULL,
	"requester_source" text NOT NULL,
	"from_mode" text NOT NULL,
	"to_mode" text NOT NULL,
	"status" text DEFAULT 'requested' NOT NULL,
	"reason" text,
	"slack_channel" text,
	"slack_ts" text,
	"created_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"audit_run_id" bigint,
	"audit_summary" text,
	"criteria" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"approved_at" timestamp with time zone,
	"switch_audit_run_id" bigint,
	"switch_audit_summary" text,
	"snapshot_ref" text,
	"snapshot_id" text,
	"outcome" text,
	"decided_at" timestamp with time zone,
	"decided_by" text,
	CONSTRAINT "mode_change_requests_changes_mode" CHECK ("mode_change_requests"."from_mode" <> "mode_change_requests"."to_mode"),
	CONSTRAINT "mode_change_requests_expiry_after_creation" CHECK ("mode_change_requests"."expires_at" >= "mode_change_requests"."created_at"),
	CONSTRAINT "mode_change_requests_live_switch_complete" CHECK ("mode_change_requests"."status" <> 'switched' or "mode_change_requests"."to_mode" <> 'live' or ("mode_change_requests"."approved_at" is not null and "mode_change_requests"."switch_audit_run_id" is not null and "mode_change_requests"."snapshot_ref" is not null and "mode_change_requests"."slack_ts" is not null and "mode_change_requests"."requester_source" = 'slack')),
	CONSTRAINT "mode_change_requests_decided" CHECK ("mode_change_requests"."status" in ('requested', 'approved') or "mode_change_requests"."decided_at" is not null)
);
--> statement-breakpoint
CREATE TABLE "mode_change_votes" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"request_id" bigint NOT NULL,
	"slack_user" text NOT NULL,
	"kind" text NOT NULL,
	"added_at" timestamp with time zone NOT NULL,
	"withdrawn_at" timestamp with time zone,
	"last_event_ts" text
);
--> statement-breakpoint
ALTER TABLE "mode_change_events" ADD CONSTRAINT "mode_change_events_request_id_mode_change_requests_id_fk" FOREIGN KEY ("request_id") REFERENCES "public"."mode_change_requests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mode_change_votes" ADD CONSTRAINT "mode_change_votes_request_id_mode_change_requests_id_fk" FOREIGN KEY ("request_id") REFERENCES "public"."mode_change_requests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "mode_change_events_request" ON "mode_change_events" USING btree ("request_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "mode_change_requests_one_open" ON "mode_change_requests" USING btree ("to_mode") WHERE "mode_change_requests"."status" in ('requested', 'approved');--> statement-breakpoint
CREATE UNIQUE INDEX "mode_change_requests_message" ON "mode_change_requests" USING btree ("slack_channel","slack_ts");--> statement-breakpoint
CREATE INDEX "mode_change_requests_created_at" ON "mode_change_requests" USING btree ("created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "mode_change_votes_once" ON "mode_change_votes" USING btree ("request_id","slack_user","kind");