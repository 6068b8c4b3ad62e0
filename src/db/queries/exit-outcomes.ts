// Owns the statements that make an exit's outcome reach someone: the requester marks that it showed
// the answer (answer_shown_at), a Slack message that shows the request is recorded on it
// (reply_messages), a sweep notices answers nobody showed (answer_noticed_at) and claims, once
// across processes, those whose grace is over (a lease: outcome_claimed_at/by; a requester showing the
// answer holds the same lease), and marks them told (outcome_told_at) once told. Every time is the
// database's now().
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

/** Records a Slack message that shows request `id`, beside any other (a second click that joined it posts its own); false when there is no such request. */
export async function recordExitReplyMessage(db: Db, id: number, message: { channel: string; ts: string }): Promise<boolean> {
  const rows = await db.update(engineRequests)
    .set({ replyMessages: sql`coalesce(${engineRequests.replyMessages}, '[]'::jsonb) || jsonb_build_array(jsonb_build_object('channel', ${message.channel}::text, 'ts', ${message.ts}::text))` })
    .where(eq(engineRequests.id, id)).returning({ id: engineRequests.id });
  return rows.length > 0;
}

/** Answers nobody showed get the moment a sweep first saw them (with `ids`, only those): their grace runs from there, on the database's clock. */
export async function noticeUnshownExitAnswers(db: Db, ids?: readonly number[]): Promise<void> {
  if (ids && ids.length === 0) return;
  await noticeStatement(db, ids);
}

/** The sweep's notice statement, unexecuted (its plan reads the partial index engine_requests_exit_untold, not every request). */
export function noticeStatement(db: Db, ids?: readonly number[]) {
  return db.update(engineRequests).set({ answerNoticedAt: sql`now()` })
    .where(and(untold(), isNull(engineRequests.answerNoticedAt), ...(ids ? [inArray(engineRequests.id, [...ids])] : [])));
}

/** When an answer nobody showed is due to be told: noticed `graceMs` ago, or its requester's wait (params.waitMs from its writing) over by `graceMs`. */
function dueAfter(graceMs: number): SQL {
  const waitMs = sql`coalesce((${engineRequests.params} ->> 'waitMs')::bigint, 0)`;
  return sql`(${engineRequests.answerNoticedAt} <= now() - ${spanOf(graceMs)} or ${writtenAtDb} + (${waitMs} + ${Math.round(graceMs)}) * interval '1 millisecond' <= now())`;
}

/** Nobody holds the telling of the exit: never claimed, or its claim (a sweep's or its requester's) older than `leaseMs`. */
const freeOf = (leaseMs: number): SQL => or(isNull(engineRequests.outcomeClaimedAt), sql`${engineRequests.outcomeClaimedAt} <= now() - ${spanOf(leaseMs)}`)!;

/** A Slack message shows the exit (its button's): only a process that can update it tells it, until `boundMs` past its due time. */
const slackShown = (): SQL => sql`jsonb_array_length(coalesce(${engineRequests.replyMessages}, '[]'::jsonb)) > 0`;

/** What a sweep sees of the answers nobody showed or told yet, in one read of the partial index (none: the sweep is done). */
export interface UntoldExitAnswer {
  id: number;
  noticed: boolean;
  /** Due, and nobody holds its telling: a claim may take it. */
  claimable: boolean;
  /** A Slack message shows it (its requester's button). */
  slack: boolean;
  /** Due longer than the bound that leaves a Slack-shown exit to a process that can update its message. */
  slackOverdue: boolean;
}

