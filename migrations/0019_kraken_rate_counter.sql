CREATE TABLE "kraken_rate_counter" (
	"key_id" text NOT NULL,
	"process" text NOT NULL,
	"refused_at" timestamp with time zone NOT NULL,
	"refused_call" text NOT NULL,
	CONSTRAINT "kraken_rate_counter_key_id_process_pk" PRIMARY KEY("key_id","process")
);
--> statement-breakpoint
CREATE INDEX "kraken_rate_counter_key_refused" ON "kraken_rate_counter" USING btree ("key_id","refused_at");