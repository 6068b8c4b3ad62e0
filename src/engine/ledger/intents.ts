// Owns order intents: the record, written and committed BEFORE an order is sent, that an order is
// about to exist — with the client order id the exchange will know it by. A restart resolves every
// intent still pending/open against the exchange instead of guessing.
import { randomUUID } from 'node:crypto';
import { and, eq, inArray, sql, type SQL } from 'drizzle-orm';
import { asyncCommitCte } from '../../db/async-commit.js';
import { type Db } from '../../db/client.js';
import { executePrepared } from '../../db/prepared.js';
import { botState, orderIntents, type OrderIntent } from '../../db/schema/index.js';
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
 * Writes the intent — only if bot_state allows this order at this instant (not halted; no entries
 * while paused; the engine's mode still the effective one; a kill's flatten is always allowed) — and returns once it is committed, or
 * null when bot_state forbade it. Checking and writing in one statement leaves no gap for a halt,
 * and the check locks bot_state's row FOR SHARE, so it is a fence against a kill in another
 * process: a kill's update waits for an intent being written (which the kill then sees pending and
 * waits out), and an intent written while a kill's update is uncommitted waits for it and then
 * re-reads `halted` on the committed row (READ COMMITTED re-checks a locked row) — never both.
 * A live intent waits for the WAL flush (the order is about to reach a real exchange); a paper
 * intent commits asynchronously (see db/async-commit.ts). `closed`: the intent is written already
 * closed (refused or rejected before anything was sent), under the same check.
 */
export async function writeIntent(
  db: Db, intent: NewIntent, guard: { armed: boolean }, closed?: { status: 'refused' | 'rejected'; error: string },
): Promise<OrderIntent | null> {
  const row: Omit<OrderIntent, 'id'> = {
    clientOrderId: newClientOrderId(), mode: intent.mode, feed: intent.feed, strategy: intent.strategy, symbol: intent.symbol,
    side: intent.side, purpose: intent.purpose, type: intent.type, quantity: intent.quantity, limitPrice: intent.limitPrice ?? null,
    status: closed?.status ?? 'pending', exchangeOrderId: null, tradeId: intent.tradeId ?? null, error: closed ? closed.error.slice(0, 1000) : null,
    createdAt: intent.at, updatedAt: intent.at,
  };
  const paper = intent.mode === 'paper';
  const rows = await executePrepared<{ id: number | string }>(db, sql`
    with ${paper ? sql`${asyncCommitCte},` : sql``} ${intentAllowedCte(row, guard)}
    insert into ${orderIntents} (client_order_id, mode, feed, strategy, symbol, side, purpose, type, quantity, limit_price, status, trade_id, error, created_at, updated_at)
    select ${row.clientOrderId}, ${row.mode}, ${row.feed}, ${row.strategy}, ${row.symbol}, ${row.side}, ${row.purpose}, ${row.type},
      ${row.quantity}::numeric, ${row.limitPrice}::numeric, ${row.status}, ${row.tradeId}::bigint, ${row.error}::text, ${intent.at.toISOString()}::timestamptz,
      ${intent.at.toISOString()}::timestamptz
    from allowed ${paper ? sql`cross join s` : sql``} returning id`);
  return rows[0] ? { id: Number(rows[0].id), ...row } : null;
}

/**
 * The CTE `allowed`: one row when bot_state allows this intent now, with bot_state's row locked FOR
 * SHARE (the fence against a kill described at writeIntent). effectiveMode() in SQL: live only when
 * armed, requested live and not halted (halted is excluded anyway).
 */
export function intentAllowedCte(intent: Pick<OrderIntent, 'mode' | 'purpose'>, guard: { armed: boolean }): SQL {
  const modeHolds = intent.mode === 'paper' ? sql`not (${guard.armed}::boolean and b.mode = 'live')` : sql`(${guard.armed}::boolean and b.mode = 'live')`;
  return sql`allowed as (select 1 from ${botState} b where b.id = 1 and (${intent.purpose} = 'flatten'
      or (not b.halted and (${intent.purpose} <> 'entry' or not b.entries_paused) and ${modeHolds})) for share of b)`;
}

export async function markIntent(db: Db, p: { id: number; status: OrderIntent['status']; error?: string; exchangeOrderId?: string; at: Date }): Promise<void> {
  await db.update(orderIntents).set({
    status: p.status, updatedAt: p.at,
    ...(p.error !== undefined ? { error: p.error.slice(0, 1000) } : {}),
    ...(p.exchangeOrderId !== undefined ? { exchangeOrderId: p.exchangeOrderId } : {}),
  }).where(eq(orderIntents.id, p.id));
}

/** Intents whose outcome the ledger does not know yet: pending (maybe sent), sent, or resting open. */
/**
 * A mark that changes whenever a live order intent is written or changes status: compared before and
 * after a reconciliation, it tells whether an order went out or was booked while Kraken was read.
 */
export async function liveIntentsMark(db: Db): Promise<string> {
  const [row] = await db.select({ n: sql<string>`count(*)`, id: sql<string | null>`max(${orderIntents.id})`, at: sql<string | null>`max(${orderIntents.updatedAt})::text` })
    .from(orderIntents).where(eq(orderIntents.mode, 'live'));
  return `${row?.n ?? 0}:${row?.id ?? ''}:${row?.at ?? ''}`;
}

export async function unresolvedIntents(db: Db, mode?: Mode): Promise<OrderIntent[]> {
  const open = inArray(orderIntents.status, ['pending', 'sent', 'open']);
  return db.select().from(orderIntents).where(mode ? and(open, eq(orderIntents.mode, mode)) : open).orderBy(orderIntents.id);
}
