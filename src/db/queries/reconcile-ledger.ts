// Owns the SQL reconciliation reads from the ledger and the intents: every live fill in the narrow
// shape the matcher reads (load-ledger.ts says why it is prepared, unmapped and unsorted), the live
// fills and intents a start-up reconciliation compares with Kraken, and the intents `ctb reconcile
// adopt` reads, writes and takes back.
import { and, eq, inArray, min, or, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { executePrepared, forEachPrepared } from '../prepared.js';
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

/** A live fill as liveFillRows reads it: the trade and order ids, and the rest packed in one text (PackedFillReader). */
export interface PackedFillRow {
  t: string;
  o: string | null;
  p: string;
}

/** Every live fill (paper fills never reach the exchange), in no promised order. */
export async function liveFillRows(db: Db): Promise<LiveFillRow[]> {
  const reader = new PackedFillReader();
  const rows: LiveFillRow[] = [];
  let readable = true;
  // Each row is read as it arrives: only the fills made of them outlive the query.
  await forEachPrepared<PackedFillRow>(db, sql`
    select exchange_trade_id as t, exchange_order_id as o,
      concat_ws(chr(1), quantity, price, fee, encode(timestamptz_send(filled_at), 'hex'), id, side, symbol, client_order_id) as p
    from fills where mode = 'live'`, (row) => {
    if (!readable) return;
    const fill = reader.read(row);
    if (fill) rows.push(fill);
    else readable = false;
  });
  return readable ? rows : liveFillColumns(db);
}

// The time as epoch milliseconds, so no timestamp string is parsed per row (exact: the ledger keeps
// microseconds, a Date keeps milliseconds).
const FILLED_AT_MS = sql.raw('floor(extract(epoch from filled_at) * 1000)::float8');

/**
 * The same rows one column each: what liveFillRows falls back to when a row's packed text cannot be
 * read back unambiguously (a text holding the separator, a time past 2285).
 */
export async function liveFillColumns(db: Db): Promise<LiveFillRow[]> {
  return executePrepared<LiveFillRow>(db, sql`
    select id::float8 as "id", client_order_id as "clientOrderId", exchange_trade_id as "exchangeTradeId",
      exchange_order_id as "exchangeOrderId", symbol, side, quantity::text as quantity, price::text as price, fee::text as fee,
      ${FILLED_AT_MS} as "filledAtMs"
    from fills where mode = 'live'`);
}

/** What packs a row's fields: a control character no id, pair or side is expected to hold. */
const SEP = '\u0001';
/** 2000-01-01T00:00:00Z, where PostgreSQL counts its microseconds from, in epoch milliseconds. */
const PG_EPOCH_MS = 946_684_800_000;

/**
 * Reads packed rows: quantity, price, fee, the time, id, side, symbol and client order id, in
 * that order, separated by U+0001; the trade and order ids come as columns of their own (the order
 * id may be null, which a column says and concat_ws would drop). Three columns per row instead of
 * ten: at 100,000 fills the driver's per-column decoding was most of the load. The trade id stays a
 * column because the matcher hashes and compares it once per fill, and a string cut out of a longer
 * one (as the packed texts are) costs more there than the column does here. The amounts are the
 * columns' own texts; the time is PostgreSQL's own (its binary form in hex: microseconds since 2000
 * as a signed 64-bit integer), which the server writes for a fraction of what extract(epoch …)'s
 * exact decimal arithmetic cost it (about a third of the query), and which is read here exactly
 * into floored epoch milliseconds. Every packed field is NOT NULL, so a row has exactly seven
 * separators unless a text holds one: such a row, or a time too far out for a double to count its
 * microseconds (past 2285, or infinity), makes read() answer null, and liveFillRows reads the
 * columns instead.
 */
class PackedFillReader {
  #side = '';
  #symbol = '';

  /** One packed row as a fill, or null when it cannot be read back unambiguously. */
  read(row: PackedFillRow): LiveFillRow | null {
    const p = row.p;
    let a = 0;
    let b = p.indexOf(SEP);
    if (b < 0) return null;
    const quantity = p.slice(a, b);
    if ((b = p.indexOf(SEP, (a = b + 1))) < 0) return null;
    const price = p.slice(a, b);
    if ((b = p.indexOf(SEP, (a = b + 1))) < 0) return null;
    const fee = p.slice(a, b);
    if ((b = p.indexOf(SEP, (a = b + 1))) < 0) return null;
    const filledAtMs = b - a === 16 ? epochMsOfPgTime(p, a) : NaN;
    if (Number.isNaN(filledAtMs)) return null;
    if ((b = p.indexOf(SEP, (a = b + 1))) < 0) return null;
    const id = integerAt(p, a, b);
    if ((b = p.indexOf(SEP, (a = b + 1))) < 0) return null;
    // Sides and pairs repeat row after row: the previous row's string is reused when the text is the same.
    if (b - a !== this.#side.length || !p.startsWith(this.#side, a)) this.#side = p.slice(a, b);
    if ((b = p.indexOf(SEP, (a = b + 1))) < 0) return null;
    if (b - a !== this.#symbol.length || !p.startsWith(this.#symbol, a)) this.#symbol = p.slice(a, b);
    a = b + 1;
    if (p.indexOf(SEP, a) >= 0) return null;
    const clientOrderId = p.slice(a);
    return { id, clientOrderId, exchangeTradeId: row.t, exchangeOrderId: row.o, symbol: this.#symbol, side: this.#side as LiveFillRow['side'], quantity, price, fee, filledAtMs };
  }
}

/** The decimal integer text p[a, b) as a number: digit by digit while exact, else as Number() reads it. */
function integerAt(p: string, a: number, b: number): number {
  if (b - a > 15) return +p.slice(a, b);
  let n = 0;
  for (let k = a; k < b; k++) {
    const d = p.charCodeAt(k) - 48;
    if (d < 0 || d > 9) return +p.slice(a, b);
    n = n * 10 + d;
  }
  return b > a ? n : +p.slice(a, b);
}

/**
 * Sixteen hex digits at p[a] — PostgreSQL's timestamptz, microseconds since 2000-01-01 UTC as a
 * signed 64-bit integer — as epoch milliseconds rounded down (as floor(extract(epoch …) * 1000)
 * gives them); NaN for anything else, or a count of microseconds a double cannot hold exactly.
 */
function epochMsOfPgTime(p: string, a: number): number {
  const hi = hexAt(p, a);
  const lo = hexAt(p, a + 8);
  // hi as a signed 32-bit integer: |microseconds| < 2^53 when -2^21 <= hi < 2^21.
  const high = hi >= 0x80000000 ? hi - 0x100000000 : hi;
  if (Number.isNaN(lo) || !(high >= -0x200000 && high < 0x200000)) return NaN;
  const micros = high * 0x100000000 + lo;
  const rest = micros % 1000;
  return (micros - rest) / 1000 - (rest < 0 ? 1 : 0) + PG_EPOCH_MS;
}

/** Eight lowercase hex digits at p[a] as an unsigned number; NaN if any is not one. */
function hexAt(p: string, a: number): number {
  let n = 0;
  for (let k = a; k < a + 8; k++) {
    const c = p.charCodeAt(k);
    const d = c <= 57 ? c - 48 : c - 87;
    if (d < 0 || d > 15 || (c > 57 && c < 97)) return NaN;
    n = n * 16 + d;
  }
  return n;
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
