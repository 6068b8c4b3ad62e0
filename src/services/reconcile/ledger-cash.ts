// Owns what the ledger says the bot holds of the quote currency on Kraken: the latest live equity
// snapshot's cash (the engine's cash, loaded from Kraken and moved by every fill it booked; a
// snapshot holds every fill stamped at or before it), moved by the trades booked after it (as the
// ROI audit counts them) and by the fills of orders still in flight (in no trade yet).
import { and, count, gt } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { cashFlowAfter, latestSnapshot } from '../../db/queries/roi.js';
import { fills, liveFillsOnly } from '../../db/schema/index.js';
import { Decimal, dec } from '../../money.js';
import { inFlightCashFlow, loadInFlightFills } from '../trades/in-flight.js';

export interface LedgerCash {
  cash: Decimal;
  snapshotAt: Date;
  /** Live fills after the snapshot: each may differ from Kraken's by its rounding. */
  fillsSince: number;
}

const LIVE = { mode: 'live', feed: 'kraken' } as const;

/** null when there is no live equity snapshot: the ledger has no figure for the quote yet. */
export async function ledgerCash(db: Db): Promise<LedgerCash | null> {
  const snap = await latestSnapshot(db, LIVE);
  if (!snap) return null;
  const [flow, inFlight, [since]] = await Promise.all([
    cashFlowAfter(db, LIVE, snap.at), loadInFlightFills(db),
    db.select({ n: count() }).from(fills).where(and(liveFillsOnly, gt(fills.filledAt, snap.at))),
  ]);
  return { cash: dec(snap.cash).plus(flow).plus(inFlightCashFlow(inFlight, 'live')), snapshotAt: snap.at, fillsSince: since?.n ?? 0 };
}

/**
 * How far apart the ledger's quote and Kraken's may be without a shortfall: Kraken keeps USD to four
 * decimals and rounds each trade's cost and fee, so 0.0001 a fill since the snapshot, and never
 * less than a cent.
 */
export function quoteTolerance(c: LedgerCash): Decimal {
  return Decimal.max(dec('0.01'), dec('0.0001').times(c.fillsSince));
}
