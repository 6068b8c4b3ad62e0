// Owns finding a page Slack may already hold: a worker that died after Slack took a page but before
// it recorded that leaves the delivery claimed and unresolved, and the worker that takes over looks
// in the person's DM for the message carrying the delivery's id (PAGE_EVENT metadata) before posting
// it again, so a crash never pages anyone twice. Reads need im:read (which DM is the person's) and
// im:history (its recent messages).
import type { WebClient } from '@slack/web-api';
import type { Delivered } from '../notifications/notification.js';

/** The metadata every page carries: which outbox delivery it is. */
export const PAGE_EVENT = 'ctb_alert_page';

export function pageMetadata(deliveryId: number) {
  return { event_type: PAGE_EVENT, event_payload: { delivery_id: deliveryId } };
}

/** Recent messages looked through in the person's DM: pages are few, and a retry comes minutes after a crash. */
const HISTORY_LIMIT = 100;

/** The bot's DM with `user`, if it has one (none: nothing was ever posted there). */
async function dmChannelOf(web: WebClient, user: string): Promise<string | undefined> {
  let cursor: string | undefined;
  do {
    const res = await web.conversations.list({ types: 'im', limit: 200, ...(cursor ? { cursor } : {}) });
    const dm = res.channels?.find((c) => c.user === user);
    if (dm?.id) return dm.id;
    cursor = res.response_metadata?.next_cursor || undefined;
  } while (cursor);
  return undefined;
}

/** Where the page of `deliveryId` to `user` landed, or undefined when Slack does not hold it. */
export async function findPage(web: WebClient, input: { user: string; deliveryId: number }): Promise<Delivered | undefined> {
  const channel = await dmChannelOf(web, input.user);
  if (!channel) return undefined;
  const res = await web.conversations.history({ channel, limit: HISTORY_LIMIT, include_all_metadata: true });
  const found = res.messages?.find((m) => m.metadata?.event_type === PAGE_EVENT
    && Number((m.metadata.event_payload as { delivery_id?: unknown } | undefined)?.delivery_id) === input.deliveryId);
  return found?.ts ? { channel, ts: found.ts } : undefined;
}
