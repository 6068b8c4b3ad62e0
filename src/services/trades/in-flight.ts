// Owns the one rule /balance, /trades, /stats and reconciliation share for orders still in flight:
// what such an order has filled is the bot's already, though no trade row holds it yet (a trade is
// written when its order resolves). An entry's fills are a position the bot holds; an exit's fills
// are base the bot no longer holds — its trade's open exposure is what the trade still holds — and
// either moved the bot's quote cash.
import type { Db } from '../../db/client.js';
import { inFlightFills, type InFlightFillRow } from '../../db/queries/in-flight-fills.js';
import type { Trade } from '../../db/schema/index.js';
import { Decimal, ZERO, dec } from '../../money.js';

export type { InFlightFillRow };

/** What the views say of a position held by an order in flight. */
export const IN_FLIGHT_NOTE = 'order in flight, partly filled';

/** An entry in flight with fills: the position its fills hold so far, priced at their average. */
export interface InFlightPosition {
  intentId: number;
  mode: Trade['mode'];
  feed: Trade['feed'];
  strategy: string;
  symbol: string;
  quantity: Decimal;
  ordered: Decimal;
  entryPrice: Decimal;
  entryFee: Decimal;
  entryAt: Date;
}

/** What the views say of an open trade whose exit is in flight and has partly filled. */
export const EXIT_IN_FLIGHT_NOTE = 'exit in flight, partly filled';

/** What the views say of an open trade whose exit is in flight with nothing filled yet: whole, open, at the mark. */
export const EXIT_SENT_NOTE = 'exit in flight, nothing filled yet';

/** An exit (or flatten) in flight with fills: what it sold so far of its trade. */
export interface InFlightExit {
  intentId: number;
  tradeId: number;
  mode: Trade['mode'];
  feed: Trade['feed'];
  sold: Decimal;
  ordered: Decimal;
  /** The sold part at its trade's entry price: the cost basis the trade no longer holds. */
  soldCost: Decimal;
  /** What the sold part brought: the quote its fills sold for, less their fees (open-pnl.ts values it so). */
  soldFor: Decimal;
  lastFillAt: Date;
}

export const loadInFlightFills = (db: Db): Promise<InFlightFillRow[]> => inFlightFills(db);

export function inFlightPositions(rows: readonly InFlightFillRow[]): InFlightPosition[] {
  return rows.filter((r) => r.purpose === 'entry' && dec(r.filled).gt(0)).map((r) => ({
    intentId: r.intentId, mode: r.mode, feed: r.feed, strategy: r.strategy, symbol: r.symbol, quantity: dec(r.filled), ordered: dec(r.ordered),
    entryPrice: dec(r.cost).div(r.filled), entryFee: dec(r.fees), entryAt: r.firstFillAt,
  }));
}

/** Exits in flight with fills, by the trade they sell. */
export function inFlightExits(rows: readonly InFlightFillRow[]): Map<number, InFlightExit> {
  const out = new Map<number, InFlightExit>();
  for (const r of rows) {
    if (r.purpose === 'entry' || r.tradeId === null || !dec(r.filled).gt(0)) continue;
    const sold = dec(r.filled);
    const before = out.get(r.tradeId);
    out.set(r.tradeId, {
      intentId: r.intentId, tradeId: r.tradeId, mode: r.mode, feed: r.feed, sold: sold.plus(before?.sold ?? ZERO), ordered: dec(r.ordered).plus(before?.ordered ?? ZERO),
      soldCost: sold.times(r.tradeEntryPrice ?? 0).plus(before?.soldCost ?? ZERO),
      soldFor: dec(r.cost).minus(r.fees).plus(before?.soldFor ?? ZERO),
      lastFillAt: before && before.lastFillAt > r.lastFillAt ? before.lastFillAt : r.lastFillAt,
    });
  }
  return out;
}

/** What an open trade still holds while its exit is in flight: its quantity less what the exit sold, its entry fee pro rata. */
export function stillHeld(trade: { quantity: string | Decimal; entryFee: string | Decimal }, exit: InFlightExit | undefined): { quantity: Decimal; entryFee: Decimal } {
  const quantity = dec(trade.quantity);
  if (!exit || quantity.isZero()) return { quantity, entryFee: dec(trade.entryFee) };
  const held = Decimal.max(quantity.minus(exit.sold), ZERO);
  return { quantity: held, entryFee: dec(trade.entryFee).times(held).div(quantity) };
}

const baseOf = (symbol: string) => symbol.split('/')[0] ?? symbol;

/**
 * What the bot holds of each base asset in one mode: its open trades, plus what entries in flight
 * bought, less what exits in flight sold. `inFlight` lists the assets an order in flight moved.
 */
export function heldByBot(open: ReadonlyArray<Pick<Trade, 'mode' | 'symbol' | 'quantity'>>, rows: readonly InFlightFillRow[], mode: Trade['mode']): { held: Map<string, Decimal>; inFlight: Set<string> } {
  const held = new Map<string, Decimal>();
  const add = (symbol: string, q: Decimal) => held.set(baseOf(symbol), (held.get(baseOf(symbol)) ?? ZERO).plus(q));
  for (const t of open) if (t.mode === mode) add(t.symbol, dec(t.quantity));
  const inFlight = new Set<string>();
  for (const r of rows) {
    if (r.mode !== mode || dec(r.filled).isZero()) continue;
    add(r.symbol, r.side === 'buy' ? dec(r.filled) : dec(r.filled).neg());
    inFlight.add(baseOf(r.symbol));
  }
  return { held, inFlight };
}

/** What the fills of orders in flight did to the bot's quote cash: buys paid cost and fee, sells brought cost less fee. */
export function inFlightCashFlow(rows: readonly InFlightFillRow[], mode: Trade['mode']): Decimal {
  let flow = ZERO;
  for (const r of rows) {
    if (r.mode !== mode) continue;
    flow = r.side === 'buy' ? flow.minus(r.cost).minus(r.fees) : flow.plus(r.cost).minus(r.fees);
  }
  return flow;
}

