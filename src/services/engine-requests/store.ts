// Owns engine requests: work a process cannot do itself (it has no Kraken key, or the work needs the
// engine's order path) handed through the database to the process that runs the engine. A request
// is written pending, claimed by exactly one runner (FOR UPDATE SKIP LOCKED), and finished done or
// failed with its result — or put back pending until a later moment (not_before) when its handler
// tries again; the requester waits for that answer or shows the request as pending.
import type { Clock } from '../../clock.js';
import { cleanJson, cleanText } from '../../db/clean-text.js';
import type { Db } from '../../db/client.js';
import {
  askedAgoMs,
  adoptHaltFollowUp, engineRequestById, extendFollowUpGiveUp, failPendingEngineRequest, finishRunningEngineRequest, insertEngineRequest, insertFollowUpUnlessOpen,
  lockNextPendingEngineRequest, markEngineRequestRunning, openFollowUpOf, openIncidentFollowUp, requeueEngineRequestsClaimedBefore, engineRequestWork, engineRequestWorkAndBotState, retryRunningEngineRequest,
  requeueEngineRequestClaim, runningEngineRequestsClaimedIn,
} from '../../db/queries/engine-requests.js';
import { databaseNow } from '../../db/queries/database-clock.js';
import type { BotState, EngineRequest, EngineRequestKind } from '../../db/schema/index.js';
import { CANCEL_FOLLOW_UP_MS } from '../../domain/cancel-handover.js';
import { AppError } from '../../errors.js';
import { claimGone, type Here } from './claim-gone.js';

export interface NewEngineRequest {
  kind: EngineRequestKind;
  requestedBy: string;
  params?: Record<string, unknown>;
  incidentId?: number;
  checklistItem?: string;
}

export async function enqueueEngineRequest(db: Db, clock: Clock, request: NewEngineRequest): Promise<EngineRequest> {
  return insertEngineRequest(db, {
    kind: request.kind, requestedBy: cleanText(request.requestedBy), requestedAt: clock.now(), params: cleanJson(request.params ?? {}),
    incidentId: request.incidentId ?? null, checklistItem: request.checklistItem ?? null,
  });
}

/**
 * Writes a kill's follow-up cancel, or joins the one open (`joined`): Kraken gets one try at a time.
 * The database holds it — at most one open per incident, and one for a halt without an incident
 * (schema/engine.ts) — whichever process writes. A halt's follow-up written before its kill's
 * incident existed (the bot latched the kill from DATA_DIR first) becomes the incident's; a halt
 * with no incident of its own joins an open incident's. It goes on until its give-up time
 * (params.giveUpAt, CANCEL_FOLLOW_UP_MS after its writing); a writer that joins it moves that to
 * the later of the two, and its wait for a bot to take it runs from that join (params.joinedAt), so
 * the later kill's cancel gets its whole time as if it had written its own. Both times are the
 * database's (now()), not a writer's clock, and are read back as ages (followUpWithAges).
 */
