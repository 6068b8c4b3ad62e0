-- An alert stored late (kept in memory while the database was away) carries its own key: a store that
-- gave up at its deadline but committed all the same makes the next try fail on this index instead of
-- storing the alert twice. Null for every alert written at once.
ALTER TABLE "alert_events" ADD COLUMN "raise_key" text;--> statement-breakpoint
CREATE UNIQUE INDEX "alert_events_raise_key" ON "alert_events" USING btree ("raise_key") WHERE "alert_events"."raise_key" is not null;