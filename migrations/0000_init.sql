CREATE TABLE "bot_state" (
	"id" integer PRIMARY KEY DEFAULT 1 NOT NULL,
	"mode" text DEFAULT 'paper' NOT NULL,
	"halted" boolean DEFAULT false NOT NULL,
	"halted_reason" text,
	"halted_at" timestamp with time zone,
	"halted_by" text,
	"entries_paused" boolean DEFAULT false NOT NULL,
	"entries_paused_reason" text,
	"engine_heartbeat_at" timestamp with time zone,
	"version" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "bot_state_singleton" CHECK ("bot_state"."id" = 1)
);
--> statement-breakpoint
CREATE TABLE "equity_snapshots" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"mode" text NOT NULL,
	"feed" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"equity" numeric(38, 18) NOT NULL,
	"cash" numeric(38, 18) NOT NULL,
	"peak_equity" numeric(38, 18) NOT NULL,
	"drawdown_pct" numeric(38, 18) NOT NULL
);
--> statement-breakpoint
CREATE TABLE "fills" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"intent_id" integer NOT NULL,
	"client_order_id" text NOT NULL,
	"exchange_trade_id" text NOT NULL,
	"exchange_order_id" text,
	"mode" text NOT NULL,
	"feed" text NOT NULL,
	"symbol" text NOT NULL,
	"side" text NOT NULL,
	"quantity" numeric(38, 18) NOT NULL,
	"price" numeric(38, 18) NOT NULL,
	"fee" numeric(38, 18) NOT NULL,
	"fee_currency" text NOT NULL,
	"filled_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "order_intents" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"client_order_id" text NOT NULL,
	"mode" text NOT NULL,
	"feed" text NOT NULL,
	"strategy" text NOT NULL,
	"symbol" text NOT NULL,
	"side" text NOT NULL,
	"purpose" text NOT NULL,
	"type" text NOT NULL,
	"quantity" numeric(38, 18) NOT NULL,
	"limit_price" numeric(38, 18),
	"status" text DEFAULT 'pending' NOT NULL,
	"exchange_order_id" text,
	"trade_id" integer,
	"error" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "paper_balances" (
	"asset" text PRIMARY KEY NOT NULL,
	"total" numeric(38, 18) NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "risk_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"kind" text NOT NULL,
	"value" numeric(38, 18) NOT NULL,
	"threshold" numeric(38, 18) NOT NULL,
	"action" text NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "trades" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"mode" text NOT NULL,
	"feed" text NOT NULL,
	"strategy" text NOT NULL,
	"symbol" text NOT NULL,
	"status" text NOT NULL,
	"quantity" numeric(38, 18) NOT NULL,
	"entry_price" numeric(38, 18) NOT NULL,
	"entry_fee" numeric(38, 18) NOT NULL,
	"entry_at" timestamp with time zone NOT NULL,
	"exit_price" numeric(38, 18),
	"exit_fee" numeric(38, 18),
	"exit_at" timestamp with time zone,
	"realized_pnl" numeric(38, 18),
	"capital_buffer" numeric(38, 18),
	"entry_intent_id" integer NOT NULL,
	"exit_intent_id" integer,
	CONSTRAINT "trades_closed_complete" CHECK ("trades"."status" <> 'closed' or ("trades"."exit_price" is not null and "trades"."exit_at" is not null and "trades"."realized_pnl" is not null and "trades"."capital_buffer" is not null))
);
--> statement-breakpoint
CREATE TABLE "audit_runs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"actor" text NOT NULL,
	"mode" text NOT NULL,
	"dry_run" boolean NOT NULL,
	"passed" boolean NOT NULL,
	"summary" text NOT NULL,
	"results" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "command_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"source" text NOT NULL,
	"actor" text NOT NULL,
	"command" text NOT NULL,
	"args" text NOT NULL,
	"allowed" boolean NOT NULL,
	"result" text NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE INDEX "equity_snapshots_at" ON "equity_snapshots" USING btree ("mode","at");--> statement-breakpoint
CREATE UNIQUE INDEX "fills_exchange_trade_id" ON "fills" USING btree ("mode","exchange_trade_id");--> statement-breakpoint
CREATE INDEX "fills_filled_at" ON "fills" USING btree ("filled_at");--> statement-breakpoint
CREATE UNIQUE INDEX "order_intents_client_order_id" ON "order_intents" USING btree ("client_order_id");--> statement-breakpoint
CREATE INDEX "order_intents_status" ON "order_intents" USING btree ("status");--> statement-breakpoint
CREATE INDEX "trades_status" ON "trades" USING btree ("status","mode");--> statement-breakpoint
CREATE INDEX "trades_exit_at" ON "trades" USING btree ("exit_at");--> statement-breakpoint
CREATE INDEX "audit_runs_at" ON "audit_runs" USING btree ("at");--> statement-breakpoint
CREATE INDEX "command_log_at" ON "command_log" USING btree ("at");