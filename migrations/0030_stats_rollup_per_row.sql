-- The daily rollup follows `trades` row by row, and only for the rows that count in it: a trade
-- that is or was closed. The statement-level triggers ran for every write to `trades` — the engine's
-- every entry (an open trade, nothing to add) paid a PL/pgSQL call and an aggregate over its
-- transition table — and an order's statement writes one trade. A row trigger's WHEN is checked
-- without calling the function, and its function adds one row's figures with a plan kept for the
-- session. The sums are the same: each closed row adds its figures once, each row that leaves
-- (updated away from closed, or deleted) takes them away, exactly as the statement triggers'
-- signed aggregates did (numeric sums are exact, so the order they are added in does not matter).
-- A statement writing many closed trades at once now pays one upsert per row instead of one per
-- (mode, feed, strategy, day): only seeds of test and bench data do that.
CREATE FUNCTION trade_stats_daily_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' AND OLD.status = 'closed' THEN
    INSERT INTO trade_stats_daily AS h (mode, feed, strategy, day, closed, wins, losses, realized_pnl, fees, deployed)
      VALUES (OLD.mode, OLD.feed, OLD.strategy, date_trunc('day', OLD.exit_at, 'UTC'), -1,
              CASE WHEN OLD.realized_pnl > 0 THEN -1 ELSE 0 END, CASE WHEN OLD.realized_pnl < 0 THEN -1 ELSE 0 END,
              -OLD.realized_pnl, -(OLD.entry_fee + coalesce(OLD.exit_fee, 0)), -(OLD.quantity * OLD.entry_price))
    ON CONFLICT (mode, feed, strategy, day) DO UPDATE SET
      closed = h.closed + excluded.closed,
      wins = h.wins + excluded.wins,
      losses = h.losses + excluded.losses,
      realized_pnl = h.realized_pnl + excluded.realized_pnl,
      fees = h.fees + excluded.fees,
      deployed = h.deployed + excluded.deployed;
  END IF;
  IF TG_OP <> 'DELETE' AND NEW.status = 'closed' THEN
    INSERT INTO trade_stats_daily AS h (mode, feed, strategy, day, closed, wins, losses, realized_pnl, fees, deployed)
      VALUES (NEW.mode, NEW.feed, NEW.strategy, date_trunc('day', NEW.exit_at, 'UTC'), 1,
              CASE WHEN NEW.realized_pnl > 0 THEN 1 ELSE 0 END, CASE WHEN NEW.realized_pnl < 0 THEN 1 ELSE 0 END,
              NEW.realized_pnl, NEW.entry_fee + coalesce(NEW.exit_fee, 0), NEW.quantity * NEW.entry_price)
    ON CONFLICT (mode, feed, strategy, day) DO UPDATE SET
      closed = h.closed + excluded.closed,
      wins = h.wins + excluded.wins,
      losses = h.losses + excluded.losses,
      realized_pnl = h.realized_pnl + excluded.realized_pnl,
      fees = h.fees + excluded.fees,
      deployed = h.deployed + excluded.deployed;
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
DROP TRIGGER trades_stats_insert ON trades;
--> statement-breakpoint
DROP TRIGGER trades_stats_update ON trades;
--> statement-breakpoint
DROP TRIGGER trades_stats_delete ON trades;
--> statement-breakpoint
DROP FUNCTION trade_stats_daily_apply();
--> statement-breakpoint
CREATE TRIGGER trades_stats_insert AFTER INSERT ON trades FOR EACH ROW WHEN (NEW.status = 'closed') EXECUTE FUNCTION trade_stats_daily_row();
--> statement-breakpoint
CREATE TRIGGER trades_stats_update AFTER UPDATE ON trades FOR EACH ROW WHEN (OLD.status = 'closed' OR NEW.status = 'closed') EXECUTE FUNCTION trade_stats_daily_row();
--> statement-breakpoint
CREATE TRIGGER trades_stats_delete AFTER DELETE ON trades FOR EACH ROW WHEN (OLD.status = 'closed') EXECUTE FUNCTION trade_stats_daily_row();
