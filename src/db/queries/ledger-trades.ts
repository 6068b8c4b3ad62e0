// Owns reading trades and fills from the ledger for the engine: open positions to resume or flatten,
// closed trades to check, and the fills already booked for an intent (joined with what Kraken streams).
import { and, asc, eq } from 'drizzle-orm';
import type { Db } from '../client.js';
import { fills, trades, type Fill, type Trade } from '../schema/index.js';

export async function openTrades(db: Db, mode: Trade['mode']): Promise<Trade[]> {
  return db.select().from(trades).where(and(eq(trades.status, 'open'), eq(trades.mode, mode))).orderBy(asc(trades.id));
}

export async function closedTrades(db: Db): Promise<Trade[]> {
  return db.select().from(trades).where(eq(trades.status, 'closed')).orderBy(asc(trades.id));
}

/** The live fills the ledger holds for one intent. */
export async function liveFillsOfIntent(db: Db, intentId: number): Promise<Fill[]> {
  return db.select().from(fills).where(and(eq(fills.intentId, intentId), eq(fills.mode, 'live')));
}
