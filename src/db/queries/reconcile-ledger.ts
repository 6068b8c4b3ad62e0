// Owns the SQL reconciliation reads from the ledger and the intents: every live fill in the narrow
// shape the matcher reads (load-ledger.ts says why it is prepared, unmapped and unsorted), the live
// fills and intents a start-up reconciliation compares with Kraken, and the intents `ctb reconcile
// adopt` reads, writes and takes back.
import { and, eq, inArray, min, or, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { executePrepared } from '../prepared.js';
import { fills, orderIntents, type Fill, type OrderIntent } from '../schema/index.js';

/** A live fill as the matcher names its columns; the time as epoch milliseconds. */
export interface LiveFillRow {
  id: number;
  clientOrderId: string;
  exchangeTradeId: string;
  exchangeOrderId: string | null;
  symbol: string;
  side: Fill['side'];
  quantity: string;
  price: string;
  fee: string;
  filledAtMs: number;
}

/** Every live fill (paper fills never reach the exchange), in no promised order. */
export async function liveFillRows(db: Db): Promise<LiveFillRow[]> {
  // Prepared (one round trip); the time as epoch milliseconds, so the driver parses a number per
  // row instead of a timestamp string (exact: the ledger keeps microseconds, a Date keeps milliseconds).
  return executePrepared<LiveFillRow>(db, sql`
    select id::float8 as "id", client_order_id as "clientOrderId", exchange_trade_id as "exchangeTradeId",
      exchange_order_id as "exchangeOrderId", symbol, side, quantity::text as quantity, price::text as price, fee::text as fee,
      floor(extract(epoch from filled_at) * 1000)::float8 as "filledAtMs"
    from fills where mode = 'live'`);
}

/** When the first live intent was created: where a never-reconciled ledger starts. */
export async function earliestLiveIntentAt(db: Db): Promise<Date | null> {
  const [row] = await db.select({ first: min(orderIntents.createdAt) }).from(orderIntents).where(eq(orderIntents.mode, 'live'));
  return row?.first ?? null;
}

export type LiveIntentView = Pick<OrderIntent, 'id' | 'clientOrderId' | 'exchangeOrderId' | 'status' | 'symbol' | 'side' | 'purpose'>;

/** Live intents naming any of these Kraken txids or client order ids (none asked: none). */
export async function liveIntentsFor(db: Db, txids: string[], clientIds: string[]): Promise<LiveIntentView[]> {
  const conds = [];
  if (txids.length > 0) conds.push(inArray(orderIntents.exchangeOrderId, txids));
  if (clientIds.length > 0) conds.push(inArray(orderIntents.clientOrderId, clientIds));
  if (conds.length === 0) return [];
  return db.select({
    id: orderIntents.id, clientOrderId: orderIntents.clientOrderId, exchangeOrderId: orderIntents.exchangeOrderId, status: orderIntents.status,
    symbol: orderIntents.symbol, side: orderIntents.side, purpose: orderIntents.purpose,
  }).from(orderIntents).where(and(eq(orderIntents.mode, 'live'), or(...conds)));
}

/** Live fills after `since`, or of any of these Kraken trade ids or order txids. */
export async function liveFillsSinceOrOf(db: Db, since: Date, tradeIds: string[], orderIds: string[]): Promise<Fill[]> {
  const conds = [sql`${fills.filledAt} > ${since.toISOString()}::timestamptz`];
  if (tradeIds.length > 0) conds.push(inArray(fills.exchangeTradeId, tradeIds));
  if (orderIds.length > 0) conds.push(inArray(fills.exchangeOrderId, orderIds));
  return db.select().from(fills).where(and(eq(fills.mode, 'live'), or(...conds)));
}

export async function intentById(db: Db, id: number): Promise<OrderIntent | null> {
  const [row] = await db.select().from(orderIntents).where(eq(orderIntents.id, id));
  return row ?? null;
}

export async function insertIntent(db: Db, values: typeof orderIntents.$inferInsert): Promise<OrderIntent> {
  const [row] = await db.insert(orderIntents).values(values).returning();
  return row!;
}

/** Deletes the intent only while it is still pending (nothing was recorded under it). */
export async function deletePendingIntent(db: Db, id: number): Promise<void> {
  await db.delete(orderIntents).where(and(eq(orderIntents.id, id), eq(orderIntents.status, 'pending')));
}
