// Owns reading trades and fills from the ledger for the engine: open positions to resume or flatten,
// closed trades to check, and the fills already booked for an intent (joined with what Kraken streams);
// and the closed-trade check's sums (fills per intent, split trades per entry order).
import { and, asc, eq, sql } from 'drizzle-orm';
import { execute, type Db } from '../client.js';
import { fills, orderIntents, trades, type Fill, type Trade } from '../schema/index.js';

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

/** For the closed-trade check: each intent's filled quantity and fees, summed exactly (numeric as text). */
export async function fillSumsByIntent(db: Db): Promise<Array<{ intentId: number; quantity: string; fee: string }>> {
  const rows = await execute<{ intent_id: number; quantity: string; fee: string }>(db, sql`
    select ${fills.intentId} as intent_id, sum(${fills.quantity})::text as quantity, sum(${fills.fee})::text as fee
    from ${fills} group by ${fills.intentId}`);
  return rows.map((r) => ({ intentId: Number(r.intent_id), quantity: r.quantity, fee: r.fee }));
}

/** For the closed-trade check: when every intent was written. */
export async function intentTimes(db: Db): Promise<Array<{ id: number; createdAt: Date }>> {
  return db.select({ id: orderIntents.id, createdAt: orderIntents.createdAt }).from(orderIntents);
}

/**
 * Quantity and entry fee summed over every trade born of one entry order, for the entry orders a
 * partial exit split (a closed part and an open rest share the entry order).
 */
export async function splitTradeSumsByEntryIntent(db: Db): Promise<Array<{ entryIntentId: number; quantity: string; fee: string }>> {
  const rows = await execute<{ entry_intent_id: number; quantity: string; fee: string }>(db, sql`
    select ${trades.entryIntentId} as entry_intent_id, sum(${trades.quantity})::text as quantity, sum(${trades.entryFee})::text as fee
    from ${trades} where ${trades.entryIntentId} in (select ${trades.entryIntentId} from ${trades} where ${trades.splitFromTradeId} is not null)
    group by ${trades.entryIntentId}`);
  return rows.map((r) => ({ entryIntentId: Number(r.entry_intent_id), quantity: r.quantity, fee: r.fee }));
}
