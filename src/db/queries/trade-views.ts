// Owns the SQL behind `ctb trades` and `ctb balance` (and /trades, /balance): the open trades in id
// order, the last closed ones, and the paper book's latest equity snapshot (the replay book's only
// marks outside the engine's process, and which feed it last traded on).
import { and, desc, eq, isNotNull } from 'drizzle-orm';
import type { Db } from '../client.js';
import { equitySnapshots, trades, type EquitySnapshot, type Trade } from '../schema/index.js';

export async function openTradesById(db: Db): Promise<Trade[]> {
  return db.select().from(trades).where(eq(trades.status, 'open')).orderBy(trades.id);
}

/** The `limit` most recently closed trades, newest first. */
export async function lastClosedTrades(db: Db, limit: number): Promise<Trade[]> {
  // exit_at is set on every closed trade; said here so the plan can walk trades_exit_at_exited (open trades are not in it).
  return db.select().from(trades).where(and(eq(trades.status, 'closed'), isNotNull(trades.exitAt))).orderBy(desc(trades.exitAt), desc(trades.id)).limit(limit);
}

export async function latestPaperSnapshot(db: Db): Promise<EquitySnapshot | undefined> {
  const [snap] = await db.select().from(equitySnapshots).where(eq(equitySnapshots.mode, 'paper')).orderBy(desc(equitySnapshots.at), desc(equitySnapshots.id)).limit(1);
  return snap;
}

/** A book's latest equity snapshot (the replay book's marks outside the engine's process, as stats reads them). */
export async function latestSnapshotOf(db: Db, book: { mode: 'paper' | 'live'; feed: 'kraken' | 'replay' }): Promise<EquitySnapshot | undefined> {
  const [snap] = await db.select().from(equitySnapshots)
    .where(and(eq(equitySnapshots.mode, book.mode), eq(equitySnapshots.feed, book.feed)))
    .orderBy(desc(equitySnapshots.at), desc(equitySnapshots.id)).limit(1);
  return snap;
}
