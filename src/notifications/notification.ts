// Owns what the bot tells people, as typed notifications, and the one port every way of telling them
// implements (src/slack's chat notifier, src/email's mail notifier). Services and the alert pipeline
// emit plain data; each notifier renders it its own way (Block Kit with the paper/LIVE badge, plain
// text) and declares the kinds it carries: a kind it does not carry is refused with NotCarriedError,
// never dropped. Here and not in src/alerts because incidents, the live switch and the summaries are
// no alerts; the alert pipeline's own kinds stay defined where it decides them (alerts/notifier.ts).
import type { AlertNotification } from '../alerts/notifier.js';
import type { Db } from '../db/client.js';
import type { Incident, IncidentChecklistItem } from '../db/schema/index.js';
import type { ShownChecklistItem } from '../domain/incident-checklist.js';
import type { ExitRequestState, ExitTarget } from '../domain/exit-request-state.js';
import type { OutcomeAnnouncement, RequestAnnouncement } from '../services/mode/ports.js';
import type { StatsReport } from '../services/stats/compute-stats.js';
import type { ReportKind } from '../services/stats/scheduled-reports.js';

/** Where a thread lives once its first message is posted. */
export interface ThreadRef {
  channel: string;
  ts: string;
}

export type Notification =
  | AlertNotification
  /** A kill's incident: its checklist, one button per item, posted once in the ops channel. */
  | { kind: 'incident_opened'; incident: Incident; items: ShownChecklistItem[]; botHalted?: boolean }
  /** The incident's checklist message brought up to date (an item handed to the engine, then done). */
  | { kind: 'incident_update'; thread: ThreadRef; incident: Incident; items: ShownChecklistItem[]; botHalted?: boolean }
  /** An item's answer, posted in the incident's thread. */
  | { kind: 'incident_note'; thread: ThreadRef; item: IncidentChecklistItem }
  /** A live switch's change request, posted in the ops channel; approvers sign it with reactions. */
  | { kind: 'mode_request'; request: RequestAnnouncement }
  /** What became of a mode change: in its request's thread, or (a rollback to paper) on its own. */
  | { kind: 'mode_changed'; thread: ThreadRef | null; outcome: OutcomeAnnouncement; announce?: ModeAnnounce }
  /** An exit's Slack message brought up to its answer after the button stopped waiting (or its process died). */
  | { kind: 'exit_outcome'; message: ThreadRef; target: ExitTarget; requestedBy: string; request: ExitRequestState }
  /** The daily or weekly summary: the period's stats. */
  | { kind: 'summary'; summary: ReportKind; periodKey: string; report: StatsReport };

/**
 * A closed request's outcome posted as a retried announcement (services/mode/announce-pending.ts):
 * marked as the request's, looked for in the thread first when `checkSent`, and a failure handed back
 * (rate limit, permanent refusal) for the caller's retry instead of waited out.
 */
export interface ModeAnnounce {
  requestId: number;
  checkSent: boolean;
  /**
   * Run after the look, just before the post: throws (its own error, handed back as is) when this
   * attempt may no longer post — another attempt took the announcement over, or this one ran out of
   * the time its claim leaves it.
   */
  beforePost?: () => Promise<void>;
}

export type NotificationKind = Notification['kind'];

/**
 * Where it went: a chat message (channel + ts), or a mail (its recipients + message id).
 * `foundText`: not posted now but found where an earlier try nobody recorded left it, saying this
 * (it may be older than the text due now).
 */
export type Delivered = { channel: string; ts: string; foundText?: string };

export interface Notifier {
  /** The kinds this notifier delivers; notify() refuses any other with NotCarriedError. */
  readonly carries: ReadonlySet<NotificationKind>;
  /**
   * Delivers one notification. `db` is the handle to read with (the alert worker holds a
   * transaction: an embedded database has one connection). Throws when it was not delivered; an
   * error carrying `retryAfterMs` (the service's rate limit) asks the caller to wait that long.
   */
  notify(db: Db, notification: Notification): Promise<Delivered>;
  /**
   * How long after another process claimed a message its send may still be under way, for a service
   * that cannot be asked whether it took it (mail): a younger claim is left to that process.
   * Undefined: a claim found is never taken for one under way (a page is looked for instead).
   */
  readonly tryUnderWayMs?: number;
}

/** A notification handed to a notifier that does not carry its kind (see the notifier's `carries`). */
export class NotCarriedError extends Error {
  constructor(readonly notifier: string, readonly kind: NotificationKind, readonly why: string) {
    super(`${notifier} does not carry ${kind} notifications: ${why}`);
    this.name = 'NotCarriedError';
  }
}

/**
 * Every kind, and whether a notifier carries it (`true`) or why not: a new kind fails to compile until
 * each notifier has said which.
 */
export type Carriage = Record<NotificationKind, true | string>;

export function carriedKinds(carriage: Carriage): ReadonlySet<NotificationKind> {
  return new Set((Object.keys(carriage) as NotificationKind[]).filter((k) => carriage[k] === true));
}

/** Refuses a kind the carriage does not carry, naming why. */
export function assertCarried(notifier: string, carriage: Carriage, kind: NotificationKind): void {
  const c = carriage[kind];
  if (c !== true) throw new NotCarriedError(notifier, kind, c);
}

/** The service refused for good (no such person, deactivated): sending again cannot succeed. */
/** The failure says this process cannot post (its token is refused), not that the message cannot be posted. */
export function cannotPostHere(err: unknown): boolean {
  return (err as { cannotPostHere?: unknown } | null)?.cannotPostHere === true;
}

export function isPermanentFailure(err: unknown): boolean {
  return (err as { permanent?: unknown } | null)?.permanent === true;
}

/**
 * The message certainly did not go out (an SMTP server's 4xx/5xx, or no connection to it at all), so
 * a next try is no repeat of this one. Any other failure may have come after the service took it.
 */
export function certainlyNotSent(err: unknown): boolean {
  return (err as { notSent?: unknown } | null)?.notSent === true;
}

/** How long the service asked us to wait, when the failure says so. */
export function retryAfterOf(err: unknown): number | undefined {
  const ms = (err as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? ms : undefined;
}