export async function enqueueFollowUpCancel(
  db: Db, clock: Clock, request: Omit<NewEngineRequest, 'kind'>,
): Promise<{ row: EngineRequest; joined: boolean }> {
  const incidentId = request.incidentId ?? null;
  const values = {
    kind: 'cancel_all' as const, requestedBy: cleanText(request.requestedBy), requestedAt: clock.now(),
    params: cleanJson({ ...request.params, followUp: true }), incidentId, checklistItem: request.checklistItem ?? null,
  };
  // Joined only once the join is written: one closed meanwhile (the bot gave up) goes on as no other kill's.
  const join = async (open: EngineRequest) => {
    const row = await extendFollowUpGiveUp(db, open.id, { spanMs: CANCEL_FOLLOW_UP_MS });
    return row ? { row, joined: true } : undefined;
  };
  const taken = incidentId !== null ? await adoptHaltFollowUp(db, incidentId) : await openIncidentFollowUp(db);
  const joinedTaken = taken ? await join(taken) : undefined;
  if (joinedTaken) return joinedTaken;
  // The open one can finish between its conflict and its read (or its join): then nothing is open, and the next write takes.
  for (let attempt = 0; attempt < 3; attempt++) {
    const row = await insertFollowUpUnlessOpen(db, values, CANCEL_FOLLOW_UP_MS);
    if (row) return { row, joined: false };
    const open = await openFollowUpOf(db, incidentId);
    const joined = open ? await join(open) : undefined;
    if (joined) return joined;
  }
  throw new AppError('retryable', 'follow_up_unwritten', `The follow-up cancel${incidentId !== null ? ` of incident #${incidentId}` : ''} could be neither written nor joined.`);
}

/**
 * Claims the oldest pending request of the given kinds that is due for `holder`, or null when there
 * is none. Due and claimed on the database's clock (not_before, claimed_at), whatever this process's clock reads.
 */
export async function claimEngineRequest(db: Db, holder: string, kinds: readonly EngineRequestKind[], scope: string | null = null): Promise<EngineRequest | null> {
  if (kinds.length === 0) return null;
  return db.transaction(async (tx) => {
    const next = await lockNextPendingEngineRequest(tx, kinds);
    if (!next) return null;
    return (await markEngineRequestRunning(tx, next.id, { holder, scope })) ?? null;
  });
}

/** Finishes a running request; with `paramsStill`, only while those params hold what its handler read. */
export async function finishEngineRequest(
  db: Db, clock: Clock, id: number, outcome: { ok: boolean; result?: Record<string, unknown>; error?: string; paramsStill?: Record<string, string | null> },
): Promise<EngineRequest | null> {
  const row = await finishRunningEngineRequest(db, id, {
    // A result quotes what Kraken or an error said: cleaned so the answer is always stored.
    status: outcome.ok ? 'done' : 'failed', at: clock.now(), result: outcome.result ? cleanJson(outcome.result) : null,
    error: outcome.error ? cleanText(outcome.error.slice(0, 2000)) : null, ...(outcome.paramsStill ? { paramsStill: outcome.paramsStill } : {}),
  });
  return row ?? null;
}

/**
 * Its handler tries again at `notBefore`, a moment its handler counted on `clock`: what goes in is
 * the wait, `notBefore` less `clock`'s now, from the database's now() — the clock every runner
 * judges it due by (claimEngineRequest) and every reader names it by, so a bot whose clock is minutes
 * off neither holds a kill's next try back for those minutes nor lets another bot take it before its
 * wait. The moment the handler said (in the result's summary and nextTryAt) is said as written: the
 * database's. Null when it was no longer running; else the row and that moment.
 */
export async function retryEngineRequestLater(
  db: Db, clock: Clock, id: number, input: { notBefore: Date; result: Record<string, unknown> },
): Promise<{ row: EngineRequest; nextTryAt: Date } | null> {
  const inMs = Math.max(0, input.notBefore.getTime() - clock.now().getTime());
  return db.transaction(async (tx) => {
    const nextTryAt = new Date((await databaseNow(tx)).getTime() + inMs);
    const result = cleanJson(sayNextTryAt(input.result, input.notBefore, nextTryAt));
    const row = await retryRunningEngineRequest(tx, id, { notBefore: nextTryAt, result });
    return row ? { row, nextTryAt } : null;
  });
}

/** `result` with the moment `said` (as its handler wrote it, ISO) named as `written` instead, in its summary and nextTryAt. */
export function sayNextTryAt(result: Record<string, unknown>, said: Date, written: Date): Record<string, unknown> {
  const from = said.toISOString();
  const to = written.toISOString();
  const out = { ...result };
  if (typeof out['summary'] === 'string') out['summary'] = out['summary'].split(from).join(to);
  if (out['nextTryAt'] === from) out['nextTryAt'] = to;
  return out;
}

/**
 * Requests claimed by a runner that died before finishing (claimed longer ago than `staleMs`, on the
 * database's clock, which claimed_at is written on) go back to pending, so the next engine process
 * does them instead of leaving them running forever: a runner whose clock runs ahead does not take
 * a live runner's claim from it.
 */
export async function requeueStaleEngineRequests(db: Db, staleMs: number): Promise<number> {
  return requeueEngineRequestsClaimedBefore(db, staleMs);
}

/**
 * Whether a runner of `kinds` has a pending request to try to claim, a stale claim to put back, or a
 * claim made in its pid scope `bootId` (one whose claimer can be found gone here) — one read.
 */
export async function engineRequestsToDo(
  db: Db, kinds: readonly EngineRequestKind[], staleMs: number, bootId: string | null = null,
): Promise<{ pending: boolean; stale: boolean; inScope: boolean }> {
  return engineRequestWork(db, kinds, staleMs, bootId);
}

/**
 * engineRequestsToDo and the bot_state row in the same read (the poll then serves as this process's
 * read of bot_state too); the state undefined without the row, read then as engineRequestsToDo reads.
 */
export async function engineRequestsToDoAndBotState(
  db: Db, kinds: readonly EngineRequestKind[], staleMs: number, bootId: string | null = null,
): Promise<{ pending: boolean; stale: boolean; inScope: boolean; state?: BotState }> {
  return (await engineRequestWorkAndBotState(db, kinds, staleMs, bootId)) ?? engineRequestWork(db, kinds, staleMs, bootId);
}

/**
 * Puts back at once every running request claimed in this pid scope by a process that is gone
 * (claim-gone.ts), not after the stale timeout; the ones it put back.
 */
export async function requeueGoneClaims(db: Db, here: Here, exists?: (pid: number) => boolean): Promise<Array<{ id: number; kind: EngineRequestKind; claimedBy: string }>> {
  if (here.bootId === null) return [];
  const put: Array<{ id: number; kind: EngineRequestKind; claimedBy: string }> = [];
  for (const claim of await runningEngineRequestsClaimedIn(db, here.bootId)) {
    if (!claim.claimedBy || !claim.claimedScope || !claimGone(claim, here, exists)) continue;
    if (await requeueEngineRequestClaim(db, claim.id, { claimedBy: claim.claimedBy, claimedScope: claim.claimedScope })) put.push({ id: claim.id, kind: claim.kind, claimedBy: claim.claimedBy });
  }
  return put;
}

export async function getEngineRequest(db: Db, id: number): Promise<EngineRequest | null> {
  return (await engineRequestById(db, id)) ?? null;
}

export interface WaitOptions {
  timeoutMs: number;
  pollMs?: number;
  signal?: AbortSignal;
}

/** Polls until the request is done or failed; returns it as it stands when the wait runs out. */
export async function waitForEngineRequest(db: Db, id: number, opts: WaitOptions): Promise<EngineRequest | null> {
  const deadline = Date.now() + opts.timeoutMs;
  const pollMs = opts.pollMs ?? 100;
  for (;;) {
    const row = await getEngineRequest(db, id);
    if (!row || row.status === 'done' || row.status === 'failed') return row;
    if (Date.now() >= deadline || opts.signal?.aborted) return row;
    await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, Math.max(1, deadline - Date.now()))));
  }
}

/**
 * The requester gave up waiting: a request nobody has claimed yet is closed as failed with `why`,
 * so a process that starts later does not carry out stale work. Returns false when it was claimed.
 */
export async function withdrawEngineRequest(db: Db, clock: Clock, id: number, why: string): Promise<boolean> {
  return failPendingEngineRequest(db, id, { at: clock.now(), error: why.slice(0, 2000) });
}

/**
 * Whether the requester of `request` has stopped waiting for its answer: its wait (params.waitMs,
 * written with the request; 0 when nobody waits) is over since it was written, on the database's
 * clock — the requester's clock may be minutes off this process's, and the requester may have died
 * mid-wait (a restarted replica, a killed shell), so nothing depends on it saying so. A request
 * written without a wait is judged as over.
 */
export async function requesterStoppedWaiting(db: Db, request: EngineRequest): Promise<boolean> {
  const waitMs = Number(request.params['waitMs']);
  if (!Number.isFinite(waitMs) || waitMs <= 0) return true;
  const asked = await askedAgoMs(db, request.id).catch(() => undefined);
  return !asked || asked.agoMs >= waitMs;
}
