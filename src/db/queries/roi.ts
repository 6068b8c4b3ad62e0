// Owns the ROI audit's reads: equity snapshots at period boundaries, realized PnL and the cost of
// open positions at a moment, per book (mode + feed) and per strategy. Sums are done in SQL on
// numeric columns (exact), read back as strings.
import { and, asc, desc, eq, gt, gte, isNull, lte, or, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { equitySnapshots, trades, type EquitySnapshot } from '../schema/index.js';

export interface Book {
  mode: 'paper' | 'live';
  feed: 'kraken' | 'replay';
}

export async function booksWithSnapshots(db: Db): Promise<Book[]> {
  return db.selectDistinct({ mode: equitySnapshots.mode, feed: equitySnapshots.feed }).from(equitySnapshots).orderBy(equitySnapshots.mode, equitySnapshots.feed);
}

const inBook = (b: Book) => and(eq(equitySnapshots.mode, b.mode), eq(equitySnapshots.feed, b.feed));

/** The last snapshot at or before `at`, else the first after it (a book younger than the period). */
export async function snapshotAtOrAfter(db: Db, book: Book, at: Date): Promise<EquitySnapshot | null> {
  const [before] = await db.select().from(equitySnapshots).where(and(inBook(book), lte(equitySnapshots.at, at))).orderBy(desc(equitySnapshots.at), desc(equitySnapshots.id)).limit(1);
  if (before) return before;
  const [after] = await db.select().from(equitySnapshots).where(and(inBook(book), gte(equitySnapshots.at, at))).orderBy(asc(equitySnapshots.at), asc(equitySnapshots.id)).limit(1);
  return after ?? null;
}

export async function latestSnapshot(db: Db, book: Book): Promise<EquitySnapshot | null> {
  const [row] = await db.select().from(equitySnapshots).where(inBook(book)).orderBy(desc(equitySnapshots.at), desc(equitySnapshots.id)).limit(1);
  return row ?? null;
}

const tradesOf = (b: Book) => and(eq(trades.mode, b.mode), eq(trades.feed, b.feed));

/** Realized PnL of the book's trades closed in (from, to]. */
export async function realizedBetween(db: Db, book: Book, from: Date, to: Date): Promise<string> {
  const [row] = await db.select({ pnl: sql<string>`coalesce(sum(${trades.realizedPnl}), 0)::text` }).from(trades)
    .where(and(tradesOf(book), eq(trades.status, 'closed'), gt(trades.exitAt, from), lte(trades.exitAt, to)));
  return row?.pnl ?? '0';
}

/** What the book's positions open at `at` cost (quantity × entry price + entry fee). */
export async function openCostAt(db: Db, book: Book, at: Date): Promise<string> {
  const [row] = await db.select({ cost: sql<string>`coalesce(sum(${trades.quantity} * ${trades.entryPrice} + ${trades.entryFee}), 0)::text` }).from(trades)
    .where(and(tradesOf(book), lte(trades.entryAt, at), or(isNull(trades.exitAt), gt(trades.exitAt, at))));
  return row?.cost ?? '0';
}

/**
 * What the book's cash changed by through trades booked after `after`: entries paid (quantity ×
 * entry price + entry fee), exits received (quantity × exit price − exit fee).
 */
export async function cashFlowAfter(db: Db, book: Book, after: Date): Promise<string> {
  const t = sql`${after.toISOString()}::timestamptz`;
  const [row] = await db.select({
    flow: sql<string>`(coalesce(sum(case when ${trades.exitAt} > ${t} then ${trades.quantity} * ${trades.exitPrice} - ${trades.exitFee} else 0 end), 0)
      - coalesce(sum(case when ${trades.entryAt} > ${t} then ${trades.quantity} * ${trades.entryPrice} + ${trades.entryFee} else 0 end), 0))::text`,
  }).from(trades).where(and(tradesOf(book), or(gt(trades.entryAt, after), gt(trades.exitAt, after))));
  return row?.flow ?? '0';
}

/** The quantity of each symbol the book's open trades hold now. */
export async function openQuantities(db: Db, book: Book): Promise<Array<{ symbol: string; quantity: string }>> {
  return db.select({ symbol: trades.symbol, quantity: sql<string>`sum(${trades.quantity})::text` }).from(trades)
    .where(and(tradesOf(book), eq(trades.status, 'open'))).groupBy(trades.symbol).orderBy(trades.symbol);
}

export interface StrategyRow {
  strategy: string;
  closedTrades: number;
  realizedPnl: string;
  deployed: string;
}

export async function realizedByStrategy(db: Db, book: Book, from: Date, to: Date): Promise<StrategyRow[]> {
  return db.select({
    strategy: trades.strategy,
    closedTrades: sql<number>`count(*)::int`,
    realizedPnl: sql<string>`coalesce(sum(${trades.realizedPnl}), 0)::text`,
    deployed: sql<string>`coalesce(sum(${trades.quantity} * ${trades.entryPrice}), 0)::text`,
  }).from(trades)
    .where(and(tradesOf(book), eq(trades.status, 'closed'), gt(trades.exitAt, from), lte(trades.exitAt, to)))
    .groupBy(trades.strategy).orderBy(trades.strategy);
}
