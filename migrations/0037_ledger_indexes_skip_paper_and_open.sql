-- Fewer index entries per paper order (issue 15: the replay's database side). fills' time index holds
-- live fills only (every query by time is about live fills, and says mode = 'live' as a constant);
-- trades' exit time and exit order indexes leave out open trades (no exit yet; every query on them
-- names a time or an order). Under new names, so that running this again fails instead of passing.
-- equity_snapshots_at stops deduplicating (a book's snapshot times are distinct: nothing to merge),
-- changed in place: a large table's index is not rebuilt.
DROP INDEX "fills_filled_at";--> statement-breakpoint
DROP INDEX "trades_exit_intent_id";--> statement-breakpoint
DROP INDEX "trades_exit_at";--> statement-breakpoint
ALTER INDEX "equity_snapshots_at" SET (deduplicate_items = off);--> statement-breakpoint
CREATE INDEX "fills_filled_at_live" ON "fills" USING btree ("filled_at") WHERE "fills"."mode" = 'live';--> statement-breakpoint
CREATE UNIQUE INDEX "trades_exit_intent_id_exited" ON "trades" USING btree ("exit_intent_id") WHERE "trades"."exit_intent_id" is not null;--> statement-breakpoint
CREATE INDEX "trades_exit_at_exited" ON "trades" USING btree ("exit_at") WHERE "trades"."exit_at" is not null;
