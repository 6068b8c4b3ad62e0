CREATE TABLE "paper_orders" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"exchange_order_id" text NOT NULL,
	"client_order_id" text NOT NULL,
	"symbol" text NOT NULL,
	"side" text NOT NULL,
	"type" text NOT NULL,
	"status" text NOT NULL,
	"quantity" numeric(38, 18) NOT NULL,
	"limit_price" numeric(38, 18),
	"exchange_trade_id" text,
	"price" numeric(38, 18),
	"fee" numeric(38, 18),
	"fee_currency" text,
	"liquidity" text,
	"created_at" timestamp with time zone NOT NULL,
	"filled_at" timestamp with time zone
);
--> statement-breakpoint
CREATE UNIQUE INDEX "paper_orders_client_order_id" ON "paper_orders" USING btree ("client_order_id");--> statement-breakpoint
CREATE INDEX "paper_orders_status" ON "paper_orders" USING btree ("status");--> statement-breakpoint
CREATE INDEX "paper_orders_filled_at" ON "paper_orders" USING btree ("filled_at");--> statement-breakpoint
CREATE UNIQUE INDEX "trades_entry_intent_id" ON "trades" USING btree ("entry_intent_id");