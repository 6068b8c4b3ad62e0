// Owns what the alert pipeline tells people, as typed notifications (members of the bot's one
// Notification union, src/notifications/notification.ts). src/slack renders the chat kinds (Block
// Kit, the paper/LIVE badge, its one Web API client), src/email the mail; alerts never build a
// message format of their own.
import type { AlertEvent, AlertGroup } from '../db/schema/alerts.js';
import type { RaiseState } from '../domain/alert-outage.js';
import type { StoredAlert } from './store.js';

export type AlertNotification =
  /** The group's parent message, posted once: count, status, the Acknowledge / Resolve / Silence controls. */
  | { kind: 'alert_raised'; channel: string; group: AlertGroup; latest: AlertEvent | undefined; now: Date }
  /** The parent brought up to date (count, status, controls). */
  | { kind: 'alert_updated'; channel: string; ts: string; group: AlertGroup; latest: AlertEvent | undefined; now: Date }
  /** Repeats since the last thread reply, the latest few listed, `total` counted. */
  | { kind: 'alert_repeated'; channel: string; threadTs: string; events: AlertEvent[]; total: number }
  /**
   * A critical alert sent straight to the alerts channel while the database refuses the outbox
   * (direct-lane.ts): no group, no buttons, no escalation yet. Its badge is `state` (as the raising
   * process knew it), never read from the database. `dropped`: critical alerts not sent this way since
   * the last such message, over the cap.
   */
  | { kind: 'alert_direct'; channel: string; alert: StoredAlert; raisedAt: Date; process: string; state: RaiseState | null; dropped: number; cap: string;
    /** Unique to this alert's direct send (its message's metadata); `checkSent`: an earlier try got no answer, look for it first. */
    directId: string; checkSent?: boolean }
  /** A line in the group's thread: acknowledged, resolved, silenced, paged. */
  | { kind: 'alert_note'; channel: string; threadTs: string; text: string }
  /**
   * A page, sent to one person directly, marked with its outbox delivery's id. `checkSent`: an
   * earlier try may have reached Slack unrecorded (a crash, a timeout): look for it before posting,
   * in `dmChannel`, the person's DM as recorded from an earlier page (undefined: none recorded yet).
   */
  | { kind: 'alert_page'; user: string; text: string; deliveryId: number; checkSent: boolean; dmChannel?: string | undefined }
  /**
   * The alert by mail: why it is mailed (the escalation's step), to whom. `messageKey` names it the
   * same on every try of its outbox delivery (its Message-ID). `repeat`: an earlier try was never
   * recorded sent or refused (a crash, a timeout), so it may have gone out: this one says so;
   * `earlierTryAt` is when that try began (undefined: not recorded).
   */
  | {
    kind: 'alert_email'; to: string[]; group: AlertGroup; latest: AlertEvent | undefined; reason: string;
    messageKey: string; repeat?: { earlierTryAt: Date | undefined } | undefined;
  };
