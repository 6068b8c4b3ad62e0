// Owns the incident a kill opens and its manual-intervention checklist: reading it, and doing an
// item. No item is ticked done by code that did not do it: "cancel again" re-cancels everywhere
// here; "close positions" and "reconcile the ledger" go through the context's incident ports (done
// here, or handed to the process that can and shown pending until it answers, then done or failed
// with the result); "notify stakeholders" is a person's word, recorded as who marked it and when.
// Doing an item is idempotent: a second click (or a Slack retry) keeps the first record and says
// so, and an item already handed over is not handed over twice — except cancelling, never refused:
// "cancel again" cancels whatever the item's state while the incident is open.
import { checklistItem, checklistItemsOf } from '../../db/queries/kill-checklist.js';
import { incidentById, latestIncident } from '../../db/queries/kill-incidents.js';
import type { ChecklistItemKey, Incident, IncidentChecklistItem } from '../../db/schema/index.js';
import type { Actor } from '../../domain/actor.js';
import type { AlertSink } from '../../alerts/types.js';
import { AppError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { getEngineRequest, withdrawEngineRequest } from '../engine-requests/store.js';
import { answerBound, cancelEverywhere, mergeCancelReports, type VenueCancelReport } from './cancel-everywhere.js';
import { handKrakenCancelOver, leaseForHandoff, neverLiveHere } from './handoff.js';
import { KrakenRoom } from './kraken-room.js';
import type { KillPorts } from './runtime.js';
import { checklistSpec } from '../../domain/incident-checklist.js';
import { handedOffPhrase, neverLiveNotice, queuedHandOff } from '../../domain/kraken-handoff.js';
import {
  claimAnnouncement, closeUnansweredFollowUps, finishChecklistRequest, markChecklistAttempt, recordCapabilityOutcome, reopenChecklistItemRecord, type ChecklistDeps,
} from './checklist-records.js';
import { describeError, withDeadline } from './deadline.js';
import { haltAlertGroupsToResolve } from './halt-cancel.js';
import { confirmedClear, inFlightPhrase, neverLiveNotClear, ordersInFlightNow, ordersMayLand } from './fence.js';
import { writeFollowUp } from './follow-up-request.js';
import { waitingOn, withWaitingRequests, type ShownChecklistItem, type WaitingDeps } from './waiting-request.js';
import { outcomeOfRequest, type CapabilityOutcome, type IncidentDeps, type IncidentPorts } from './incident-ports.js';

export { markChecklistItem, type TickOutcome } from './checklist-records.js';

export interface IncidentView {
  incident: Incident;
  /** A pending cancel item carries `waiting`: its request taken or still queued, as read now. */
  items: ShownChecklistItem[];
}

/**
 * Doing an item: what the incident's ports need (they do the work here or hand it over), the log
 * of the cancel, and the ports themselves.
 */
/** `alerts`: where a confirmed cancel again resolves the kill's "could not confirm" group (absent: nothing to resolve). */
export type ChecklistItemDeps = IncidentDeps & {
  logger: Logger; incident: IncidentPorts; alerts?: Pick<AlertSink, 'resolve'>;
  /**
   * The time a cancel again's rounds run on, Kraken's shared rate record, and who is told a line at
   * each call that missed its deadline (the terminal that runs it), as the kill's (runtime.ts).
   */
  kill: Pick<KillPorts, 'time' | 'counter' | 'onProgress'>;
};

/**
 * The open incident, or else the most recent one; null when there has never been one. A kill's
 * follow-up cancel nobody took in time is closed as it is read (checklist-records.ts).
 */
export async function currentIncident(ctx: ChecklistDeps & WaitingDeps, incidentId?: number): Promise<IncidentView | null> {
  const incident = incidentId !== undefined ? await incidentById(ctx.db, incidentId) : await latestIncident(ctx.db);
  if (!incident) return null;
  const items = await closeUnansweredFollowUps(ctx, await checklistItemsOf(ctx.db, incident.id));
  return { incident, items: await withWaitingRequests(ctx, items) };
}

export interface DoItemResult {
  /** Done now or before; false while pending or after a failure. */
  ok: boolean;
  incidentId: number;
  item: ChecklistItemKey;
  state: 'done' | 'failed' | 'pending';
  alreadyDone: boolean;
  doneBy: string | null;
  doneAt: Date | null;
  /** The engine request carrying the work, when it was handed over. */
  requestId: number | null;
  summary: string;
}

/** Does (where the bot can) and records one checklist item of the open incident. */
export async function doChecklistItem(
  ctx: ChecklistItemDeps,
  opts: { item: ChecklistItemKey; actor: Actor; confirmed: boolean; note?: string | undefined; incidentId?: number | undefined },
): Promise<DoItemResult> {
  const view = await currentIncident(ctx, opts.incidentId);
  if (!view) throw new AppError('conflict', 'no_incident', 'There is no incident: nothing has been killed.');
  const existing = view.items.find((i) => i.item === opts.item);
  if (!existing) throw new AppError('usage', 'no_such_item', `Incident ${view.incident.id} has no checklist item ${opts.item}.`);
  const base = { incidentId: view.incident.id, item: opts.item };
  if (existing.doneAt) {
    // Cancelling is never refused: while the incident is open, "cancel again" cancels even after the
    // item was done (orders can appear after it was confirmed clear, and an operator who asks sees one).
    if (opts.item === 'cancel_orders' && view.incident.status === 'open') return cancelAgainAfterDone(ctx, view.incident, existing, opts.actor);
    return { ...base, ok: true, state: 'done', alreadyDone: true, doneBy: existing.doneBy, doneAt: existing.doneAt, requestId: existing.requestId,
      summary: `Already done by ${existing.doneBy} at ${existing.doneAt.toISOString()}.` };
  }
  // Handed over and not answered yet: say so instead of handing it over again — except cancelling,
  // which is never refused: "cancel again" cancels now, whatever a follow-up still waits on.
  const waiting = existing.state === 'pending' && existing.requestId !== null && opts.item !== 'cancel_orders' ? await stillPending(ctx, existing) : null;
  if (waiting) return { ...base, ok: false, state: 'pending', alreadyDone: false, doneBy: null, doneAt: null, requestId: waiting.requestId ?? null, summary: waiting.summary };
  if (checklistSpec(opts.item).confirm && !opts.confirmed) {
    throw new AppError('usage', 'confirmation_required', `${checklistSpec(opts.item).label} changes the account: confirm it.`, {
      hint: 'In the terminal add --yes; in Slack press Confirm in the dialog.',
    });
  }
  // Shown pending the moment it is handed over, so the engine's answer lands on the item even if
  // this process stops waiting (or dies) first.
  const onHandedOver = (requestId: number) => markChecklistAttempt(ctx, {
    incidentId: view.incident.id, item: opts.item, state: 'pending', requestId,
    outcome: { summary: `Asked of the engine's process by ${opts.actor.id} (request #${requestId}), queued in the database.`, requestId, ...(opts.note ? { note: opts.note } : {}) },
  });
  const outcome = await asItStands(ctx, await perform(ctx, opts.item, opts.actor, view.incident, onHandedOver));
  const tick = await recordCapabilityOutcome(ctx, { incidentId: view.incident.id, item: opts.item, actor: opts.actor, outcome, note: opts.note });
  // The engine's process finished the item (done or failed) while we waited: it is this request's
  // answer, told here — with what it recorded, not what this process said while it still waited.
  const finished = tick.alreadyDone || (outcome.state === 'pending' && tick.item.state === 'failed');
  const ours = finished && outcome.requestId !== undefined && tick.item.requestId === outcome.requestId;
  if (ours) await claimAnnouncement(ctx, tick.item.id);
  const alreadyDone = tick.alreadyDone && !ours;
  const done = tick.item.state === 'done';
  const answer = ours && typeof tick.item.outcome?.summary === 'string' ? tick.item.outcome.summary : outcome.summary;
  return {
    ...base, ok: done, state: done ? 'done' : ours ? 'failed' : outcome.state, alreadyDone, doneBy: tick.item.doneBy, doneAt: tick.item.doneAt,
    requestId: outcome.requestId ?? null, summary: alreadyDone ? `Already done by ${tick.item.doneBy} at ${tick.item.doneAt?.toISOString()}.` : answer,
  };
}

/** The item's request when it is still open; null when it finished (the item is brought up to date). */
async function stillPending(ctx: ChecklistItemDeps, item: IncidentChecklistItem): Promise<CapabilityOutcome | null> {
  const request = await getEngineRequest(ctx.db, item.requestId!);
  if (!request) return null;
  const outcome = outcomeOfRequest(request);
  if (outcome.state === 'pending') return asItStands(ctx, outcome);
  await finishChecklistRequest(ctx, request, { ok: outcome.state === 'done', summary: outcome.summary, ...(outcome.details ? { details: outcome.details } : {}) });
  return null;
}

/**
 * A close-positions or reconcile item still waiting on the engine's process, said as its request
 * stands now (taken by whom, or queued with an engine running, none, or no way to tell): the same
 * words as the incident shows (waiting-request.ts). A cancel's pending answer says its own.
 */
async function asItStands(ctx: ChecklistItemDeps, outcome: CapabilityOutcome): Promise<CapabilityOutcome> {
  if (outcome.state !== 'pending' || outcome.requestId === undefined) return outcome;
  const waiting = await waitingOn(ctx, outcome.requestId).catch(() => null);
  if (!waiting || waiting.waitsFor !== 'engine') return outcome;
  return { ...outcome, summary: `${waiting.text.charAt(0).toUpperCase()}${waiting.text.slice(1)}.` };
}

async function perform(
  ctx: ChecklistItemDeps, item: ChecklistItemKey, actor: Actor, incident: Incident, onHandedOver: (requestId: number) => Promise<unknown>,
): Promise<CapabilityOutcome> {
  const incidentId = incident.id;
  try {
    switch (item) {
      case 'cancel_orders':
        return await cancelAgain(ctx, actor, incident);
      case 'close_positions':
        return await ctx.incident.flatten(ctx, { actor, incidentId, checklistItem: item, onHandedOver });
      case 'reconcile_ledger':
        return await ctx.incident.reconcile(ctx, { actor, incidentId, checklistItem: item, onHandedOver });
      case 'notify_stakeholders':
        // The bot cannot know who was told: it records who says they were, and when (doneBy and
        // doneAt, shown beside the summary everywhere — so the summary does not repeat them).
        return { state: 'done', summary: 'Marked done by hand: the bot cannot check who was told.' };
    }
  } catch (err) {
    return { state: 'failed', summary: `Failed: ${describeError(err)}` };
  }
}

/**
 * "Cancel again": every venue this process can clear, in rounds paced as the kill's (within
 * KILL_CONFIRM_WAIT, waiting for room on a full Kraken rate counter), and Kraken through the running
 * bot that holds the key when this process has none (a web replica, an operator's shell) — as the
 * kill does: an item is never ticked done on what paper alone answered while Kraken was not asked.
 * Done only when it is clear (fence.ts): every venue confirmed zero open orders, and no order of ours was on its way when
 * it cancelled (read first, so an order that lands after Kraken's answer cannot go unseen); then a
 * follow-up the kill left pending on this item is withdrawn (its answer would be older news) and the
 * kill's alert group is resolved. Kraken not confirmed, or an order still on its way: the cancel goes
 * on as a follow-up of its own for the bot with the key, which waits for orders on their way and
 * retries until Kraken confirms (cancel-follow-up.ts), and the item shows pending on it — unless this
 * bot was never live here (no bot has the key, no live order ever): nothing is queued, and the item
 * ends failed with what could not be confirmed (paper, or the orders on their way).
 */
async function cancelAgain(ctx: ChecklistItemDeps, actor: Actor, incident: Incident): Promise<CapabilityOutcome> {
  const startedAt = Date.now();
  const fence = await ordersInFlightNow(ctx.db, ctx.config.KILL_DB_TIMEOUT);
  const progress = (line: string) => {
    try {
      ctx.kill.onProgress?.(line);
    } catch (err) {
      ctx.logger.error({ err, incidentId: incident.id }, 'cancel again: could not tell its progress');
    }
  };
  // Bound as the kill's answer is: against a hung Kraken the operator is answered within
  // KILL_CONFIRM_WAIT plus one call's deadline, told meanwhile which call missed its deadline, and
  // what is not confirmed by then goes on as a follow-up request (below), never ticked done.
  const bound = answerBound(ctx.kill.time, ctx.config.KILL_CONFIRM_WAIT, ctx.config.KILL_CALL_TIMEOUT);
  let report = await cancelEverywhere({
    exchanges: ctx.exchanges, logger: ctx.logger, attempts: ctx.config.KILL_CONFIRM_ATTEMPTS, ...bound, progress, answerName: "the cancel again's answer",
    // Paper lives in our database: a stalled one gives up at the database's deadline, as in a kill, not an exchange call's.
    databaseTimeoutMs: ctx.config.KILL_DB_TIMEOUT,
    // Paced as the kill's rounds: once Kraken refuses a call for the rate limit, the next waits for room.
    krakenRoom: new KrakenRoom(ctx.config.KRAKEN_RATE_TIER, bound.now, { counter: ctx.kill.counter, readTimeoutMs: ctx.config.KILL_DB_TIMEOUT }),
  });
  // As the kill judges it (kill.ts): no key here nor in the running bot, and no use of Kraken ever
  // in the database (a live order, live mode, a keyed or armed lease, a cancel there) — nothing of this bot is on Kraken and nobody could take a cancel, so
  // none is handed over or queued, and none is said to be. One reading of the lease decides both.
  let neverLive: { nobody: string } | null = null;
  if (!ctx.exchanges.hasKrakenKeys()) {
    const holder = await leaseForHandoff(ctx);
    neverLive = await neverLiveHere(ctx, holder);
    if (!neverLive) {
      const kraken = await handKrakenCancelOver(ctx, holder, { killId: incident.killId, actor: actor.id, reason: `incident #${incident.id}: cancel again`, startedAt });
      report = mergeCancelReports(report, { venues: [kraken], allConfirmed: kraken.confirmed });
    }
  }
  const counts = report.venues.map(venueCount).join(', ');
  if (confirmedClear(report.allConfirmed, fence)) {
    await withdrawFollowUp(ctx, incident.id, `cancelled again and confirmed by ${actor.id}`);
    // Zero open orders confirmed and none on its way: the kill's "could not confirm" group is over (its
    // escalation stops), and so is the halt's own, whose follow-up (taken over by this incident) was just withdrawn.
    const resolve = ctx.alerts?.resolve;
    if (resolve) {
      for (const fingerprint of haltAlertGroupsToResolve(incident.id)) {
        await withDeadline(resolve({ fingerprint, by: actor.id, note: `cancelled again and confirmed, no order on its way — ${counts}` }),
          ctx.config.KILL_DB_TIMEOUT, 'the alert pipeline').catch((err: unknown) => ctx.logger.error({ err, incidentId: incident.id, fingerprint }, 'could not resolve the kill alert after a confirmed cancel again'));
      }
    }
    return {
      state: 'done', summary: `Cancelled again — ${counts}.${neverLive ? ` ${neverLiveNotice(neverLive.nobody)}` : ''}`,
      details: { cancel: report, ...(neverLive ? { krakenAccess: 'never_live' } : {}) },
    };
  }
  // Not clear: a venue did not confirm, or every venue said none open while an order of ours may still land.
  const landing = ordersMayLand(fence);
  const headOf = (venues: string) => (report.allConfirmed
    ? `Cancel again NOT CONFIRMED CLEAR — ${venues}, but ${midSentence(inFlightPhrase(fence))} and may reach the exchange after this cancel.`
    : `Cancel again NOT ALL CONFIRMED — ${venues}.${landing ? ` ${inFlightPhrase(fence)}.` : ''}`);
  const head = headOf(counts);
  const details = { cancel: report, ...(landing ? { fence } : {}) };
  // Never live here: nothing of this bot is on Kraken and no bot has the key, so a follow-up (which
  // cancels only on Kraken, for a bot with the key) would wait for nobody and could clear nothing. The
  // item ends failed, saying what could not be confirmed; a kill's follow-up still waiting on it goes too.
  if (neverLive) {
    await withdrawFollowUp(ctx, incident.id, `superseded by a cancel again by ${actor.id}: nothing of this bot is on Kraken`);
    const { next } = neverLiveNotClear(report.venues, fence);
    return {
      state: 'failed', details: { ...details, krakenAccess: 'never_live' },
      summary: `${head} ${neverLiveNotice(neverLive.nobody)} Nothing is queued for a bot (it would cancel only on Kraken): ${next}.`,
    };
  }
  const krakenUnconfirmed = report.venues.some((v) => v.venue === 'kraken' && !v.confirmed);
  if (!(krakenUnconfirmed || landing) || incident.status !== 'open') return { state: 'failed', summary: head, details };
  // The bot with the key goes on (it waits for orders on their way, then cancels: cancel-follow-up.ts), and this item waits on it.
  // Who takes it is said in the answer, from the request as written: nothing is said of it before.
  try {
    // The follow-up the item waits on (the kill's, an earlier cancel again's) is withdrawn in the same
    // transaction as this one is written: a write that fails or a process stopped in between never
    // leaves the item with no follow-up at all.
    const earlier = await withDeadline(checklistItem(ctx.db, incident.id, 'cancel_orders'), ctx.config.KILL_DB_TIMEOUT, 'the database');
    const supersede = earlier?.state === 'pending' && earlier.requestId !== null
      ? { requestId: earlier.requestId, why: `superseded by a cancel again by ${actor.id} that could not confirm either` } : undefined;
    const f = await writeFollowUp(ctx, {
      incidentId: incident.id, killId: incident.killId, actor: actor.id, reason: `incident #${incident.id}: cancel again`, startedAt, ...(supersede ? { supersede } : {}),
    });
    ctx.logger.warn({ incidentId: incident.id, requestId: f.requestId, joined: f.joined, runningBot: f.runningBot, fence }, 'cancel again: not confirmed clear; the cancel goes on as a follow-up request');
    // Kraken's line says what the rest says: queued for a bot (the follow-up), not "not handed to a bot".
    const queued = { ...report, venues: report.venues.map((v) => (v.venue === 'kraken' && v.handedOff ? { ...v, handedOff: queuedHandOff(v.handedOff, f) } : v)) };
    const until = krakenUnconfirmed ? 'orders may remain open on Kraken' : 'an order may still reach the exchange';
    return {
      state: 'pending', requestId: f.requestId, details: { ...details, cancel: queued, runningBot: f.runningBot },
      summary: `${headOf(queued.venues.map(venueCount).join(', '))} The cancel goes on as request #${f.requestId}: ${f.who}. Until then ${until}.`,
    };
  } catch (err) {
    // The follow-up the item already waits on (the kill's) was not withdrawn: it still goes on.
    const still = await openFollowUp(ctx, incident.id);
    if (still !== null) {
      return { state: 'pending', requestId: still, details,
        summary: `${head} The cancel could not be handed on as a new request (${describeError(err)}); request #${still}, which the item already waits on, goes on. Until then orders may remain open on Kraken.` };
    }
    return { state: 'failed', summary: `${head} The cancel could not be handed on to the bot with the Kraken key (${describeError(err)}): orders may remain open on Kraken.`, details };
  }
}

const midSentence = (phrase: string) => `${phrase.charAt(0).toLowerCase()}${phrase.slice(1)}`;

/**
 * One venue of a cancel again, from what it answered: who cancelled on Kraken for a process without
 * the key (the bot that took it, or that none did), and a count only when one was read — a venue
 * nobody could ask has no "0 still open".
 */
function venueCount(v: VenueCancelReport): string {
  const by = v.handedOff ? ` (${handedOffPhrase(v.handedOff, { request: true })})` : '';
  const why = v.errors.length ? ` (${v.errors.at(-1)})` : '';
  if (v.confirmed) return `${v.venue}${by}: none open`;
  if (v.survivors.length > 0) return `${v.venue}${by}: ${v.survivors.length} still open${why}`;
  // Listed before a later cancel that answered or may have run: it may have cancelled them.
  if (v.listedBefore) return `${v.venue}${by}: NOT CONFIRMED, ${v.listedBefore.orders.length} listed open at try ${v.listedBefore.attempt}, before a later cancel${why}`;
  return `${v.venue}${by}: NOT CONFIRMED, open orders not counted${why}`;
}

/**
 * "Cancel again" on an item already done. Confirmed clear: the item stays done (its first record
 * stands) and the answer is this cancel's, by this actor now. Not confirmed: the done record no longer
 * tells the truth about Kraken, so the item is reopened as failed with this answer — and a resume,
 * which needs every item done, waits until Kraken is confirmed clear again.
 */
async function cancelAgainAfterDone(ctx: ChecklistItemDeps, incident: Incident, done: IncidentChecklistItem, actor: Actor): Promise<DoItemResult> {
  const base = { incidentId: incident.id, item: 'cancel_orders' as const };
  const first = `first done by ${done.doneBy} at ${done.doneAt?.toISOString()}`;
  const outcome = await perform(ctx, 'cancel_orders', actor, incident, async () => {});
  if (outcome.state === 'done') {
    return { ...base, ok: true, state: 'done', alreadyDone: false, doneBy: actor.id, doneAt: ctx.clock.now(), requestId: outcome.requestId ?? null,
      summary: `${outcome.summary} The item stays done (${first}).` };
  }
  const summary = `${outcome.summary} The item was done (${first}) and is open again: orders may remain open on Kraken.`;
  const record = { summary, ...(outcome.details ?? {}), reopenedBy: actor.id, wasDoneBy: done.doneBy, wasDoneAt: done.doneAt?.toISOString() };
  await reopenChecklistItemRecord(ctx, { incidentId: incident.id, item: 'cancel_orders', outcome: record });
  // Handed on to the bot with the key, which goes on cancelling: the reopened item waits on it.
  if (outcome.state === 'pending' && outcome.requestId !== undefined) {
    await markChecklistAttempt(ctx, { incidentId: incident.id, item: 'cancel_orders', state: 'pending', requestId: outcome.requestId, outcome: { ...record, requestId: outcome.requestId } });
  }
  return { ...base, ok: false, state: outcome.state === 'pending' ? 'pending' : 'failed', alreadyDone: false, doneBy: null, doneAt: null, requestId: outcome.requestId ?? null, summary };
}

/** The kill's follow-up cancel still waiting on this incident's cancel item, closed unclaimed (a running one finishes on its own). */
async function withdrawFollowUp(ctx: ChecklistItemDeps, incidentId: number, why: string): Promise<void> {
  const item = await checklistItem(ctx.db, incidentId, 'cancel_orders');
  if (item?.state !== 'pending' || item.requestId === null) return;
  await withdrawEngineRequest(ctx.db, ctx.clock, item.requestId, why).catch((err: unknown) => ctx.logger.warn({ err, requestId: item.requestId }, 'could not withdraw the kill follow-up'));
}

/** The follow-up request the incident's cancel item waits on while it is still pending or running; null when none (or it cannot be read). */
async function openFollowUp(ctx: ChecklistItemDeps, incidentId: number): Promise<number | null> {
  const read = async () => {
    const item = await checklistItem(ctx.db, incidentId, 'cancel_orders');
    if (item?.state !== 'pending' || item.requestId === null) return null;
    const request = await getEngineRequest(ctx.db, item.requestId);
    return request && (request.status === 'pending' || request.status === 'running') ? request.id : null;
  };
  return withDeadline(read(), ctx.config.KILL_DB_TIMEOUT, 'the database').catch(() => null);
}

/** `ctb kill --flatten`: the incident's close-positions item, done (or handed over) right after the kill. */
export async function closePositionsAfterKill(ctx: ChecklistItemDeps, actor: Actor, incidentId: number | null): Promise<{ ok: boolean; summary: string; details?: Record<string, unknown> }> {
  if (incidentId === null) {
    const outcome = await asItStands(ctx, await ctx.incident.flatten(ctx, { actor }));
    return { ok: outcome.state === 'done', summary: outcome.summary, ...(outcome.details ? { details: outcome.details } : {}) };
  }
  const r = await doChecklistItem(ctx, { item: 'close_positions', actor, confirmed: true, incidentId });
  return { ok: r.ok, summary: r.summary };
}
