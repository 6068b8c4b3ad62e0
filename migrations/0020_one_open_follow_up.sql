-- Follow-ups open side by side from before this index (one incident's, or halts' without one) cannot all stay: the one the incident's cancel item waits on (else the newest) goes on, the others stop.
WITH "open" AS (
	SELECT r."id", coalesce(r."incident_id", 0) AS "incident", (i."id" IS NOT NULL) AS "waited_on" FROM "engine_requests" r
	LEFT JOIN "incident_checklist_items" i ON i."incident_id" = r."incident_id" AND i."item" = 'cancel_orders' AND i."request_id" = r."id"
	WHERE r."kind" = 'cancel_all' AND r."status" IN ('pending', 'running') AND (r."params" ->> 'followUp') = 'true'
), "kept" AS (
	SELECT DISTINCT ON ("incident") "incident", "id" FROM "open" ORDER BY "incident", "waited_on" DESC, "id" DESC
)
UPDATE "engine_requests" e SET "status" = 'failed', "finished_at" = now(),
	"error" = 'Stopped: request #' || k."id" || ' goes on with this cancel (one open follow-up at a time).'
FROM "open" o JOIN "kept" k ON k."incident" = o."incident"
WHERE e."id" = o."id" AND o."id" <> k."id";--> statement-breakpoint
CREATE UNIQUE INDEX "engine_requests_one_open_follow_up" ON "engine_requests" USING btree (coalesce("incident_id", 0)) WHERE "engine_requests"."kind" = 'cancel_all' and "engine_requests"."status" in ('pending', 'running') and ("engine_requests"."params" ->> 'followUp') = 'true';