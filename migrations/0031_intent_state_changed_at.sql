-- When an order intent was written or last changed, on the database's clock: the moment recovery's
-- grace for an order the exchange does not know yet is judged by, whichever process (with whatever
-- clock) wrote it. updated_at stays on the engine's clock (the market clock in a replay) for what
-- reads it. Existing intents start their grace at the migration.
ALTER TABLE "order_intents" ADD COLUMN "state_changed_at" timestamp with time zone DEFAULT now() NOT NULL;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION order_intents_state_changed_at() RETURNS trigger AS $$
BEGIN
  NEW.state_changed_at := now();
  RETURN NEW;
END
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER order_intents_state_changed_at BEFORE UPDATE ON order_intents FOR EACH ROW EXECUTE FUNCTION order_intents_state_changed_at();
