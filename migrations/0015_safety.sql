CREATE TABLE "engine_lease" (
	"id" integer PRIMARY KEY DEFAULT 1 NOT NULL,
	"holder_id" text NOT NULL,
	"host" text NOT NULL,
	"pid" integer NOT NULL,
	"role" text NOT NULL,
	"feed" text NOT NULL,
	"armed" boolean NOT NULL,
	"has_kraken_keys" boolean NOT NULL,
	"acquired_at" timestamp with time zone NOT NULL,
	"heartbeat_at" timestamp with time zone NOT NULL,
	"taken_over_from" text,
	CONSTRAINT "engine_lease_singleton" CHECK ("engine_lease"."id" = 1)
);
--> statement-breakpoint
CREATE TABLE "engine_requests" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"requested_by" text NOT NULL,
	"requested_at" timestamp with time zone NOT NULL,
	"incident_id" integer,
	"checklist_item" text,
	"params" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"claimed_by" text,
	"claimed_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"result" jsonb,
	"error" text
);
--> statement-breakpoint
ALTER TABLE "bot_state" ADD COLUMN "entries_paused_by" text;--> statement-breakpoint
ALTER TABLE "bot_state" ADD COLUMN "entries_paused_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "bot_state" ADD COLUMN "reconciled_through" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "bot_state" ADD COLUMN "reconciliation_blocked" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "bot_state" ADD COLUMN "reconciliation_details" jsonb;--> statement-breakpoint
ALTER TABLE "fills" ADD COLUMN "charged_fee" numeric(38, 18);--> statement-breakpoint
ALTER TABLE "fills" ADD COLUMN "charged_fee_currency" text;--> statement-breakpoint
ALTER TABLE "incident_checklist_items" ADD COLUMN "state" text DEFAULT 'todo' NOT NULL;--> statement-breakpoint
ALTER TABLE "incident_checklist_items" ADD COLUMN "request_id" integer;--> statement-breakpoint
CREATE INDEX "engine_requests_open" ON "engine_requests" USING btree ("status","id");--> statement-breakpoint
UPDATE "incident_checklist_items" SET "state" = 'done' WHERE "done_at" IS NOT NULL;