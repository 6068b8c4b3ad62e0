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

/** A live fill as liveFillRows reads it: the trade id, and the rest packed in one text (unpackFillRows). */
export interface PackedFillRow {
  t: string;
  p: string;
}

/** Every live fill (paper fills never reach the exchange), in no promised order. */
export async function liveFillRows(db: Db): Promise<LiveFillRow[]> {
  const packed = await executePrepared<PackedFillRow>(db, sql`
    select exchange_trade_id as t,
      concat_ws(' ', quantity::text, price::text, fee::text, ${FILLED_AT_MS}, id::float8, octet_length(side),
        octet_length(symbol), octet_length(client_order_id), coalesce(octet_length(exchange_order_id), -1))
      || ' ' || side || symbol || client_order_id || coalesce(exchange_order_id, '') as p
    from fills where mode = 'live'`);
  const rows = unpackFillRows(packed);
  return rows ?? liveFillColumns(db);
}

// The time as epoch milliseconds, so no timestamp string is parsed per row (exact: the ledger keeps
// microseconds, a Date keeps milliseconds).
const FILLED_AT_MS = sql.raw('floor(extract(epoch from filled_at) * 1000)::float8');

/**
 * The same rows one column each: what liveFillRows falls back to when a row's texts are not all
 * ASCII (the packed form's byte lengths then say nothing about where a text ends in a JS string).
 */
export async function liveFillColumns(db: Db): Promise<LiveFillRow[]> {
  return executePrepared<LiveFillRow>(db, sql`
    select id::float8 as "id", client_order_id as "clientOrderId", exchange_trade_id as "exchangeTradeId",
      exchange_order_id as "exchangeOrderId", symbol, side, quantity::text as quantity, price::text as price, fee::text as fee,
      ${FILLED_AT_MS} as "filledAtMs"
    from fills where mode = 'live'`);
}

/**
 * Reads the packed rows: "quantity price fee filledAtMs id", the byte lengths of the side, symbol,
 * client order id and order id (-1: none), a space, then those four texts back to back; the trade id
 * comes as a column of its own. Two columns per row instead of ten: at 100,000 fills the driver's
 * per-column decoding was most of the load. The trade id stays a column because the matcher hashes
 * and compares it once per fill, and a string cut out of a longer one (as the packed texts are)
 * costs more there than the column does here. The numbers are the texts the columns carried (a
 * number's text has no space). A text's byte length is its JS length only when it is ASCII, and the
 * JS length of a row's texts equals the sum of their byte lengths exactly when all of them are (any
 * other character is more bytes in UTF-8 than units in UTF-16, or not valid UTF-8 at all): a row
 * where the sum differs makes this answer null, and the caller reads the columns instead.
 */
export function unpackFillRows(packed: readonly PackedFillRow[]): LiveFillRow[] | null {
  const out: LiveFillRow[] = new Array(packed.length);
  let side = '';
  let symbol = '';
  for (let i = 0; i < packed.length; i++) {
    const row = packed[i]!;
    const p = row.p;
    let a = 0;
    let b = p.indexOf(' ');
    const quantity = p.slice(a, b);
    b = p.indexOf(' ', (a = b + 1));
    const price = p.slice(a, b);
    b = p.indexOf(' ', (a = b + 1));
    const fee = p.slice(a, b);
    b = p.indexOf(' ', (a = b + 1));
    const filledAtMs = +p.slice(a, b);
    b = p.indexOf(' ', (a = b + 1));
    const id = +p.slice(a, b);
    b = p.indexOf(' ', (a = b + 1));
    const sideLength = +p.slice(a, b);
    b = p.indexOf(' ', (a = b + 1));
    const symbolLength = +p.slice(a, b);
    b = p.indexOf(' ', (a = b + 1));
    const clientLength = +p.slice(a, b);
    b = p.indexOf(' ', (a = b + 1));
    const orderLength = +p.slice(a, b);
    a = b + 1;
    if (p.length - a !== sideLength + symbolLength + clientLength + Math.max(orderLength, 0)) return null;
    // Sides and pairs repeat row after row: the previous row's string is reused when the text is the same.
    if (sideLength !== side.length || !p.startsWith(side, a)) side = p.slice(a, a + sideLength);
    a += sideLength;
    if (symbolLength !== symbol.length || !p.startsWith(symbol, a)) symbol = p.slice(a, a + symbolLength);
    a += symbolLength;
    const clientOrderId = p.slice(a, (a += clientLength));
    const exchangeOrderId = orderLength < 0 ? null : p.slice(a);
    out[i] = { id, clientOrderId, exchangeTradeId: row.t, exchangeOrderId, symbol, side: side as LiveFillRow['side'], quantity, price, fee, filledAtMs };
  }
  return out;
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
