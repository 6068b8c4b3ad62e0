// Owns reading trades from the ledger: open positions to resume, closed trades to check.
import { and, asc, eq } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { trades, type Trade } from '../../db/schema/index.js';
import type { Mode } from '../../services/bot-state.js';

export async function openTrades(db: Db, mode: Mode): Promise<Trade[]> {
  return db.select().from(trades).where(and(eq(trades.status, 'open'), eq(trades.mode, mode))).orderBy(asc(trades.id));
}

export async function closedTrades(db: Db): Promise<Trade[]> {
  return db.select().from(trades).where(eq(trades.status, 'closed')).orderBy(asc(trades.id));
}
