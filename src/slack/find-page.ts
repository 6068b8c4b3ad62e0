// Owns finding a page Slack may already hold: a worker that died after Slack took a page but before
// it recorded that leaves the delivery claimed and unresolved, and the worker that takes over looks
// in the person's DM for the message carrying the delivery's id (PAGE_EVENT metadata) before posting
// it again, so a crash never pages anyone twice. Which DM is the person's is known from an earlier
// page to them (Slack names the DM channel in its answer; alert_deliveries records it): reading its
// recent messages needs im:history. A direct alert (alerts/direct-lane.ts) is looked for the same way in
// the alerts channel: channels:history (public) or groups:history (private).
import type { WebClient } from '@slack/web-api';
import type { Delivered } from '../notifications/notification.js';

/** The metadata every page carries: which outbox delivery it is. */
export const PAGE_EVENT = 'ctb_alert_page';

export function pageMetadata(deliveryId: number) {
  return { event_type: PAGE_EVENT, event_payload: { delivery_id: deliveryId } };
}

/** The metadata a direct message carries (alerts/direct-lane.ts): which alert's direct send it is. */
export const DIRECT_EVENT = 'ctb_alert_direct';

export function directMetadata(directId: string) {
  return { event_type: DIRECT_EVENT, event_payload: { direct_id: directId } };
}

/** Recent messages looked through in the person's DM: pages are few, and a retry comes minutes after a crash. */
const HISTORY_LIMIT = 100;

/** Whether Slack's `message` carries our `eventType` metadata with a payload that `matches`. */
export function carries(message: { metadata?: { event_type?: string; event_payload?: unknown } }, eventType: string, matches: (payload: Record<string, unknown>) => boolean): boolean {
  return message.metadata?.event_type === eventType && matches((message.metadata.event_payload ?? {}) as Record<string, unknown>);
}

/**
 * Where the message carrying `eventType` metadata whose payload `matches` landed in `channel`
 * among its recent messages, or undefined when Slack does not hold it there.
 */
async function findByMetadata(web: WebClient, channel: string, eventType: string, matches: (payload: Record<string, unknown>) => boolean): Promise<Delivered | undefined> {
  const res = await web.conversations.history({ channel, limit: HISTORY_LIMIT, include_all_metadata: true });
  const found = res.messages?.find((m) => carries(m, eventType, matches));
  return found?.ts ? { channel, ts: found.ts, ...(typeof found.text === 'string' ? { foundText: found.text } : {}) } : undefined;
}

/**
 * Where the page of `deliveryId` landed in the DM `channel`, and what it says there (written before a
 * late mark, it lacks the LATE line its queued text got since: alerts/late-pages.ts); undefined when
 * Slack does not hold it there.
 */
export function findPage(web: WebClient, input: { channel: string; deliveryId: number }): Promise<Delivered | undefined> {
  return findByMetadata(web, input.channel, PAGE_EVENT, (p) => Number(p.delivery_id) === input.deliveryId);
}

/** Where the direct message `directId` landed in the alerts channel, or undefined when Slack does not hold it among the recent ones. */
export function findDirect(web: WebClient, input: { channel: string; directId: string }): Promise<Delivered | undefined> {
  return findByMetadata(web, input.channel, DIRECT_EVENT, (p) => p.direct_id === input.directId);
}
