// Owns when an incident's checklist message (a Slack chat.update) is worth sending again, from what
// it last showed (incidents.thread_shown, shared by every process) and what it would show now: a
// changed fact (an item done, failed, handed over, taken by a bot) at once; other changed words at
// most every MIN_UPDATE_GAP_MS; words that differ only by an age ("heartbeat 3s ago") at most every
// AGE_REFRESH_MS; the same payload never. Slack limits chat.update per workspace and per message,
// and an alert's own updates share that budget when people need both.
import type { ThreadShown } from '../db/schema/index.js';

/** Changed words that are no changed fact (a bot's next try, who runs the engine) wait this long after the last update. */
export const MIN_UPDATE_GAP_MS = 5_000;
/** An age alone is brought up to date this often. */
export const AGE_REFRESH_MS = 60_000;
/** A process that claimed an update and neither finished nor gave it back (it died) holds it this long. */
export const UPDATE_CLAIM_MS = 30_000;

/** What the message would show now, as digests (see ThreadShown). */
export type ThreadView = Pick<ThreadShown, 'facts' | 'meaning' | 'payload'>;

export function threadUpdateDue(shown: ThreadShown | null, now: ThreadView, at: Date): boolean {
  if (!shown) return true;
  const t = at.getTime();
  if (shown.notBefore && t < Date.parse(shown.notBefore)) return false;
  const since = t - Date.parse(shown.at);
  // Another process is sending it; one that died while sending is taken over.
  if (shown.updating) return since >= UPDATE_CLAIM_MS;
  if (shown.payload === now.payload) return false;
  if (shown.facts !== now.facts) return true;
  if (shown.meaning !== now.meaning) return since >= MIN_UPDATE_GAP_MS;
  return since >= AGE_REFRESH_MS;
}
