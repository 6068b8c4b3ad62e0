// Owns the SQL reconciliation reads from the ledger and the intents: every live fill in the narrow
// shape the matcher reads (load-ledger.ts says why it is prepared, unmapped and unsorted), the live
// fills and intents a start-up reconciliation compares with Kraken, and the intents `ctb reconcile
// adopt` reads, writes and takes back.
import { and, eq, inArray, min, or, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { executePrepared, forEachPrepared } from '../prepared.js';
import { fills, liveFillsOnly, orderIntents, type Fill, type OrderIntent } from '../schema/index.js';
import { LiveFillChunkReader, type LiveFillRow } from './live-fill-chunks.js';

export type { LiveFillRow };

/** Fill ids per chunk of liveFillRows: about half a megabyte of text per chunk when every fill in it is live. */
const CHUNK_IDS = 4096;

/** Every live fill (paper fills never reach the exchange), in no promised order. */
export async function liveFillRows(db: Db): Promise<LiveFillRow[]> {
  const reader = new LiveFillChunkReader();
  let readable = true;
  // One row per range of ids, each a text of its fills (live-fill-chunks.ts), read as it arrives:
  // the server writes the next while this process cuts up the last.
  await forEachPrepared<{ p: string | null }>(db, sql`
    select (
      select concat_ws(chr(2), count(*), count(exchange_order_id), string_agg(concat_ws(chr(1), exchange_trade_id, quantity, price, fee,
        encode(timestamptz_send(filled_at), 'hex'), id, side, symbol, client_order_id, exchange_order_id), chr(2)))
      from fills where id >= r and id < r + ${sql.raw(String(CHUNK_IDS))} and mode = 'live'
    ) as p
    from generate_series((select min(id) from fills), (select max(id) from fills), ${sql.raw(String(CHUNK_IDS))}) as r`, (row) => {
    if (readable) readable = row.p !== null && reader.read(row.p);
  });
  return readable ? reader.fills : liveFillColumns(db);
}

// The time as epoch milliseconds, so no timestamp string is parsed per row (exact: the ledger keeps
// microseconds, a Date keeps milliseconds).
const FILLED_AT_MS = sql.raw('floor(extract(epoch from filled_at) * 1000)::float8');

/**
 * The same fills one column each: what liveFillRows falls back to when a chunk's text cannot be read
 * back unambiguously (a text holding a separator, a time past 2285).
 */
export async function liveFillColumns(db: Db): Promise<LiveFillRow[]> {
  return executePrepared<LiveFillRow>(db, sql`
    select id::float8 as "id", client_order_id as "clientOrderId", exchange_trade_id as "exchangeTradeId",
      exchange_order_id as "exchangeOrderId", symbol, side, quantity::text as quantity, price::text as price, fee::text as fee,
      ${FILLED_AT_MS} as "filledAtMs"
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
  return db.select().from(fills).where(and(liveFillsOnly, or(...conds)));
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
