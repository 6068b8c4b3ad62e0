// Owns telling a group's thread that an occurrence it already showed was stored late: the late mark of
// a write that stalled is written after it committed (sink.ts), and the group's sync may have posted
// that occurrence as a thread reply in between, saying nothing of it. A thread reply is not edited
// (its ts is not kept, and it may list other occurrences): a line follows it in the thread. As with
// pages (late-pages.ts), both sides look: the mark's transaction notes an occurrence Slack already
// shows, and a sync that posted occurrences re-reads them under a share lock before it records them
// shown, so a mark being written is waited for (and noted by the sync), and one written later waits
// for the sync's commit and then finds the occurrence shown. Said once, whichever side sees it.
import type { Db } from '../db/client.js';
import { eventsDetailsLocked, threadShowing } from '../db/queries/alert-events.js';
import { enqueueThreadNote } from '../db/queries/alert-outbox.js';
import type { AlertEvent } from '../db/schema/alerts.js';
import { outageMarkOf } from '../domain/alert-outage.js';
import { threadLateLine } from './render.js';

/** In the mark's transaction, after the event got it: a thread that already shows it is told. */
export async function lateThreadOnMark(tx: Db, input: { groupId: number; eventId: number; details: Record<string, unknown>; now: Date }): Promise<void> {
  const channel = await threadShowing(tx, input);
  const text = threadLateLine(input.details);
  if (channel && text) await enqueueThreadNote(tx, { groupId: input.groupId, channel, now: input.now, text });
}

/** In a sync's transaction, once a thread reply listing `shown` went out: a mark written meanwhile is noted under it. */
export async function afterThreadReply(tx: Db, input: { groupId: number; channel: string; shown: AlertEvent[]; now: Date }): Promise<void> {
  const unmarked = input.shown.filter((e) => !outageMarkOf(e.details)).map((e) => e.id);
  for (const event of await eventsDetailsLocked(tx, unmarked)) {
    const text = threadLateLine(event.details);
    if (text) await enqueueThreadNote(tx, { groupId: input.groupId, channel: input.channel, now: input.now, text });
  }
}
