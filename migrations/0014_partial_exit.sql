DROP INDEX "trades_entry_intent_id";--> statement-breakpoint
ALTER TABLE "trades" ADD COLUMN "split_from_trade_id" integer;--> statement-breakpoint
CREATE UNIQUE INDEX "trades_exit_intent_id" ON "trades" USING btree ("exit_intent_id");--> statement-breakpoint
CREATE UNIQUE INDEX "trades_entry_intent_id" ON "trades" USING btree ("entry_intent_id") WHERE split_from_trade_id is null;