// Owns the statements on engine_requests (work one process hands to another through the database):
// writing a request (a kill's follow-up cancel only unless one is open; the open one, and a halt's
// taken over by its kill's incident), taking the oldest pending one of some kinds FOR UPDATE SKIP
// LOCKED (so exactly one runner claims it) and marking it running, finishing a running one, putting
// back claims of a runner that died, withdrawing one nobody claimed, reading one; the advisory lock
// and the read that let an operator's exit join an identical one still open; and the ledger's live
// counts, by which a reconcile request without a Kraken key tells "paper only" from "cannot read Kraken".
import { and, asc, count, eq, inArray, isNull, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../client.js';
import { executePrepared } from '../prepared.js';
import { botState, engineRequests, fills, incidents, openFollowUp, orderIntents, type BotState, type EngineRequest, type EngineRequestKind } from '../schema/index.js';

export interface EngineRequestValues {
  kind: EngineRequestKind;
  requestedBy: string;
  requestedAt: Date;
  params: Record<string, unknown>;
  incidentId: number | null;
  checklistItem: string | null;
}

/**
 * A request, with the moment it was written (params.writtenAt) on the database's clock: its
 * requested_at is the writer's clock, which may be minutes off the clock of the process that
 * carries it out, so how long ago it was asked for is read there as an age (askedAgoMs).
 */
export async function insertEngineRequest(db: Db, values: EngineRequestValues): Promise<EngineRequest> {
  const [row] = await db.insert(engineRequests).values({ ...values, params: writtenNow(values.params) }).returning();
  return row!;
}

/** A time as the follow-up's params hold it (ISO, UTC, milliseconds). */
const isoOf = (at: SQL) => sql`to_char((${at}) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const spanOf = (ms: number) => sql`${Math.round(ms)} * interval '1 millisecond'`;
const writtenNow = (params: Record<string, unknown>) => sql`${JSON.stringify(params)}::jsonb || jsonb_build_object('writtenAt', ${isoOf(sql`now()`)})`;

/**
 * A kill's follow-up cancel, unless one is open for its incident (or, without one, for a halt): then
 * nothing (undefined). Its give-up time (params.giveUpAt) is `giveUpAfterMs` after the database's
 * now(), never the writer's clock: every writer's and the bot's reading of it are on one clock.
 */
export async function insertFollowUpUnlessOpen(db: Db, values: EngineRequestValues, giveUpAfterMs: number): Promise<EngineRequest | undefined> {
  const params = sql`${writtenNow(values.params)} || jsonb_build_object('giveUpAt', ${isoOf(sql`now() + ${spanOf(giveUpAfterMs)}`)})`;
  // Any unique violation: the partial index on coalesce(incident_id, 0) is the one a follow-up can meet.
  const [row] = await db.insert(engineRequests).values({ ...values, params }).onConflictDoNothing().returning();
  return row;
}

/** The open follow-up cancel of `incidentId`, or of a halt without an incident (null). */
export async function openFollowUpOf(db: Db, incidentId: number | null): Promise<EngineRequest | undefined> {
  const [row] = await db.select().from(engineRequests)
    .where(and(incidentId === null ? isNull(engineRequests.incidentId) : eq(engineRequests.incidentId, incidentId), openFollowUp(engineRequests))).limit(1);
  return row;
}

/** An open follow-up cancel of an open incident. */
export async function openIncidentFollowUp(db: Db): Promise<EngineRequest | undefined> {
  const [row] = await db.select({ request: engineRequests }).from(engineRequests)
    .innerJoin(incidents, eq(incidents.id, engineRequests.incidentId))
    .where(and(eq(incidents.status, 'open'), openFollowUp(engineRequests))).limit(1);
  return row?.request;
}

/**
 * A second writer joined the open follow-up `id` now (the database's now()): its give-up time
 * (params.giveUpAt, ISO; a row written without one gives up `spanMs` after it was requested) becomes
 * the later of it and `spanMs` from now, and params.joinedAt the latest join — in one statement, so
 * two joiners at once keep the latest of each, on the database's clock whichever writer's is skewed.
 * Undefined once it is no longer open.
 */
export async function extendFollowUpGiveUp(db: Db, id: number, input: { spanMs: number }): Promise<EngineRequest | undefined> {
  const giveUp = sql`coalesce((${engineRequests.params} ->> 'giveUpAt')::timestamptz, ${engineRequests.requestedAt} + ${spanOf(input.spanMs)})`;
  const joined = sql`coalesce((${engineRequests.params} ->> 'joinedAt')::timestamptz, '-infinity'::timestamptz)`;
  const [row] = await db.update(engineRequests)
    .set({ params: sql`${engineRequests.params} || jsonb_build_object(
      'giveUpAt', ${isoOf(sql`greatest(${giveUp}, now() + ${spanOf(input.spanMs)})`)},
      'joinedAt', ${isoOf(sql`greatest(${joined}, now())`)})` })
    .where(and(eq(engineRequests.id, id), openFollowUp(engineRequests))).returning();
  return row;
}

/**
 * A follow-up as it stands, with its times as ages on the database's clock (the clock they were
 * written on): how long until it gives up (negative once past; null when written without a give-up
 * time) and since its last join (null: never joined).
 */
export async function followUpWithAges(db: Db, id: number): Promise<{ request: EngineRequest; giveUpInMs: number | null; joinedAgoMs: number | null } | undefined> {
  const [row] = await db.select({
    request: engineRequests,
    giveUpInMs: sql<number | null>`(extract(epoch from ((${engineRequests.params} ->> 'giveUpAt')::timestamptz - now())) * 1000)::float8`,
    joinedAgoMs: sql<number | null>`(extract(epoch from (now() - (${engineRequests.params} ->> 'joinedAt')::timestamptz)) * 1000)::float8`,
  }).from(engineRequests).where(eq(engineRequests.id, id));
  if (!row) return undefined;
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return { request: row.request, giveUpInMs: num(row.giveUpInMs), joinedAgoMs: num(row.joinedAgoMs) };
}

/**
 * How long ago request `id` was asked for, on the database's clock: since it was written
 * (params.writtenAt; a row written without one, since its requested_at) or, for a follow-up a later
 * kill joined, since that join (params.joinedAt), whichever is later. Undefined when there is no such row.
 */
export async function askedAgoMs(db: Db, id: number): Promise<{ request: EngineRequest; agoMs: number } | undefined> {
  const written = sql`coalesce((${engineRequests.params} ->> 'writtenAt')::timestamptz, ${engineRequests.requestedAt})`;
  const asked = sql`greatest(${written}, coalesce((${engineRequests.params} ->> 'joinedAt')::timestamptz, '-infinity'::timestamptz))`;
  const [row] = await db.select({ request: engineRequests, agoMs: sql<number>`(extract(epoch from (now() - ${asked})) * 1000)::float8` })
    .from(engineRequests).where(eq(engineRequests.id, id));
  return row ? { request: row.request, agoMs: Number(row.agoMs) } : undefined;
}

/**
 * A halt's open follow-up without an incident becomes `incidentId`'s (its kill's, committed after the
 * halt's cancel looked for it). Undefined when there is none, or the incident has its own open.
 */
export async function adoptHaltFollowUp(db: Db, incidentId: number): Promise<EngineRequest | undefined> {
  try {
    const [row] = await db.update(engineRequests).set({ incidentId, checklistItem: 'cancel_orders' })
      .where(and(isNull(engineRequests.incidentId), openFollowUp(engineRequests))).returning();
    return row;
  } catch (err) {
    if ((err as { cause?: { code?: string } }).cause?.code === '23505') return undefined;
    throw err;
  }
}

/**
 * The oldest pending request of the given kinds that is due (no not_before, or one the database's
 * now() has reached: not_before is written on that clock too, so a runner whose clock is minutes off
 * the one that put it back neither takes it early nor leaves it waiting), locked (skipping those
 * another runner holds). Inside a transaction.
 */
export async function lockNextPendingEngineRequest(db: Db, kinds: readonly EngineRequestKind[]): Promise<EngineRequest | undefined> {
  const [next] = await db.select().from(engineRequests)
    .where(and(eq(engineRequests.status, 'pending'), inArray(engineRequests.kind, [...kinds]),
      or(isNull(engineRequests.notBefore), sql`${engineRequests.notBefore} <= now()`)))
    .orderBy(asc(engineRequests.id)).limit(1).for('update', { skipLocked: true });
  return next;
}

/**
 * Marks a request running for `holder`, claimed at the database's now() (what a stale claim is judged
 * by), in `scope` (claimed_scope: where its pid means something; null when unknown).
 */
export async function markEngineRequestRunning(db: Db, id: number, input: { holder: string; scope?: string | null }): Promise<EngineRequest | undefined> {
  const [claimed] = await db.update(engineRequests).set({ status: 'running', claimedBy: input.holder, claimedAt: sql`now()`, claimedScope: input.scope ?? null })
    .where(eq(engineRequests.id, id)).returning();
  return claimed;
}

/**
 * Finishes a request only while it is running, and, given `paramsStill`, only while each of those
 * params still holds the value given (null: absent) — another writer may have changed one since the
 * handler read it; undefined when it was not (finished, put back or changed meanwhile).
 */
export async function finishRunningEngineRequest(
  db: Db, id: number,
  input: { status: 'done' | 'failed'; at: Date; result: Record<string, unknown> | null; error: string | null; paramsStill?: Record<string, string | null> },
): Promise<EngineRequest | undefined> {
  const still = Object.entries(input.paramsStill ?? {}).map(([key, value]) => sql`(${engineRequests.params} ->> ${key}) is not distinct from ${value}::text`);
  const [row] = await db.update(engineRequests).set({ status: input.status, finishedAt: input.at, result: input.result, error: input.error })
    .where(and(eq(engineRequests.id, id), eq(engineRequests.status, 'running'), ...still)).returning();
  return row;
}

/**
 * A running request its handler will try again later: back to pending, not to be claimed before
 * `notBefore` — a moment on the database's clock (see retryEngineRequestLater) — with the last try's
 * result (what it found) and no error. params.dueAt is that same moment. Only while it is running.
 */
export async function retryRunningEngineRequest(
  db: Db, id: number, input: { notBefore: Date; result: Record<string, unknown> },
): Promise<EngineRequest | undefined> {
  const params = sql`${engineRequests.params} || jsonb_build_object('dueAt', ${input.notBefore.toISOString()}::text)`;
  const [row] = await db.update(engineRequests).set({ status: 'pending', notBefore: input.notBefore, params, result: input.result, error: null, claimedBy: null, claimedAt: null, claimedScope: null })
    .where(and(eq(engineRequests.id, id), eq(engineRequests.status, 'running'))).returning();
  return row;
}

/** Running requests claimed longer than `staleMs` ago on the database's clock (claimed_at is written on it) go back to pending; how many did. */
/**
 * What a runner of `kinds` may find to do, in one read: a pending request of one of them (due now
 * or not: a pending one means the claim is tried) and a claim older than `staleMs` to put back. A
 * runner polls four times a second; while idle this read is all it sends, instead of the put-back's
 * update and the claim's transaction. Prepared: the text is the same at every poll of a runner.
 */
export async function engineRequestWork(
  db: Db, kinds: readonly EngineRequestKind[], staleMs: number, scope: string | null = null,
): Promise<{ pending: boolean; stale: boolean; inScope: boolean }> {
  const pending = kinds.length === 0 ? sql`false` : sql`exists (select 1 from ${engineRequests} where ${engineRequests.status} = 'pending' and ${inArray(engineRequests.kind, [...kinds])})`;
  // A claim made in `scope` (this host's boot and pid namespace), whose pid can be asked about here.
  const inScope = scope === null ? sql`false` : sql`exists (select 1 from ${engineRequests} where ${engineRequests.status} = 'running' and starts_with(${engineRequests.claimedScope}, ${`${scope}#`}))`;
  const [row] = await executePrepared<{ pending: boolean; stale: boolean; in_scope: boolean }>(db, sql`select ${pending} as pending,
    exists (select 1 from ${engineRequests} where ${engineRequests.status} = 'running' and ${engineRequests.claimedAt} < now() - ${spanOf(staleMs)}) as stale,
    ${inScope} as in_scope`);
  return { pending: row?.pending === true, stale: row?.stale === true, inScope: row?.in_scope === true };
}

/** The work-and-state poll of each runner's kinds (and whether it has a scope), built and prepared once per database handle. */
const workAndStateQueries = new WeakMap<Db, Map<string, { execute(params: Record<string, unknown>): Promise<Array<{ state: BotState; pending: boolean; stale: boolean; inScope: boolean }>> }>>();

function workAndStateQuery(db: Db, kinds: readonly EngineRequestKind[], scoped: boolean) {
  let byKey = workAndStateQueries.get(db);
  if (!byKey) workAndStateQueries.set(db, (byKey = new Map()));
  const key = `${kinds.join(',')}|${scoped}`;
  let query = byKey.get(key);
  if (!query) {
    const pending = kinds.length === 0 ? sql<boolean>`false` : sql<boolean>`exists (select 1 from ${engineRequests} where ${engineRequests.status} = 'pending' and ${inArray(engineRequests.kind, [...kinds])})`;
    const inScope = scoped ? sql<boolean>`exists (select 1 from ${engineRequests} where ${engineRequests.status} = 'running' and starts_with(${engineRequests.claimedScope}, ${sql.placeholder('scopePrefix')}))` : sql<boolean>`false`;
    const stale = sql<boolean>`exists (select 1 from ${engineRequests} where ${engineRequests.status} = 'running' and ${engineRequests.claimedAt} < now() - ${sql.placeholder('staleMs')} * interval '1 millisecond')`;
    query = db.select({ state: botState, pending: pending.as('pending'), stale: stale.as('stale'), inScope: inScope.as('in_scope') })
      .from(botState).where(eq(botState.id, 1)).prepare(`engine_request_work_state_${byKey.size}`);
    byKey.set(key, query);
  }
  return query;
}

/**
 * engineRequestWork and the bot_state row in one statement: a runner's idle poll that also serves as
 * this process's read of bot_state (the halt watcher's, which then need not send its own). Built and
 * prepared once per database handle and runner (four polls a second). undefined without the row
 * (nothing created it yet): the caller polls with engineRequestWork alone.
 */
export async function engineRequestWorkAndBotState(
  db: Db, kinds: readonly EngineRequestKind[], staleMs: number, scope: string | null = null,
): Promise<{ pending: boolean; stale: boolean; inScope: boolean; state: BotState } | undefined> {
  const [row] = await workAndStateQuery(db, kinds, scope !== null).execute({ staleMs: Math.round(staleMs), ...(scope === null ? {} : { scopePrefix: `${scope}#` }) });
  if (!row) return undefined;
  return { pending: row.pending === true, stale: row.stale === true, inScope: row.inScope === true, state: row.state };
}

