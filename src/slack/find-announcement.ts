// Owns finding a closed request's announcement Slack may already hold in the request's thread: an
// announcer that stopped after Slack took the reply but before it recorded that (or whose send got
// no answer) leaves the announcement pending, and the next attempt reads the thread
// (conversations.replies, which needs channels:history or groups:history) for the reply carrying the
// request's marker (ANNOUNCE_EVENT metadata) before posting it again, so a takeover never posts twice.
import type { WebClient } from '@slack/web-api';
import type { Delivered } from '../notifications/notification.js';
import { carries } from './find-page.js';

/** The metadata every retried announcement carries: which request's outcome it is. */
export const ANNOUNCE_EVENT = 'ctb_mode_announcement';

export function announceMetadata(requestId: number) {
  return { event_type: ANNOUNCE_EVENT, event_payload: { request_id: requestId } };
}

/** Replies read per page; a request's thread holds its votes' answers and one outcome. */
const REPLIES_PAGE = 200;

/** Where the announcement of `requestId` is in the thread `threadTs`, or undefined when Slack does not hold it there. */
export async function findAnnouncement(web: WebClient, input: { channel: string; threadTs: string; requestId: number }): Promise<Delivered | undefined> {
  let cursor: string | undefined;
  do {
    const res = await web.conversations.replies({
      channel: input.channel, ts: input.threadTs, include_all_metadata: true, limit: REPLIES_PAGE, ...(cursor ? { cursor } : {}),
    });
    const found = res.messages?.find((m) => m.ts !== input.threadTs && carries(m, ANNOUNCE_EVENT, (p) => Number(p.request_id) === input.requestId));
    if (found?.ts) return { channel: input.channel, ts: found.ts, foundText: typeof found.text === 'string' ? found.text : '' };
    cursor = res.has_more ? res.response_metadata?.next_cursor || undefined : undefined;
  } while (cursor);
  return undefined;
}
