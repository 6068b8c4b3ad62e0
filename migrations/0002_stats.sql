CREATE TABLE "scheduled_reports" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"period_key" text NOT NULL,
	"period_from" timestamp with time zone NOT NULL,
	"period_to" timestamp with time zone NOT NULL,
	"claimed_by" text NOT NULL,
	"claimed_at" timestamp with time zone NOT NULL,
	"lease_until" timestamp with time zone NOT NULL,
	"attempts" integer DEFAULT 1 NOT NULL,
	"posted_at" timestamp with time zone,
	"slack_ts" text,
	"last_error" text
);
--> statement-breakpoint
CREATE TABLE "trade_stats_hourly" (
	"mode" text NOT NULL,
	"feed" text NOT NULL,
	"strategy" text NOT NULL,
	"hour" timestamp with time zone NOT NULL,
	"closed" integer NOT NULL,
	"wins" integer NOT NULL,
	"losses" integer NOT NULL,
	"realized_pnl" numeric NOT NULL,
	"fees" numeric NOT NULL,
	"deployed" numeric NOT NULL,
	CONSTRAINT "trade_stats_hourly_mode_feed_strategy_hour_pk" PRIMARY KEY("mode","feed","strategy","hour")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "scheduled_reports_period" ON "scheduled_reports" USING btree ("kind","period_key");--> statement-breakpoint
CREATE INDEX "scheduled_reports_unposted" ON "scheduled_reports" USING btree ("lease_until") WHERE "scheduled_reports"."posted_at" is null;--> statement-breakpoint
CREATE INDEX "trade_stats_hourly_hour" ON "trade_stats_hourly" USING btree ("hour");