DROP INDEX "alert_escalations_due";--> statement-breakpoint
ALTER TABLE "alert_deliveries" ADD COLUMN "cancelled_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "alert_deliveries" ADD COLUMN "cancelled_reason" text;--> statement-breakpoint
ALTER TABLE "alert_escalations" ADD COLUMN "round_base" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "alert_escalations_due" ON "alert_escalations" USING btree ("due_at") WHERE "alert_escalations"."status" in ('active', 'silenced');--> statement-breakpoint
-- A silence used to stop the escalation for good: pause those timers instead, due when the silence
-- ends (already past: the next tick starts the ladder again if the group is still open).
UPDATE "alert_escalations" e SET "status" = 'silenced', "due_at" = g."silenced_until"
FROM "alert_groups" g
WHERE g."id" = e."group_id" AND e."status" = 'stopped' AND e."stopped_reason" LIKE 'silenced%'
  AND g."status" = 'open' AND g."silenced_until" IS NOT NULL;