/** The sweep's read, unexecuted (its plan reads the partial index engine_requests_exit_untold). */
export function untoldExitAnswersStatement(db: Db, input: { graceMs: number; leaseMs: number; slackBoundMs: number; ids?: readonly number[] }) {
  return db.select({
    id: engineRequests.id,
    noticed: sql<boolean>`${engineRequests.answerNoticedAt} is not null`,
    claimable: sql<boolean>`coalesce(${dueAfter(input.graceMs)} and ${freeOf(input.leaseMs)}, false)`,
    slack: sql<boolean>`${slackShown()}`,
    slackOverdue: sql<boolean>`coalesce(${dueAfter(input.graceMs + input.slackBoundMs)}, false)`,
  }).from(engineRequests)
    .where(and(untold(), ...(input.ids ? [inArray(engineRequests.id, [...input.ids])] : [])))
    .orderBy(engineRequests.id).limit(200);
}

/** The answered exits nobody showed or told (with `ids`, only those), as the sweep judges them: one statement, nothing written. */
export async function untoldExitAnswers(db: Db, input: { graceMs: number; leaseMs: number; slackBoundMs: number; ids?: readonly number[] }): Promise<UntoldExitAnswer[]> {
  if (input.ids && input.ids.length === 0) return [];
  return untoldExitAnswersStatement(db, input);
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
 * older than `leaseMs` — its process died before it told, or its requester while it showed the answer —
 * is taken again by the next sweep. With `slackBoundMs` (a process that cannot update Slack), an exit
 * a Slack message shows is left to one that can until it is due by that much more.
 */
export async function claimUntoldExitOutcomes(
  db: Db, input: { graceMs: number; leaseMs: number; ids?: readonly number[]; limit?: number; slackBoundMs?: number },
): Promise<ExitOutcomeClaim[]> {
  const free = freeOf(input.leaseMs);
  if (input.ids && input.ids.length === 0) return [];
  const slack = input.slackBoundMs === undefined ? [] : [or(sql`not ${slackShown()}`, dueAfter(input.graceMs + input.slackBoundMs))!];
  const claimable = db.select({ id: engineRequests.id }).from(engineRequests)
    .where(and(untold(), dueAfter(input.graceMs), free, ...slack, ...(input.ids ? [inArray(engineRequests.id, [...input.ids])] : [])))
    .orderBy(engineRequests.id).limit(input.limit ?? 50).for('update', { skipLocked: true });
  const claim = randomUUID();
  const rows = await db.update(engineRequests).set({ outcomeClaimedAt: sql`now()`, outcomeClaimedBy: claim })
    .where(and(inArray(engineRequests.id, claimable), untold(), free)).returning();
  return rows.map((row) => ({ row, claim }));
}

/**
 * The requester of exit `id` is about to show its answer: it holds the telling (a claim, as a sweep's)
 * so no sweep tells it meanwhile, while it renews it (a slow showing: a Slack update past the grace;
 * renewed for a bound only, request-exit.ts showExitAnswer). Returns
 * the claim, or null when the exit is not answered, already told or held by a sweep telling it.
 * The requester then marks it shown (markExitAnswerShown) or, when the showing failed, releases it.
 */
export async function holdExitAnswer(db: Db, id: number, leaseMs: number): Promise<string | null> {
  const claim = randomUUID();
  const rows = await db.update(engineRequests).set({ outcomeClaimedAt: sql`now()`, outcomeClaimedBy: claim })
    .where(and(eq(engineRequests.id, id), untold(), freeOf(leaseMs))).returning({ id: engineRequests.id });
  return rows.length > 0 ? claim : null;
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

/**
 * Whoever holds the telling of exits `ids` under `claim` (a requester still showing the answer, a
 * sweep still telling its batch) renews it: outcome_claimed_at is now, so its lease runs from now.
 * Returns how many it still holds — not those a sweep took over once the lease ran out, nor those told.
 */
export async function renewExitOutcomeClaim(db: Db, ids: readonly number[], claim: string): Promise<number> {
  if (ids.length === 0) return 0;
  const rows = await db.update(engineRequests).set({ outcomeClaimedAt: sql`now()` })
    .where(and(inArray(engineRequests.id, [...ids]), eq(engineRequests.outcomeClaimedBy, claim), isNull(engineRequests.outcomeToldAt)))
    .returning({ id: engineRequests.id });
  return rows.length;
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
