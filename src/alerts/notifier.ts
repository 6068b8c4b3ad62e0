// Owns what the alert pipeline tells people in chat, as typed notifications, and the port a chat
// transport implements to deliver them. src/slack renders and sends them (Block Kit, the paper/LIVE
// badge, its one Web API client); alerts never build a message format of their own. Email is
// delivered by the worker's mailer (render.ts keeps its plain text).
import type { AlertEvent, AlertGroup } from '../db/schema/alerts.js';
import type { Db } from '../db/client.js';

export type AlertNotification =
  /** The group's parent message, posted once: count, status, the Acknowledge / Resolve / Silence controls. */
  | { kind: 'alert_raised'; channel: string; group: AlertGroup; latest: AlertEvent | undefined; now: Date }
  /** The parent brought up to date (count, status, controls). */
  | { kind: 'alert_updated'; channel: string; ts: string; group: AlertGroup; latest: AlertEvent | undefined; now: Date }
  /** Repeats since the last thread reply, the latest few listed, `total` counted. */
  | { kind: 'alert_repeated'; channel: string; threadTs: string; events: AlertEvent[]; total: number }
  /** A line in the group's thread: acknowledged, resolved, silenced, paged. */
  | { kind: 'alert_note'; channel: string; threadTs: string; text: string }
  /** A page, sent to one person directly. */
  | { kind: 'alert_page'; user: string; text: string };

export type Delivered = { channel: string; ts: string };

export interface AlertNotifier {
  /**
   * Delivers one notification. `db` is the handle to read with (the worker holds a transaction
   * on the lane: an embedded database has one connection). Throws when it was not delivered; an
   * error carrying `retryAfterMs` (the chat service's rate limit) closes the lane that long.
   */
  notify(db: Db, notification: AlertNotification): Promise<Delivered>;
}

/** How long the chat service asked us to wait, when the failure says so. */
export function retryAfterOf(err: unknown): number | undefined {
  const ms = (err as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? ms : undefined;
}
