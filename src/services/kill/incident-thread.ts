// Owns keeping an open incident's Slack thread in step with its checklist after the click that
// started the work: an item asked of the engine's process shows pending, and when the engine's
// process finishes it (possibly after whoever asked stopped waiting) the thread's checklist message
// is updated and the answer is posted in the thread, once across every process that serves Slack.
// Runs from the halt watcher's poll (only while halted: a closed incident needs no updates).
import { openIncidentsWithThread } from '../../db/queries/kill-incidents.js';
import type { Incident, IncidentChecklistItem } from '../../db/schema/index.js';
import { claimAnnouncement, closeUnansweredFollowUps, type ChecklistDeps } from './checklist-records.js';
import { checklistOf } from './persist-kill.js';
import { withWaitingRequests, type ShownChecklistItem, type WaitingDeps } from './waiting-request.js';

export interface IncidentThread {
  /** Replaces the thread's checklist message (chat.update). */
  update(incident: Incident, items: ShownChecklistItem[]): Promise<void>;
  /** Posts an item's answer in the thread. */
  note(incident: Incident, item: IncidentChecklistItem): Promise<void>;
}

// nextTryAt: a kill's follow-up the bot retries shows when its next try is (cancel-follow-up.ts).
// waiting: a queued request taken (or a process that would take it starting) changes what the item
// says; the engine lease's heartbeat age in it ("12s ago") does not, or the message would be
// rewritten every poll while a keyless or stale engine holds the lease.
const HEARTBEAT_AGE = /\d+s ago/g;
const standing = (w: ShownChecklistItem['waiting']) => (w ? [w.takenBy, w.runningBot, w.botKnown, w.retried ?? null, w.engine.replace(HEARTBEAT_AGE, 's ago')] : null);
const signature = (items: ShownChecklistItem[]) =>
  JSON.stringify(items.map((i) => [i.item, i.state, i.requestId, i.doneAt?.toISOString() ?? null, i.outcome?.nextTryAt ?? null, standing(i.waiting)]));

/** One refresher per process: it remembers what it last showed, so an unchanged checklist costs one query. */
export function incidentThreadRefresher(ctx: ChecklistDeps & WaitingDeps, thread: IncidentThread): () => Promise<void> {
  const shown = new Map<number, string>();
  return async () => {
    const open = await openIncidentsWithThread(ctx.db);
    for (const incident of open) {
      // A kill's follow-up nobody took in time is closed here too: a Slack-only process keeps the thread true.
      const items = await withWaitingRequests(ctx, await closeUnansweredFollowUps(ctx, await checklistOf(ctx.db, incident.id)));
      const sig = signature(items);
      if (shown.get(incident.id) !== sig) {
        await thread.update(incident, items);
        shown.set(incident.id, sig);
      }
      for (const item of items) {
        const finished = item.state === 'done' || item.state === 'failed';
        if (finished && item.outcome?.threadNote === true && item.outcome.threadNoted !== true && (await claimAnnouncement(ctx, item.id))) {
          await thread.note(incident, item);
        }
      }
    }
  };
}
