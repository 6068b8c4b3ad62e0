CREATE TABLE "trade_stats_daily" (
	"mode" text NOT NULL,
	"feed" text NOT NULL,
	"strategy" text NOT NULL,
	"day" timestamp with time zone NOT NULL,
	"closed" integer NOT NULL,
	"wins" integer NOT NULL,
	"losses" integer NOT NULL,
	"realized_pnl" numeric NOT NULL,
	"fees" numeric NOT NULL,
	"deployed" numeric NOT NULL,
	CONSTRAINT "trade_stats_daily_mode_feed_strategy_day_pk" PRIMARY KEY("mode","feed","strategy","day")
);
--> statement-breakpoint
CREATE INDEX "trade_stats_daily_day" ON "trade_stats_daily" USING btree ("day");