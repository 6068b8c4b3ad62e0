DROP INDEX "order_intents_status";--> statement-breakpoint
DROP INDEX "paper_orders_status";--> statement-breakpoint
CREATE INDEX "order_intents_status" ON "order_intents" USING btree ("status") WHERE "order_intents"."status" in ('pending', 'sent', 'open');--> statement-breakpoint
CREATE INDEX "paper_orders_status" ON "paper_orders" USING btree ("status") WHERE "paper_orders"."status" = 'open';