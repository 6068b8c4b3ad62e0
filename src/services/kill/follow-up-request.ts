// Owns writing a kill's follow-up: when a kill (or an incident's "cancel again") answers with Kraken
// not confirmed clear, the cancel goes on as a cancel_all engine request for the running bot with the
// Kraken key (carried out and retried by engine-requests/handlers.ts, cancel-follow-up.ts), tied to
// the incident's cancel item — or, for a halt with no incident (a reconciliation halt), to the halt
// itself (params.halt: its outcome goes to the halt's alert, cancel-follow-up.ts). Whether such a bot runs is read from the engine lease, so the caller
// says which: a bot that picks it up now, or none — then the request waits CANCEL_ALL_STALE_MS for
// one to start, and an incident read past that closes it failed (checklist-records.ts). One follow-up
// is open at a time (the database's index, engine-requests/store.ts): a second writer — the halt's
// cancel and a keyless kill's hand-over both unconfirmed, a later kill — joins it.
import type { Clock } from '../../clock.js';
import type { Config } from '../../config/env.js';
import type { Db } from '../../db/client.js';
import { CANCEL_ALL_STALE_MS, CANCEL_FOLLOW_UP_MS } from '../../domain/cancel-handover.js';
import { describeHolder, keylessRunningBot } from '../../domain/engine-holder.js';
import type { KillFollowUp } from '../../domain/kraken-handoff.js';
import { readEngineHolder } from '../engine-lease/holder-view.js';
import { enqueueFollowUpCancel, withdrawEngineRequest } from '../engine-requests/store.js';
import { describeError, withDeadline } from './deadline.js';

export interface FollowUpDeps {
  db: Db;
  clock: Clock;
  config: Pick<Config, 'KILL_DB_TIMEOUT' | 'ENGINE_LEASE_TTL'>;
}

export interface WrittenFollowUp {
  requestId: number;
  /** true: a follow-up was open already (another kill's, the halt's): this is that one, joined. */
  joined: boolean;
  /** host:pid of the running bot with the key the engine lease names; null: none (or unknown). */
  runningBot: string | null;
  /** The engine lease, described. */
  engine: string;
  /** false: the engine lease could not be read. */
  botKnown: boolean;
  /** host:pid of the running bot when it has no Kraken key; null otherwise. */
  keylessBot: string | null;
  /** Who carries it out, said as a clause ("the running bot … picks it up to cancel and confirm"). */
  who: string;
}

/**
 * Writes the follow-up request (under the database's deadline; a failure throws) and reads who will
 * take it. `supersede`: an earlier follow-up still unclaimed, withdrawn in the same transaction as
 * this one is written — a write that fails (or a process stopped) never leaves neither.
 */
export async function writeFollowUp(
  ctx: FollowUpDeps,
  p: { incidentId: number | null; killId: string; actor: string; reason: string; startedAt: number; halt?: boolean; supersede?: { requestId: number; why: string } },
): Promise<WrittenFollowUp> {
  // waitMs 0: nobody waits for this answer here, so the incident thread tells it (checklist-records.ts).
  const params = { killId: p.killId, reason: p.reason, killStartedAt: new Date(p.startedAt).toISOString(), followUp: true, waitMs: 0, ...(p.halt ? { halt: true } : {}) };
  const request = { requestedBy: p.actor, ...(p.incidentId !== null ? { incidentId: p.incidentId, checklistItem: 'cancel_orders' as const } : {}), params };
  const supersede = p.supersede;
  const { row, joined } = await withDeadline(supersede
    ? ctx.db.transaction(async (tx) => {
      await withdrawEngineRequest(tx, ctx.clock, supersede.requestId, supersede.why);
      return enqueueFollowUpCancel(tx, ctx.clock, request);
    })
    : enqueueFollowUpCancel(ctx.db, ctx.clock, request), ctx.config.KILL_DB_TIMEOUT, 'the database');
  const holder = await withDeadline(readEngineHolder(ctx), ctx.config.KILL_DB_TIMEOUT, 'the database')
    .catch((err: unknown) => ({ unread: describeError(err) }));
  const engine = 'unread' in holder ? `the engine lease could not be read: ${holder.unread}` : describeHolder(holder);
  const runningBot = !('unread' in holder) && holder.state === 'running' && holder.hasKrakenKeys ? `${holder.host}:${holder.pid}` : null;
  const botKnown = !('unread' in holder);
  const keylessBot = 'unread' in holder ? null : keylessRunningBot(holder);
  const minutes = CANCEL_ALL_STALE_MS / 60_000;
  const who = runningBot
    ? `the running bot with the Kraken key (${runningBot}) picks it up to cancel and confirm, trying again until Kraken confirms (up to ${CANCEL_FOLLOW_UP_MS / 60_000} min)`
    : keylessBot
      ? `the running bot ${keylessBot} has no Kraken key; a bot with the key that starts within ${minutes} min picks it up, otherwise it is closed unanswered`
    : botKnown
      ? `no bot with the Kraken key is running now (${engine}); one that starts within ${minutes} min picks it up, otherwise it is closed unanswered`
      : `whether a bot with the Kraken key is running is not known (${engine}); one that runs or starts within ${minutes} min picks it up, otherwise it is closed unanswered`;
  return { requestId: row.id, joined, runningBot, engine, botKnown, keylessBot, who };
}

/** The follow-up as a kill's result carries it: the request and who goes on with it. */
export function killFollowUpOf(written: WrittenFollowUp): Extract<KillFollowUp, { requestId: number }> {
  return { requestId: written.requestId, runningBot: written.runningBot, engine: written.engine, botKnown: written.botKnown, keylessBot: written.keylessBot };
}

/**
 * What a cancel that could not confirm still has pending, as the alert of a kill or of a halt says
 * it: the running bot with the Kraken key that goes on (the engine lease names it), a request that
 * waits for such a bot, or that nothing goes on cancelling.
 */
export function stillPending(followUp: KillFollowUp | undefined, venue = 'Kraken'): string {
  if (!followUp) return `nothing goes on cancelling: orders may remain open on ${venue}`;
  if (!('requestId' in followUp)) return `the cancel could not be handed on (${followUp.error}): orders may remain open on ${venue}`;
  // The key the bot needs is for the venue named: KRAKEN_API_URL's stand-in (venue-name.ts) is not Kraken.
  const kraken = venue === 'Kraken';
  return followUp.runningBot
    ? `pending: the running bot ${kraken ? `with the Kraken key (${followUp.runningBot})` : `(${followUp.runningBot}) with the key for ${venue}`} goes on cancelling as request #${followUp.requestId} until ${venue} confirms none open`
    : `pending: request #${followUp.requestId} waits for a bot with ${kraken ? 'the Kraken key' : `the key for ${venue}`} to go on cancelling; until ${venue} confirms none open, orders may remain`;
}
