// Fixture factories over the ledger tables (trades, equity_snapshots), for any area's tests.
// Each builder takes overrides and fills the rest with consistent values: a closed trade's
// realized_pnl is (exit − entry) × quantity − entry fee − exit fee unless given, and a snapshot's
// peak and drawdown follow the snapshots inserted before it in the same call.
import { Decimal } from 'decimal.js';
import type { Db } from '../../../src/db/client.js';
import { equitySnapshots, trades } from '../../../src/db/schema/index.js';

type TradeInsert = typeof trades.$inferInsert;
type SnapshotInsert = typeof equitySnapshots.$inferInsert;

let nextIntent = 1;

export interface TradeOverrides extends Partial<TradeInsert> {
  /** Shorthand for exitAt on closed trades and entryAt on open ones (ISO string or Date). */
  at?: string | Date;
}

/** A closed paper trade on the kraken feed; override anything. */
export function closedTrade(o: TradeOverrides = {}): TradeInsert {
  const exitAt = new Date(o.exitAt ?? o.at ?? '2026-01-05T10:30:00Z');
  const entryAt = new Date(o.entryAt ?? exitAt.getTime() - 60 * 60_000);
  const quantity = o.quantity ?? '1';
  const entryPrice = o.entryPrice ?? '100';
  const exitPrice = o.exitPrice ?? '110';
  const entryFee = o.entryFee ?? '0';
  const exitFee = o.exitFee ?? '0';
  const realizedPnl =
    o.realizedPnl ??
    new Decimal(exitPrice).minus(entryPrice).times(quantity).minus(entryFee).minus(exitFee).toString();
  const { at: _at, ...rest } = o;
  return {
    mode: 'paper',
    feed: 'kraken',
    strategy: 'ma-cross',
    symbol: 'BTC/USD',
    capitalBuffer: '1000',
    entryIntentId: nextIntent++,
    exitIntentId: nextIntent++,
    ...rest,
    status: 'closed',
    quantity,
    entryPrice,
    exitPrice,
    entryFee,
    exitFee,
    realizedPnl,
    entryAt,
    exitAt,
  };
}

/** An open paper trade on the kraken feed; override anything. */
export function openTrade(o: TradeOverrides = {}): TradeInsert {
  const { at, ...rest } = o;
  return {
    mode: 'paper',
    feed: 'kraken',
    strategy: 'ma-cross',
    symbol: 'BTC/USD',
    quantity: '1',
    entryPrice: '100',
    entryFee: '0',
    entryIntentId: nextIntent++,
    ...rest,
    entryAt: new Date(o.entryAt ?? at ?? '2026-01-05T11:00:00Z'),
    status: 'open',
    exitPrice: null,
    exitFee: null,
    exitAt: null,
    realizedPnl: null,
    capitalBuffer: null,
  };
}

export async function insertTrades(db: Db, rows: TradeInsert[]): Promise<void> {
  if (rows.length > 0) await db.insert(trades).values(rows);
}

export interface SnapshotPoint {
  at: string | Date;
  equity: string;
  cash?: string;
  mode?: 'paper' | 'live';
  feed?: 'kraken' | 'replay';
}

/** Equity snapshots with peak_equity and drawdown_pct computed across the points given (per book). */
export function equityCurve(points: SnapshotPoint[]): SnapshotInsert[] {
  const peaks = new Map<string, Decimal>();
  return points.map((p) => {
    const mode = p.mode ?? 'paper';
    const feed = p.feed ?? 'kraken';
    const key = `${mode}/${feed}`;
    const equity = new Decimal(p.equity);
    const peak = Decimal.max(peaks.get(key) ?? equity, equity);
    peaks.set(key, peak);
    return {
      mode,
      feed,
      at: new Date(p.at),
      equity: equity.toString(),
      cash: p.cash ?? equity.toString(),
      peakEquity: peak.toString(),
      drawdownPct: peak.minus(equity).div(peak).times(100).toDecimalPlaces(8).toString(),
    };
  });
}

export async function insertSnapshots(db: Db, points: SnapshotPoint[]): Promise<void> {
  if (points.length > 0) await db.insert(equitySnapshots).values(equityCurve(points));
}
