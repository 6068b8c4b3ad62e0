// Owns telling whether a failed live reconciliation's differences are only timing: a live order that
// rested in Kraken's book with every fill booked when self-heal probed Kraken's open orders, and
// filled (in part or whole) before the reconciliation read Kraken's trade history. Kraken then lists
// trades the ledger has not booked yet (the engine's fill follower books them a moment later), and
// its balances have moved by them. Narrow on purpose, since what is explained here pages nobody:
// only trades of those orders, made after the probe, adding up to no more than rested then; a
// balance shortfall only as far as those trades make it; a mismatched fill, a fill missing on
// Kraken, a trade of any other order or from before the probe is not timing.
import { Decimal } from '../../money.js';
import type { ReconcileReport } from '../reconcile/reconcile.js';

/** The live orders resting in Kraken's book at the probe with every fill booked, and when it was asked. */
export interface RestingAtProbe {
  /** This process's clock when the probe that listed them was sent. */
  probedAt: Date;
  /** Exchange order id → the quantity still to fill at the probe. */
  remaining: ReadonlyMap<string, Decimal>;
}

/** What a reconciliation report says differs. */
export type ReconcileDifferences = Pick<ReconcileReport, 'mismatched' | 'missingOnExchange' | 'recentUnmatched' | 'balances'>;

type Trade = ReconcileReport['recentUnmatched'][number];

export interface FilledWhileReconciling {
  /** Kraken's trades, not in the ledger, that are resting orders filling after the probe. */
  trades: Trade[];
  /**
   * Every other difference, one phrase each (balance shortfalls first: the amounts matter most, and an
   * alert's title keeps 300 characters): none when all of them are those trades.
   */
  unexplained: string[];
}

/**
 * How far before the probe, on this process's clock, Kraken may stamp a trade that came after it:
 * Kraken's clock and this host's are two clocks.
 */
export const KRAKEN_CLOCK_ALLOWANCE_MS = 60_000;

/** When the resting orders were known: the probe, in an operator's words. */
const LISTED = 'when self-heal listed open orders';

/** At most this many trades are named one by one. */
const NAMED = 3;

export function filledWhileReconciling(
  report: ReconcileDifferences, resting: RestingAtProbe,
  /** How far Kraken may hold less of an asset than the ledger with those trades booked (its rounding). */
  tolerance: (asset: string) => Decimal,
): FilledWhileReconciling {
  const counted: string[] = [];
  if (report.mismatched.length > 0) counted.push(`${report.mismatched.length} mismatched fill(s)`);
  if (report.missingOnExchange.length > 0) counted.push(`${report.missingOnExchange.length} fill(s) missing on Kraken`);
  const after = resting.probedAt.getTime() - KRAKEN_CLOCK_ALLOWANCE_MS;
  const others: string[] = [];
  const byOrder = new Map<string, Trade[]>();
  for (const t of report.recentUnmatched) {
    if (!resting.remaining.has(t.orderId)) others.push(`trade ${t.tradeId} of order ${t.orderId}, not resting with its fills booked ${LISTED}`);
    else if (Date.parse(t.at) < after) others.push(`trade ${t.tradeId} of order ${t.orderId}, made before self-heal listed open orders (${t.at})`);
    else byOrder.set(t.orderId, [...(byOrder.get(t.orderId) ?? []), t]);
  }
  const trades: Trade[] = [];
  for (const [orderId, ofOrder] of byOrder) {
    const total = ofOrder.reduce((sum, t) => sum.plus(t.quantity), new Decimal(0));
    const left = resting.remaining.get(orderId)!;
    if (total.gt(left)) others.push(`order ${orderId}'s trades add up to ${total.toFixed()}, more than the ${left.toFixed()} resting ${LISTED}`);
    else trades.push(...ofOrder);
  }
  const unexplained: string[] = [];
  for (const b of report.balances) {
    if (b.status !== 'exchange_holds_less') continue;
    // The difference (Kraken − ledger) with those trades booked in the ledger.
    const left = trades.reduce((diff, t) => diff.minus(movedBy(t, b.asset)), new Decimal(b.diff));
    if (left.lt(tolerance(b.asset).neg())) unexplained.push(`Kraken holds ${left.neg().toFixed()} ${b.asset} less than the ledger${trades.length > 0 ? ' would with those trades booked' : ''}`);
  }
  unexplained.push(...counted, ...others.slice(0, NAMED), ...(others.length > NAMED ? [`${others.length - NAMED} more trade(s) like them`] : []));
  return { trades, unexplained };
}

/** Kraken holding less than the ledger, in plain words: one phrase per asset. */
export function shortfalls(balances: ReconcileDifferences['balances']): string[] {
  return balances.filter((b) => b.status === 'exchange_holds_less').map((b) => `Kraken holds ${new Decimal(b.diff).neg().toFixed()} ${b.asset} less than the ledger`);
}

/** How `t` moves what the account holds of `asset`: base in or out at its quantity, quote by its cost, and the fee out of the currency it was charged in. */
function movedBy(t: Trade, asset: string): Decimal {
  const [base, quote] = t.symbol.split('/');
  const sign = t.side === 'buy' ? 1 : -1;
  let moved = new Decimal(0);
  if (asset === base) moved = moved.plus(new Decimal(t.quantity).times(sign));
  if (asset === quote) moved = moved.plus(new Decimal(t.quantity).times(t.price).times(-sign));
  if (asset === t.feeCurrency) moved = moved.minus(t.fee);
  return moved;
}
