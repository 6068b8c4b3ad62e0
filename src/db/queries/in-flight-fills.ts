// Owns the read of what orders still in flight have filled: intents not settled yet (pending, sent,
// open) with the fills already booked under them, summed per order. A trade row is written only when
// its order resolves, so these fills are in no trade yet — but they are the bot's all the same. And
// the exits in flight, filled or not: their trades stay open until the exit resolves.
import { and, eq, inArray, isNotNull, ne, sql } from 'drizzle-orm';
import { execute, type Db } from '../client.js';
import { UNSETTLED_STATUSES } from '../../domain/order-status.js';
import { orderIntents, unsettledStatusList, type OrderIntent } from '../schema/index.js';

export interface InFlightFillRow {
  intentId: number;
  mode: OrderIntent['mode'];
  feed: OrderIntent['feed'];
  strategy: string;
  symbol: string;
  side: OrderIntent['side'];
  purpose: OrderIntent['purpose'];
  /** The trade an exit or flatten closes. */
  tradeId: number | null;
  /** What the order asked for. */
  ordered: string;
  /** What its booked fills add up to, their cost (Σ quantity × price) and fees (in the quote). */
  filled: string;
  cost: string;
  fees: string;
  firstFillAt: Date;
  lastFillAt: Date;
  /** The entry price of the trade an exit or flatten closes (null for an entry). */
  tradeEntryPrice: string | null;
}

/** Orders in flight with at least one fill booked, oldest first. */
export async function inFlightFills(db: Db): Promise<InFlightFillRow[]> {
  const rows = await execute<Omit<InFlightFillRow, 'intentId' | 'tradeId' | 'firstFillAt' | 'lastFillAt'> & {
    intentId: string | number; tradeId: string | number | null; firstFillAt: Date | string; lastFillAt: Date | string;
  }>(db, sql`
    select i.id as "intentId", i.mode, i.feed, i.strategy, i.symbol, i.side, i.purpose, i.trade_id as "tradeId", i.quantity::text as ordered,
      sum(f.quantity)::text as filled, sum(f.quantity * f.price)::text as cost, sum(f.fee)::text as fees,
      min(f.filled_at) as "firstFillAt", max(f.filled_at) as "lastFillAt", max(t.entry_price)::text as "tradeEntryPrice"
    from order_intents i join fills f on f.intent_id = i.id left join trades t on t.id = i.trade_id
    where i.status in ${unsettledStatusList}
    group by i.id
    order by i.id`);
  return rows.map((r) => ({
    ...r, intentId: Number(r.intentId), tradeId: r.tradeId === null ? null : Number(r.tradeId), firstFillAt: new Date(r.firstFillAt), lastFillAt: new Date(r.lastFillAt),
  }));
}

/** An exit (or flatten) in flight, filled or not: the trade it sells and what it asked. */
export interface ExitInFlightRow {
  intentId: number;
  tradeId: number;
  ordered: string;
}

/** Exits and flattens in flight (sent, not resolved), with or without fills, oldest first. */
export async function exitsInFlight(db: Db): Promise<ExitInFlightRow[]> {
  const rows = await db.select({ intentId: orderIntents.id, tradeId: orderIntents.tradeId, ordered: orderIntents.quantity }).from(orderIntents)
    .where(and(inArray(orderIntents.status, [...UNSETTLED_STATUSES]), ne(orderIntents.purpose, 'entry'), isNotNull(orderIntents.tradeId), eq(orderIntents.side, 'sell')))
    .orderBy(orderIntents.id);
  return rows.map((r) => ({ intentId: r.intentId, tradeId: r.tradeId!, ordered: r.ordered }));
}
