CREATE TABLE "slack_deliveries" (
	"key" text PRIMARY KEY NOT NULL,
	"surface" text NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"retry_num" integer
);
--> statement-breakpoint
CREATE INDEX "slack_deliveries_received_at" ON "slack_deliveries" USING btree ("received_at");