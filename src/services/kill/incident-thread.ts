// Owns keeping an open incident's Slack thread in step with its checklist after the click that
// started the work: an item asked of the engine's process shows pending, and when the engine's
// process finishes it (possibly after whoever asked stopped waiting) the thread's checklist message
// is updated and the answer is posted in the thread, once across every process that serves Slack.
// The message is updated by one process at a time and no faster than its meaning changes (see
// domain/incident-thread-pace.ts): four replicas polling every 500 ms send what one would, once.
// Runs from the halt watcher's poll while halted, and on the polls after the halt is lifted until the
// message shows it (an incident left open on a bot not halted says so: a change in the halt alone redraws it).
import { createHash } from 'node:crypto';
import { openIncidentsWithThread, swapThreadShown } from '../../db/queries/kill-incidents.js';
import type { Incident, IncidentChecklistItem, ThreadShown } from '../../db/schema/index.js';
import { withoutAges } from '../../domain/engine-holder.js';
import { MIN_UPDATE_GAP_MS, threadUpdateDue, type ThreadView } from '../../domain/incident-thread-pace.js';
import { retryAfterOf } from '../../notifications/notification.js';
import { claimAnnouncement, closeUnansweredFollowUps, type ChecklistDeps } from './checklist-records.js';
import { checklistOf } from './persist-kill.js';
import { withWaitingRequests, type ShownChecklistItem, type WaitingDeps } from './waiting-request.js';

export interface IncidentThread {
  /** Replaces the thread's checklist message (chat.update). */
  update(incident: Incident, items: ShownChecklistItem[]): Promise<void>;
  /** Posts an item's answer in the thread. */
  note(incident: Incident, item: IncidentChecklistItem): Promise<void>;
}

// Three digests of what the message shows (see domain/incident-thread-pace.ts for what each allows).
// facts: whether the bot is halted, each item's state, its request, who took it and a bot's next try (a kill's follow-up the bot
// retries shows when it tries again, cancel-follow-up.ts: each try Kraken refused moves it, seconds
// apart at the least) — a change shows at once.
// meaning: the words, with clock-derived ages made one (a waiting item's text names who runs the engine).
// payload: the words as shown, ages included.
const digest = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 32);
function viewOf(items: ShownChecklistItem[], botHalted: boolean): ThreadView {
  const facts = [botHalted, ...items.map((i) => [i.item, i.state, i.requestId, i.doneAt?.toISOString() ?? null, i.waiting?.takenBy ?? null, i.outcome?.nextTryAt ?? null])];
  const words = (text: (t: string) => string) => items.map((i) => (i.waiting ? text(i.waiting.text) : null));
  return { facts: digest(facts), meaning: digest([facts, words(withoutAges)]), payload: digest([facts, words((t) => t)]) };
}

/**
 * Keeps each open incident's checklist message in step, paced across every process that runs it:
 * what the message shows lives in the incident row, and a process updates it only after swapping
 * that record from what it read, so two processes never send the same update. `botHalted`: as the
 * caller's read of bot_state found it (the message says when an incident is open on a bot not halted).
 */
export function incidentThreadRefresher(ctx: ChecklistDeps & WaitingDeps, thread: IncidentThread): (botHalted?: boolean) => Promise<boolean> {
  /** Whether every open incident's message now shows what it would (false: an update waits, is paced or another process sends it). */
  return async (botHalted = true) => {
    let shown = true;
    const open = await openIncidentsWithThread(ctx.db);
    for (const incident of open) {
      // A kill's follow-up nobody took in time is closed here too: a Slack-only process keeps the thread true.
      const items = await withWaitingRequests(ctx, await closeUnansweredFollowUps(ctx, await checklistOf(ctx.db, incident.id)));
      if (!(await updateIfDue(ctx, thread, incident, items, botHalted))) shown = false;
      for (const item of items) {
        const finished = item.state === 'done' || item.state === 'failed';
        if (finished && item.outcome?.threadNote === true && item.outcome.threadNoted !== true && (await claimAnnouncement(ctx, item.id))) {
          await thread.note(incident, item);
        }
      }
    }
    return shown;
  };
}

/** Whether the message shows this view once done: sent now, or shown already. */
async function updateIfDue(ctx: ChecklistDeps, thread: IncidentThread, incident: Incident, items: ShownChecklistItem[], botHalted: boolean): Promise<boolean> {
  const view = viewOf(items, botHalted);
  const now = ctx.clock.now();
  const shown = incident.threadShown;
  if (!threadUpdateDue(shown, view, now)) return shown !== null && !shown.updating && shown.payload === view.payload;
  const claim: ThreadShown = { ...view, at: now.toISOString(), updating: true };
  if (!(await swapThreadShown(ctx.db, incident.id, { expected: shown, next: claim }))) return false;
  try {
    await thread.update(incident, items);
  } catch (err) {
    // Not shown: what was shown before stands, and nobody tries again before Slack allows it.
    const wait = retryAfterOf(err) ?? MIN_UPDATE_GAP_MS;
    // (A claim taken over from a process that died sending it says nothing of what is shown.)
    const before: ThreadShown = shown && !shown.updating ? shown : { facts: '', meaning: '', payload: '', at: new Date(0).toISOString(), updating: false };
    await swapThreadShown(ctx.db, incident.id, { expected: claim, next: { ...before, updating: false, notBefore: new Date(now.getTime() + wait).toISOString() } });
    throw err;
  }
  await swapThreadShown(ctx.db, incident.id, { expected: claim, next: { ...claim, updating: false } });
  return true;
}
