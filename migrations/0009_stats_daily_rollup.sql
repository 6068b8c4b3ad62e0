-- The rollup moves from hourly to daily buckets (24x fewer rows to sum for /stats all); the
-- window's ragged edges are still read from trades itself. Same triggers, new target table.
CREATE FUNCTION trade_stats_daily_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO trade_stats_daily AS h (mode, feed, strategy, day, closed, wins, losses, realized_pnl, fees, deployed)
      SELECT mode, feed, strategy, date_trunc('day', exit_at, 'UTC'),
             sum(sgn)::int,
             coalesce(sum(sgn) FILTER (WHERE realized_pnl > 0), 0)::int,
             coalesce(sum(sgn) FILTER (WHERE realized_pnl < 0), 0)::int,
             sum(sgn * realized_pnl), sum(sgn * (entry_fee + coalesce(exit_fee, 0))), sum(sgn * quantity * entry_price)
      FROM (SELECT 1 AS sgn, mode, feed, strategy, exit_at, realized_pnl, entry_fee, exit_fee, quantity, entry_price FROM new_rows WHERE status = 'closed') AS d
      GROUP BY 1, 2, 3, 4
      ORDER BY 1, 2, 3, 4
    ON CONFLICT (mode, feed, strategy, day) DO UPDATE SET
      closed = h.closed + excluded.closed,
      wins = h.wins + excluded.wins,
      losses = h.losses + excluded.losses,
      realized_pnl = h.realized_pnl + excluded.realized_pnl,
      fees = h.fees + excluded.fees,
      deployed = h.deployed + excluded.deployed;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO trade_stats_daily AS h (mode, feed, strategy, day, closed, wins, losses, realized_pnl, fees, deployed)
      SELECT mode, feed, strategy, date_trunc('day', exit_at, 'UTC'),
             sum(sgn)::int,
             coalesce(sum(sgn) FILTER (WHERE realized_pnl > 0), 0)::int,
             coalesce(sum(sgn) FILTER (WHERE realized_pnl < 0), 0)::int,
             sum(sgn * realized_pnl), sum(sgn * (entry_fee + coalesce(exit_fee, 0))), sum(sgn * quantity * entry_price)
      FROM (SELECT 1 AS sgn, mode, feed, strategy, exit_at, realized_pnl, entry_fee, exit_fee, quantity, entry_price FROM new_rows WHERE status = 'closed'
                    UNION ALL SELECT -1 AS sgn, mode, feed, strategy, exit_at, realized_pnl, entry_fee, exit_fee, quantity, entry_price FROM old_rows WHERE status = 'closed') AS d
      GROUP BY 1, 2, 3, 4
      ORDER BY 1, 2, 3, 4
    ON CONFLICT (mode, feed, strategy, day) DO UPDATE SET
      closed = h.closed + excluded.closed,
      wins = h.wins + excluded.wins,
      losses = h.losses + excluded.losses,
      realized_pnl = h.realized_pnl + excluded.realized_pnl,
      fees = h.fees + excluded.fees,
      deployed = h.deployed + excluded.deployed;
  ELSE
    INSERT INTO trade_stats_daily AS h (mode, feed, strategy, day, closed, wins, losses, realized_pnl, fees, deployed)
      SELECT mode, feed, strategy, date_trunc('day', exit_at, 'UTC'),
             sum(sgn)::int,
             coalesce(sum(sgn) FILTER (WHERE realized_pnl > 0), 0)::int,
             coalesce(sum(sgn) FILTER (WHERE realized_pnl < 0), 0)::int,
             sum(sgn * realized_pnl), sum(sgn * (entry_fee + coalesce(exit_fee, 0))), sum(sgn * quantity * entry_price)
      FROM (SELECT -1 AS sgn, mode, feed, strategy, exit_at, realized_pnl, entry_fee, exit_fee, quantity, entry_price FROM old_rows WHERE status = 'closed') AS d
      GROUP BY 1, 2, 3, 4
      ORDER BY 1, 2, 3, 4
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
DROP FUNCTION trade_stats_hourly_apply();
--> statement-breakpoint
CREATE TRIGGER trades_stats_insert AFTER INSERT ON trades REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION trade_stats_daily_apply();
--> statement-breakpoint
CREATE TRIGGER trades_stats_update AFTER UPDATE ON trades REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION trade_stats_daily_apply();
--> statement-breakpoint
CREATE TRIGGER trades_stats_delete AFTER DELETE ON trades REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION trade_stats_daily_apply();
--> statement-breakpoint
INSERT INTO trade_stats_daily (mode, feed, strategy, day, closed, wins, losses, realized_pnl, fees, deployed)
  SELECT mode, feed, strategy, date_trunc('day', exit_at, 'UTC'), count(*)::int,
         count(*) FILTER (WHERE realized_pnl > 0)::int, count(*) FILTER (WHERE realized_pnl < 0)::int,
         sum(realized_pnl), sum(entry_fee + coalesce(exit_fee, 0)), sum(quantity * entry_price)
  FROM trades WHERE status = 'closed'
  GROUP BY 1, 2, 3, 4;
