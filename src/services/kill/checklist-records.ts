// Owns writing a checklist item's state: todo → pending (handed over as an engine request) → done |
// failed, with what doing it found. Done keeps its first person and time (a second click or a Slack
// retry changes nothing) and is final but for one case: a cancel again that finds orders still open
// reopens the cancel item as failed, since its done no longer holds of Kraken; failed can be tried again. A handed-over item is finished
// by whichever process learns the request's answer first — the requester still waiting, or the
// engine's process that carried it out (the request runner's onFinished) — and only while it still
// points at that request, so a late answer never overwrites a newer attempt.
import type { Clock } from '../../clock.js';
import { cleanJson } from '../../db/clean-text.js';
import type { Db } from '../../db/client.js';
import { engineRequestById, failPendingEngineRequest, followUpWaitAges } from '../../db/queries/engine-requests.js';
import {
  checklistItem, claimChecklistAnnouncement, finishChecklistItemOfRequest, markChecklistItemAttempt, markChecklistItemDone, notePendingChecklistItemOfRequest,
  reopenChecklistItem,
} from '../../db/queries/kill-checklist.js';
import { CANCEL_ALL_STALE_MS } from '../../domain/cancel-handover.js';
import type { ChecklistItemKey, EngineRequest, IncidentChecklistItem } from '../../db/schema/index.js';
import type { Actor } from '../../domain/actor.js';
import { AppError } from '../../errors.js';
import type { HandlerOutcome } from '../engine-requests/runner.js';
import { requesterStoppedWaiting } from '../engine-requests/store.js';
import type { CapabilityOutcome } from './incident-ports.js';

export interface TickOutcome {
  item: IncidentChecklistItem;
  /** Someone had already done it: the first record stands. */
  alreadyDone: boolean;
}

/** Writing a checklist item: its row, and the clock that dates a done item. */
export interface ChecklistDeps {
  db: Db;
  clock: Clock;
}

type Ctx = ChecklistDeps;

async function existing(ctx: Ctx, incidentId: number, item: ChecklistItemKey): Promise<IncidentChecklistItem> {
  const row = await checklistItem(ctx.db, incidentId, item);
  if (!row) throw new AppError('usage', 'no_such_item', `Incident ${incidentId} has no checklist item ${item}.`);
  return row;
}

/** Marks an item done by `actor` now, unless it is done already (then the first record stands). */
export async function markChecklistItem(
  ctx: Ctx,
  opts: { incidentId: number; item: ChecklistItemKey; actor: Actor | string; outcome: Record<string, unknown>; requestId?: number | null },
): Promise<TickOutcome> {
  const updated = await markChecklistItemDone(ctx.db, {
    incidentId: opts.incidentId, item: opts.item, at: ctx.clock.now(), by: typeof opts.actor === 'string' ? opts.actor : opts.actor.id, outcome: cleanJson(opts.outcome),
    ...(opts.requestId !== undefined ? { requestId: opts.requestId } : {}),
  });
  if (updated) return { item: updated, alreadyDone: false };
  return { item: await existing(ctx, opts.incidentId, opts.item), alreadyDone: true };
}

/** Records a pending (handed over) or failed attempt; never touches an item that is done. */
export async function markChecklistAttempt(
  ctx: Ctx,
  opts: { incidentId: number; item: ChecklistItemKey; state: 'pending' | 'failed'; outcome: Record<string, unknown>; requestId?: number | null },
): Promise<IncidentChecklistItem> {
  const updated = await markChecklistItemAttempt(ctx.db, {
    incidentId: opts.incidentId, item: opts.item, state: opts.state, outcome: cleanJson(opts.outcome), requestId: opts.requestId ?? null,
  });
  return updated ?? existing(ctx, opts.incidentId, opts.item);
}

/** A done item whose fact no longer holds, reopened as failed with `outcome`; undefined when it was not done. */
export async function reopenChecklistItemRecord(
  ctx: Ctx, opts: { incidentId: number; item: ChecklistItemKey; outcome: Record<string, unknown> },
): Promise<IncidentChecklistItem | undefined> {
  return reopenChecklistItem(ctx.db, { incidentId: opts.incidentId, item: opts.item, outcome: cleanJson(opts.outcome) });
}

/** Records what a capability answered: done, failed, or pending with its request. */
export async function recordCapabilityOutcome(
  ctx: Ctx,
  opts: { incidentId: number; item: ChecklistItemKey; actor: Actor | string; outcome: CapabilityOutcome; note?: string | undefined },
): Promise<TickOutcome> {
  const record = { summary: opts.outcome.summary, ...(opts.note ? { note: opts.note } : {}), ...(opts.outcome.details ?? {}), ...(opts.outcome.requestId !== undefined ? { requestId: opts.outcome.requestId } : {}) };
  if (opts.outcome.state === 'done') {
    return markChecklistItem(ctx, { incidentId: opts.incidentId, item: opts.item, actor: opts.actor, outcome: record, requestId: opts.outcome.requestId ?? null });
  }
  const item = await markChecklistAttempt(ctx, { incidentId: opts.incidentId, item: opts.item, state: opts.outcome.state, outcome: record, requestId: opts.outcome.requestId ?? null });
  return { item, alreadyDone: item.state === 'done' };
}

/**
 * The engine's process finished a request that does a checklist item: done or failed, with the
 * result. Done by the person who asked for it — except a kill's follow-up cancel, which nobody asked
 * for as such: the bot that carried it out confirmed it, so the item names that bot (its holder id).
 * Only while the item still waits on this very request.
 */