/** The running requests claimed in `scope` (claimed_scope "<scope>#<claimed_by>"): whose claimers' pids can be asked about here. */
export async function runningEngineRequestsClaimedIn(db: Db, scope: string): Promise<Pick<EngineRequest, 'id' | 'kind' | 'claimedBy' | 'claimedScope'>[]> {
  return db.select({ id: engineRequests.id, kind: engineRequests.kind, claimedBy: engineRequests.claimedBy, claimedScope: engineRequests.claimedScope }).from(engineRequests)
    .where(and(eq(engineRequests.status, 'running'), sql`starts_with(${engineRequests.claimedScope}, ${`${scope}#`})`));
}

/** Puts request `id` back to pending while it is still the claim read (claimed_by and claimed_scope unchanged); whether it did. */
export async function requeueEngineRequestClaim(db: Db, id: number, claim: { claimedBy: string; claimedScope: string }): Promise<boolean> {
  const rows = await db.update(engineRequests).set({ status: 'pending', claimedBy: null, claimedAt: null, claimedScope: null })
    .where(and(eq(engineRequests.id, id), eq(engineRequests.status, 'running'), eq(engineRequests.claimedBy, claim.claimedBy), eq(engineRequests.claimedScope, claim.claimedScope)))
    .returning({ id: engineRequests.id });
  return rows.length > 0;
}

export async function requeueEngineRequestsClaimedBefore(db: Db, staleMs: number): Promise<number> {
  const rows = await db.update(engineRequests).set({ status: 'pending', claimedBy: null, claimedAt: null, claimedScope: null })
    .where(and(eq(engineRequests.status, 'running'), sql`${engineRequests.claimedAt} < now() - ${spanOf(staleMs)}`))
    .returning({ id: engineRequests.id });
  return rows.length;
}

export async function engineRequestById(db: Db, id: number): Promise<EngineRequest | undefined> {
  const [row] = await db.select().from(engineRequests).where(eq(engineRequests.id, id));
  return row;
}

/** A request's writing on the database's clock (params.writtenAt; a row written without one, its requested_at). */
export const writtenAtDb = sql`coalesce((${engineRequests.params} ->> 'writtenAt')::timestamptz, ${engineRequests.requestedAt})`;
const optionalAt = (key: string) => sql`coalesce((${engineRequests.params} ->> ${key})::timestamptz, '-infinity'::timestamptz)`;
/** Since when a pending request waits for a process to take it: its writing, its last join or its next try, whichever is latest. */
const waitsSince = sql`greatest(${writtenAtDb}, ${optionalAt('joinedAt')}, ${optionalAt('dueAt')})`;

/**
 * How long a pending follow-up has waited for a bot to take it, on the database's clock (ms): since
 * its writing, its last join and its next try's due time (params.dueAt), each also given alone
 * (null: it has none). Undefined when there is no such row.
 */
export async function followUpWaitAges(db: Db, id: number): Promise<{ waitedMs: number; writtenAgoMs: number; joinedAgoMs: number | null; dueAgoMs: number | null } | undefined> {
  const ago = (at: SQL) => sql<number | null>`(extract(epoch from (now() - ${at})) * 1000)::float8`;
  const [row] = await db.select({
    waitedMs: ago(waitsSince), writtenAgoMs: ago(writtenAtDb),
    joinedAgoMs: ago(sql`(${engineRequests.params} ->> 'joinedAt')::timestamptz`), dueAgoMs: ago(sql`(${engineRequests.params} ->> 'dueAt')::timestamptz`),
  }).from(engineRequests).where(eq(engineRequests.id, id));
  if (!row) return undefined;
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return { waitedMs: Number(row.waitedMs), writtenAgoMs: Number(row.writtenAgoMs), joinedAgoMs: num(row.joinedAgoMs), dueAgoMs: num(row.dueAgoMs) };
}

/**
 * Fails a request only while nobody has claimed it; false when it was claimed (or finished). With
 * `unanswered`, only while it has still waited longer than `waitedMs` for a process to take it as
 * the row stands when written (followUpWaitAges, the database's clock) — a kill that joined it, or
 * a try that put it back, after it was read is not overwritten.
 */
export async function failPendingEngineRequest(
  db: Db, id: number, input: { at: Date; error: string; unanswered?: { waitedMs: number } },
): Promise<boolean> {
  const u = input.unanswered;
  const unanswered = u ? [sql`${waitsSince} < now() - ${spanOf(u.waitedMs)}`] : [];
  const rows = await db.update(engineRequests).set({ status: 'failed', finishedAt: input.at, error: input.error })
    .where(and(eq(engineRequests.id, id), eq(engineRequests.status, 'pending'), ...unanswered))
    .returning({ id: engineRequests.id });
  return rows.length > 0;
}

/** Serialises exit requests across processes (beside db/advisory-lock.ts' 7271xx keys). */
const EXIT_REQUEST_LOCK = 727_110;

/** Takes the exit requests' lock until the end of the transaction `db` is. */
export async function lockExitRequests(db: Db): Promise<void> {
  await db.execute(sql`select pg_advisory_xact_lock(${EXIT_REQUEST_LOCK})`);
}

/** Exit requests still pending or running, oldest first. */
export async function openExitRequests(db: Db): Promise<EngineRequest[]> {
  return db.select().from(engineRequests)
    .where(and(eq(engineRequests.kind, 'exit_trade'), inArray(engineRequests.status, ['pending', 'running']))).orderBy(engineRequests.id);
}

/** How many live order intents and live fills the ledger holds. */
export async function liveLedgerCounts(db: Db): Promise<{ intents: number; fills: number }> {
  const [intents] = await db.select({ n: count() }).from(orderIntents).where(eq(orderIntents.mode, 'live'));
  const [liveFills] = await db.select({ n: count() }).from(fills).where(eq(fills.mode, 'live'));
  return { intents: intents?.n ?? 0, fills: liveFills?.n ?? 0 };
}

/**
 * How long an exit has waited, on the database's clock: since its writing, what EXIT_REQUEST_TTL runs
 * from. The one measure of it: what closes expired exits, the engine's handler and the pending answer read it.
 */
const exitWaited = sql`now() - ${writtenAtDb}`;
const exitPastTtl = (ttlMs: number) => sql`${exitWaited} > ${spanOf(ttlMs)}`;
/** A pending exit that waited past `ttlMs`. */
const exitExpired = (ttlMs: number) => and(eq(engineRequests.kind, 'exit_trade'), eq(engineRequests.status, 'pending'), exitPastTtl(ttlMs));

/** How long exit `id` has waited (ms) and whether that is past `ttlMs`, by the rule that closes expired exits; undefined when there is no such row. */
export async function exitWaitOf(db: Db, id: number, ttlMs: number): Promise<{ waitedMs: number; expired: boolean } | undefined> {
  const [row] = await db.select({ waitedMs: sql<number>`(extract(epoch from ${exitWaited}) * 1000)::float8`, expired: sql<boolean>`${exitPastTtl(ttlMs)}` })
    .from(engineRequests).where(eq(engineRequests.id, id));
  return row ? { waitedMs: Number(row.waitedMs), expired: row.expired === true } : undefined;
}

/** Exits still pending or running, oldest first, each with how long it has waited by the rule that closes expired exits (ms). */
export async function openExitRequestsWithWait(db: Db): Promise<Array<{ request: EngineRequest; waitedMs: number }>> {
  const rows = await db.select({ request: engineRequests, waitedMs: sql<number>`(extract(epoch from ${exitWaited}) * 1000)::float8` }).from(engineRequests)
    .where(and(eq(engineRequests.kind, 'exit_trade'), inArray(engineRequests.status, ['pending', 'running']))).orderBy(engineRequests.id);
  return rows.map((r) => ({ request: r.request, waitedMs: Number(r.waitedMs) }));
}

/**
 * Closes as failed every exit still pending (nobody carrying it out) written longer than `ttlMs` ago
 * on the database's clock, finished at that clock's now too, with `error` and the result `result`;
 * the rows it closed. A claimed one is left to the engine that runs it (its handler refuses it as expired).
 */
export async function expirePendingExitRequests(
  db: Db, input: { ttlMs: number; error: string; result: Record<string, unknown>; id?: number },
): Promise<EngineRequest[]> {
  return db.update(engineRequests).set({ status: 'failed', finishedAt: sql`now()`, error: input.error, result: input.result })
    .where(and(exitExpired(input.ttlMs), ...(input.id !== undefined ? [eq(engineRequests.id, input.id)] : []))).returning();
}
