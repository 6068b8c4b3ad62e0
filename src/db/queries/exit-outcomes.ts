// Owns the statements that make an exit's outcome reach someone: the requester marks that it showed
// the answer (answer_shown_at), a Slack message that shows the request is recorded on it
// (reply_messages), a sweep notices answers nobody showed (answer_noticed_at) and claims, once
// across processes, those whose grace is over (a lease: outcome_claimed_at/by), and marks them told
// (outcome_told_at) once told. Every time is the database's now().
import { randomUUID } from 'node:crypto';
import { and, eq, inArray, isNull, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../client.js';
import { engineRequests, type EngineRequest } from '../schema/index.js';
import { writtenAtDb } from './engine-requests.js';

const spanOf = (ms: number) => sql`${Math.round(ms)} * interval '1 millisecond'`;

/** An exit answered (done or failed) that nobody showed and nobody told yet. */
const untold = (): SQL => and(
  eq(engineRequests.kind, 'exit_trade'), inArray(engineRequests.status, ['done', 'failed']),
  isNull(engineRequests.answerShownAt), isNull(engineRequests.outcomeToldAt),
)!;

/** The requester showed the answer of exit `id` (idempotent: the first showing stands); false when it is not answered. */
export async function markExitAnswerShown(db: Db, id: number): Promise<boolean> {
  const rows = await db.update(engineRequests).set({ answerShownAt: sql`coalesce(${engineRequests.answerShownAt}, now())` })
    .where(and(eq(engineRequests.id, id), inArray(engineRequests.status, ['done', 'failed']))).returning({ id: engineRequests.id });
  return rows.length > 0;
}

/** Records a Slack message that shows request `id`, beside any other (a second click that joined it posts its own). */
export async function recordExitReplyMessage(db: Db, id: number, message: { channel: string; ts: string }): Promise<void> {
  await db.update(engineRequests)
    .set({ replyMessages: sql`coalesce(${engineRequests.replyMessages}, '[]'::jsonb) || jsonb_build_array(jsonb_build_object('channel', ${message.channel}::text, 'ts', ${message.ts}::text))` })
    .where(eq(engineRequests.id, id));
}

/** Answers nobody showed get the moment a sweep first saw them: their grace runs from there, on the database's clock. */
export async function noticeUnshownExitAnswers(db: Db): Promise<void> {
  await noticeStatement(db);
}

/** The sweep's notice statement, unexecuted (its plan reads the partial index engine_requests_exit_untold, not every request). */
export function noticeStatement(db: Db) {
  return db.update(engineRequests).set({ answerNoticedAt: sql`now()` }).where(and(untold(), isNull(engineRequests.answerNoticedAt)));
}

/** An exit being told, as its claim returned it: `claim` is the token that lets only that claimer finish or release it. */
export interface ExitOutcomeClaim {
  row: EngineRequest;
  claim: string;
}

/**
 * Claims, for this caller alone (FOR UPDATE SKIP LOCKED, then outcome_claimed_at/by), the answered exits
 * nobody showed whose requester can no longer be about to: noticed more than `graceMs` ago, or its
 * requester's wait (params.waitMs from its writing) over by `graceMs`. With `ids`, only those. A claim
 * is a lease: outcome_told_at is set only once the telling happened (finishExitOutcome), and a claim
 * older than `leaseMs` — its process died before it told — is taken again by the next sweep.
 */
export async function claimUntoldExitOutcomes(
  db: Db, input: { graceMs: number; leaseMs: number; ids?: readonly number[]; limit?: number },
): Promise<ExitOutcomeClaim[]> {
  const written = writtenAtDb;
  const waitMs = sql`coalesce((${engineRequests.params} ->> 'waitMs')::bigint, 0)`;
  const due = sql`(${engineRequests.answerNoticedAt} <= now() - ${spanOf(input.graceMs)} or ${written} + (${waitMs} + ${Math.round(input.graceMs)}) * interval '1 millisecond' <= now())`;
  const free = or(isNull(engineRequests.outcomeClaimedAt), sql`${engineRequests.outcomeClaimedAt} <= now() - ${spanOf(input.leaseMs)}`)!;
  if (input.ids && input.ids.length === 0) return [];
  const claimable = db.select({ id: engineRequests.id }).from(engineRequests)
    .where(and(untold(), due, free, ...(input.ids ? [inArray(engineRequests.id, [...input.ids])] : [])))
    .orderBy(engineRequests.id).limit(input.limit ?? 50).for('update', { skipLocked: true });
  const claim = randomUUID();
  const rows = await db.update(engineRequests).set({ outcomeClaimedAt: sql`now()`, outcomeClaimedBy: claim })
    .where(and(inArray(engineRequests.id, claimable), untold(), free)).returning();
  return rows.map((row) => ({ row, claim }));
}

/**
 * The claimer of exit `id` told its outcome: outcome_told_at is set (and answer_shown_at too when
 * `shown`: its Slack message shows the answer). False when the claim is no longer this caller's — another
 * sweep took it over, or it was told — or (unless `shown`) the requester showed the answer meanwhile.
 * Run it in the transaction that wrote the telling's alert, so the alert and the mark commit together.
 */
export async function finishExitOutcome(db: Db, id: number, claim: string, opts: { shown: boolean }): Promise<boolean> {
  const rows = await db.update(engineRequests)
    .set({ outcomeToldAt: sql`now()`, ...(opts.shown ? { answerShownAt: sql`coalesce(${engineRequests.answerShownAt}, now())` } : {}) })
    .where(and(eq(engineRequests.id, id), eq(engineRequests.outcomeClaimedBy, claim), isNull(engineRequests.outcomeToldAt),
      ...(opts.shown ? [] : [isNull(engineRequests.answerShownAt)])))
    .returning({ id: engineRequests.id });
  return rows.length > 0;
}

/** A claim whose telling failed goes back (if still this caller's), so the next sweep tells it. */
export async function releaseExitOutcomeClaim(db: Db, id: number, claim: string): Promise<void> {
  await db.update(engineRequests).set({ outcomeClaimedAt: null, outcomeClaimedBy: null })
    .where(and(eq(engineRequests.id, id), eq(engineRequests.outcomeClaimedBy, claim), isNull(engineRequests.outcomeToldAt)));
}

/**
 * A requester that joined exit `id` waits `waitMs` from now: the request's wait (params.waitMs, from
 * its writing) becomes the later of its own and that, on the database's clock. Undefined when there is no such row.
 */
export async function extendExitWait(db: Db, id: number, waitMs: number): Promise<EngineRequest | undefined> {
  const written = writtenAtDb;
  const until = sql`(extract(epoch from (now() - ${written})) * 1000)::bigint + ${Math.max(0, Math.round(waitMs))}`;
  const [row] = await db.update(engineRequests)
    .set({ params: sql`${engineRequests.params} || jsonb_build_object('waitMs', greatest(coalesce((${engineRequests.params} ->> 'waitMs')::bigint, 0), ${until}))` })
    .where(eq(engineRequests.id, id)).returning();
  return row;
}