export async function finishChecklistRequest(ctx: Ctx, request: EngineRequest, outcome: HandlerOutcome): Promise<IncidentChecklistItem | null> {
  if (request.incidentId === null || !request.checklistItem) return null;
  const item = request.checklistItem as ChecklistItemKey;
  // threadNote: the requester stopped waiting before this answer, so the incident thread tells it
  // (an answer inside the wait is told by the requester itself).
  const threadNote = await requesterStoppedWaiting(ctx.db, request);
  const record = cleanJson({
    summary: outcome.summary, ...(outcome.details ?? {}), requestId: request.id, carriedOutBy: request.claimedBy, requestedBy: request.requestedBy, ...(threadNote ? { threadNote: true } : {}),
  });
  const by = request.params['followUp'] === true && request.claimedBy ? request.claimedBy : request.requestedBy;
  const updated = await finishChecklistItemOfRequest(ctx.db, {
    incidentId: request.incidentId, item, requestId: request.id, ok: outcome.ok, at: ctx.clock.now(), by, outcome: record,
  });
  return updated ?? null;
}

/** A request whose handler tries again later: its item stays pending and says so, while it still waits on that request. */
export async function notePendingChecklistRequest(ctx: Ctx, request: EngineRequest, outcome: HandlerOutcome): Promise<IncidentChecklistItem | null> {
  if (request.incidentId === null || !request.checklistItem) return null;
  const record = cleanJson({ summary: outcome.summary, ...(outcome.details ?? {}), requestId: request.id, ...(outcome.retryAt ? { nextTryAt: outcome.retryAt.toISOString() } : {}) });
  const updated = await notePendingChecklistItemOfRequest(ctx.db, { incidentId: request.incidentId, item: request.checklistItem as ChecklistItemKey, requestId: request.id, outcome: record });
  return updated ?? null;
}

/** The runner's onRetry for the process that carries out incident requests. */
export function checklistRetry(ctx: Ctx): (request: EngineRequest, outcome: HandlerOutcome) => Promise<void> {
  return async (request, outcome) => {
    await notePendingChecklistRequest(ctx, request, outcome);
  };
}

/** The runner's onFinished for the process that carries out incident requests. */
export function checklistFollowUp(ctx: Ctx): (request: EngineRequest, outcome: HandlerOutcome) => Promise<void> {
  return async (request, outcome) => {
    await finishChecklistRequest(ctx, request, outcome);
  };
}

/**
 * A kill's follow-up cancel that no bot took within CANCEL_ALL_STALE_MS (of its writing or of the
 * last kill that joined it, or of its next try when a bot is retrying it) will never be carried out (the handler refuses it as stale): the request is closed failed and its item says so, instead of
 * showing pending for ever while nobody confirms Kraken. Whoever reads the incident does it (any
 * process; one write, only while the request is still unclaimed, so a bot that takes it first
 * answers it itself). Returns the items as they now stand.
 */
export async function closeUnansweredFollowUps(ctx: Ctx, items: IncidentChecklistItem[]): Promise<IncidentChecklistItem[]> {
  if (!items.some((i) => i.item === 'cancel_orders' && i.state === 'pending' && i.requestId !== null)) return items;
  return Promise.all(items.map(async (item) => {
    if (item.item !== 'cancel_orders' || item.state !== 'pending' || item.requestId === null) return item;
    const request = await engineRequestById(ctx.db, item.requestId);
    const now = ctx.clock.now();
    if (request?.kind !== 'cancel_all' || request.status !== 'pending') return item;
    // A follow-up the bot is retrying waits for its next try: only a try nobody takes counts; one a
    // later kill joined waits for a bot from that join. All on the database's clock: the reader's
    // (a shell's) may be minutes off the bot's that wrote the next try.
    const ages = await followUpWaitAges(ctx.db, request.id);
    if (!ages || ages.waitedMs <= CANCEL_ALL_STALE_MS) return item;
    const minutes = CANCEL_ALL_STALE_MS / 60_000;
    const latest = (ago: number | null) => ago !== null && ago <= ages.writtenAgoMs && ago === Math.min(ago, ages.joinedAgoMs ?? Infinity, ages.dueAgoMs ?? Infinity);
    // The moment named is the one judged: as the database's clock wrote it (params.dueAt, params.joinedAt),
    // not this reader's clock less an age (params.dueAt is not_before as written).
    const dbTime = (key: 'dueAt' | 'joinedAt') => (typeof request.params[key] === 'string' ? request.params[key] : null);
    const why = latest(ages.dueAgoMs)
      ? `no bot with the Kraken key took its next try within ${minutes} min of ${dbTime('dueAt') ?? 'its due time'}`
      : latest(ages.joinedAgoMs)
        ? `no bot with the Kraken key took it within ${minutes} min of the last kill that joined it (${dbTime('joinedAt') ?? 'its time unread'})`
        : `no bot with the Kraken key took it within ${minutes} min`;
    // Judged again as it is written: a kill that joined it since this read moved its wait on.
    const unanswered = { waitedMs: CANCEL_ALL_STALE_MS };
    if (!(await failPendingEngineRequest(ctx.db, request.id, { at: now, error: why, unanswered }))) return item;
    const summary = `Zero open orders on Kraken were never confirmed: ${why} (request #${request.id}), so orders may remain open on Kraken. Run \`ctb kill\` again where the key is, or cancel in Kraken's UI, then cancel again here.`;
    return (await finishChecklistRequest(ctx, request, { ok: false, summary })) ?? item;
  }));
}

/**
 * Claims the announcement of a finished item (once, across processes): true for the caller that
 * should tell people — the incident thread for an answer nobody was waiting for, or the requester
 * that got the answer itself (then the thread does not repeat it).
 */
export async function claimAnnouncement(ctx: Ctx, itemId: number): Promise<boolean> {
  return claimChecklistAnnouncement(ctx.db, itemId);
}
