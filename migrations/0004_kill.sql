CREATE TABLE "incident_checklist_items" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"incident_id" integer NOT NULL,
	"item" text NOT NULL,
	"position" integer NOT NULL,
	"label" text NOT NULL,
	"done_at" timestamp with time zone,
	"done_by" text,
	"outcome" jsonb
);
--> statement-breakpoint
CREATE TABLE "incidents" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"kill_id" text NOT NULL,
	"opened_at" timestamp with time zone NOT NULL,
	"opened_by" text NOT NULL,
	"trigger" text NOT NULL,
	"reason" text NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"cancel_report" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"slack_channel" text,
	"slack_ts" text,
	"closed_at" timestamp with time zone,
	"closed_by" text
);
--> statement-breakpoint
ALTER TABLE "incident_checklist_items" ADD CONSTRAINT "incident_checklist_items_incident_id_incidents_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incidents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "incident_checklist_items_item" ON "incident_checklist_items" USING btree ("incident_id","item");--> statement-breakpoint
CREATE UNIQUE INDEX "incidents_kill_id" ON "incidents" USING btree ("kill_id");--> statement-breakpoint
CREATE UNIQUE INDEX "incidents_one_open" ON "incidents" USING btree ("status") WHERE "incidents"."status" = 'open';--> statement-breakpoint
CREATE INDEX "incidents_opened_at" ON "incidents" USING btree ("opened_at");