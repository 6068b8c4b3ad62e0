-- When an order intent was written, on the database's clock, never moved by an update: how long it has
-- been unresolved, for recovery's stuck-order warning, whichever process (with whatever clock) wrote it.
-- state_changed_at cannot tell it: on a live intent it moves on every update, and a booking rewrites an
-- open intent on every pass of the fill follower. Existing intents count from the migration.
ALTER TABLE "order_intents" ADD COLUMN "written_at" timestamp with time zone DEFAULT now() NOT NULL;
