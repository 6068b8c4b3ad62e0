// Owns whose engine lease an order intent is written under: the lease as a fence beside bot_state's.
// An engine under a lease keeper writes its intents only where engine_lease's row still names its
// holder id, checked in the intent's own statement with that row locked FOR SHARE
// (db/queries/ledger-intents.ts intentAllowedCte). holdsLease() is a judgement in memory, on time: a
// process paused between it and the write (GC, SIGSTOP, a database that answered late) could write
// an intent after a standby took its stale lease over. The row cannot be wrong that way: a takeover's
// upsert waits for an intent being written (the new engine's halted start-up check then sees it
// pending and resolves it against Kraken), and an intent written after a takeover committed is refused.
// Every writer says which it is: there is no default that skips the check unnoticed.
import type { Db } from '../../db/client.js';
import { readLease } from '../../db/queries/engine-lease.js';
import type { Logger } from '../../logger.js';

export type IntentLease =
  /** An engine under a lease keeper: intents only while the row names `holderId`; `lost` is told when the row refused one. */
  | { kind: 'held'; holderId: string; lost(reason: string): void }
  /**
   * No lease is asked. `alone`: the writer is the only engine on its database by construction (a
   * test's or a bench's engine, a statement test). `removes-risk`: a flatten (a kill's, an incident's),
   * which must never be refused for want of the lease — it runs from `ctb kill` in a process that
   * holds none, and its own check under the order lock never sells a position twice.
   */
  | { kind: 'unfenced'; why: 'alone' | 'removes-risk' };

export const ALONE_BY_CONSTRUCTION: IntentLease = { kind: 'unfenced', why: 'alone' };
export const REMOVES_RISK: IntentLease = { kind: 'unfenced', why: 'removes-risk' };

/** The holder id the intent's statement checks the row for, or null when it checks none. */
export function fenceHolder(lease: IntentLease): string | null {
  return lease.kind === 'held' ? lease.holderId : null;
}

/** What the lease row said when it refused an intent: the holder id it names, or null when there is no row. */
export interface LeaseRefusal {
  leaseHolder: string | null;
}

/**
 * After an intent was not written: whether it was the lease that refused it (the row names another
 * holder, or none). Then it is said — with the holder that has the lease — and the engine is told it
 * lost the lease (it stops trading and stands by, as when a renewal finds the lease taken). Null when
 * the row is still ours or no lease was asked: the refusal was bot_state's.
 */
export async function refusedByLease(ctx: { db: Db; logger: Logger }, lease: IntentLease): Promise<LeaseRefusal | null> {
  if (lease.kind !== 'held') return null;
  const { lease: row } = await readLease(ctx.db);
  if (row?.holderId === lease.holderId) return null;
  const holder = row ? `${row.holderId} (${row.host}:${row.pid}, ${row.role})` : 'no process (the lease row is gone)';
  ctx.logger.error({ holderId: lease.holderId, leaseHolder: row?.holderId ?? null },
    `order intent refused: the engine lease is held by ${holder}, not by this process (${lease.holderId}); no order was sent, and this engine stops trading`);
  lease.lost(`the lease row names ${row ? row.holderId : 'no holder'}: an order intent was refused`);
  return { leaseHolder: row?.holderId ?? null };
}
