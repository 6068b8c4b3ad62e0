// Owns order intents: the record, written and committed BEFORE an order is sent, that an order is
// about to exist — with the client order id the exchange will know it by. A restart resolves every
// intent still pending/open against the exchange instead of guessing. The statements live in
// db/queries/ledger-intents.ts; the ones other rooms use are named here too.
import { randomUUID } from 'node:crypto';
import { type Db } from '../../db/client.js';
import { insertIntentWhereAllowed } from '../../db/queries/ledger-intents.js';
import type { OrderIntent } from '../../db/schema/index.js';
import type { Mode } from '../../services/bot-state.js';
import type { FeedKind } from '../../market/types.js';
import { fenceHolder, type IntentLease } from './intent-lease.js';

export { failIntentAfterGrace, intentAllowedCte, intentUnresolvedMs, liveIntentsMark, markIntent, NEVER_PLACED_ERROR, reopenIntent, unresolvedIntents, type NeverPlacedClose } from '../../db/queries/ledger-intents.js';

/** What an intent is written under: whether this process is armed, and whose engine lease (intent-lease.ts). */
export interface IntentGuard {
  armed: boolean;
  lease: IntentLease;
}

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
 * An engine's intent is also written only while the engine lease's row names its holder, that row
 * locked FOR SHARE in the same statement (intent-lease.ts): a fence against a takeover as the halt is
 * against a kill. Null then too; refusedByLease tells the two apart.
 */
export async function writeIntent(
  db: Db, intent: NewIntent, guard: IntentGuard, closed?: { status: 'refused' | 'rejected'; error: string },
): Promise<OrderIntent | null> {
  const row: Omit<OrderIntent, 'id'> = {
    clientOrderId: newClientOrderId(), mode: intent.mode, feed: intent.feed, strategy: intent.strategy, symbol: intent.symbol,
    side: intent.side, purpose: intent.purpose, type: intent.type, quantity: intent.quantity, limitPrice: intent.limitPrice ?? null,
    status: closed?.status ?? 'pending', exchangeOrderId: null, tradeId: intent.tradeId ?? null, error: closed ? closed.error.slice(0, 1000) : null,
    createdAt: intent.at, updatedAt: intent.at,
  };
  const id = await insertIntentWhereAllowed(db, row, { armed: guard.armed, holderId: fenceHolder(guard.lease) });
  return id === null ? null : { id, ...row };
}
