-- state_changed_at moves on every update of a live intent only: recovery's grace is judged on it for
-- live orders alone (a paper order is never queued anywhere), and a replay updates paper intents by
-- the thousand, where calling the trigger's function on each cost the replay's database about a
-- seventh more CPU. A paper intent keeps the time it was written (the column's default).
DROP TRIGGER order_intents_state_changed_at ON order_intents;
--> statement-breakpoint
CREATE TRIGGER order_intents_live_state_changed_at BEFORE UPDATE ON order_intents FOR EACH ROW WHEN (NEW.mode = 'live') EXECUTE FUNCTION order_intents_state_changed_at();
