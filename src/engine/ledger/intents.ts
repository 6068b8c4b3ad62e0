// Owns order intents: the record, written and committed BEFORE an order is sent, that an order is
// about to exist — with the client order id the exchange will know it by. A restart resolves every
// intent still pending/open against the exchange instead of guessing.
import { randomUUID } from 'node:crypto';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { asyncCommitCte } from '../../db/async-commit.js';
import { execute, type Db } from '../../db/client.js';
import { orderIntents, type OrderIntent } from '../../db/schema/index.js';
import type { Mode } from '../../services/bot-state.js';
import type { FeedKind } from '../../market/types.js';

export interface NewIntent {
  mode: Mode;
  feed: FeedKind;
  strategy: string;
  symbol: string;
  side: 'buy' | 'sell';
  purpose: 'entry' | 'exit' | 'flatten';
  type: 'market' | 'limit';
  quantity: string;
  limitPrice?: string;
  /** The trade an exit closes. */
  tradeId?: number;
  at: Date;
}

/** A fresh client order id: a UUID, which Kraken accepts as cl_ord_id. */
export function newClientOrderId(): string {
  return randomUUID();
}

/**
 * Writes the intent and returns once it is committed. A live intent waits for the WAL flush (the order
 * is about to reach a real exchange); a paper intent commits asynchronously (see db/async-commit.ts).
 */
export async function writeIntent(db: Db, intent: NewIntent): Promise<OrderIntent> {
  const row: Omit<OrderIntent, 'id'> = {
    clientOrderId: newClientOrderId(), mode: intent.mode, feed: intent.feed, strategy: intent.strategy, symbol: intent.symbol,
    side: intent.side, purpose: intent.purpose, type: intent.type, quantity: intent.quantity, limitPrice: intent.limitPrice ?? null,
    status: 'pending', exchangeOrderId: null, tradeId: intent.tradeId ?? null, error: null, createdAt: intent.at, updatedAt: intent.at,
  };
  if (intent.mode === 'live') return (await db.insert(orderIntents).values(row).returning())[0]!;
  const rows = await execute<{ id: number | string }>(db, sql`
    with ${asyncCommitCte}
    insert into ${orderIntents} (client_order_id, mode, feed, strategy, symbol, side, purpose, type, quantity, limit_price, status, trade_id, created_at, updated_at)
    select ${row.clientOrderId}, ${row.mode}, ${row.feed}, ${row.strategy}, ${row.symbol}, ${row.side}, ${row.purpose}, ${row.type},
      ${row.quantity}::numeric, ${row.limitPrice}::numeric, 'pending', ${row.tradeId}::bigint, ${intent.at.toISOString()}::timestamptz,
      ${intent.at.toISOString()}::timestamptz
    from s returning id`);
  return { id: Number(rows[0]!.id), ...row };
}

export async function markIntent(db: Db, p: { id: number; status: OrderIntent['status']; error?: string; exchangeOrderId?: string; at: Date }): Promise<void> {
  await db.update(orderIntents).set({
    status: p.status, updatedAt: p.at,
    ...(p.error !== undefined ? { error: p.error.slice(0, 1000) } : {}),
    ...(p.exchangeOrderId !== undefined ? { exchangeOrderId: p.exchangeOrderId } : {}),
  }).where(eq(orderIntents.id, p.id));
}

/** Intents whose outcome the ledger does not know yet: pending (maybe sent), sent, or resting open. */
export async function unresolvedIntents(db: Db, mode?: Mode): Promise<OrderIntent[]> {
  const open = inArray(orderIntents.status, ['pending', 'sent', 'open']);
  return db.select().from(orderIntents).where(mode ? and(open, eq(orderIntents.mode, mode)) : open).orderBy(orderIntents.id);
}
