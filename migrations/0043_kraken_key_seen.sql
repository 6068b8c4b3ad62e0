-- When an engine last took the lease with the Kraken key or armed, and on which host: kept after a clean stop
-- (the lease row is deleted then), so a keyless kill never takes a keyed bot's database for one that never used Kraken.
ALTER TABLE "bot_state" ADD COLUMN "kraken_key_seen_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "bot_state" ADD COLUMN "kraken_key_seen_host" text;