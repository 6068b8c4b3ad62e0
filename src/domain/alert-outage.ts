// Owns what an alert raised while the database refused the outbox carries once it is stored late: when
// it was raised and stored, which process raised it, the state the bot was in as that process knew it
// then (the badge its messages show, not the state at send time), and what became of its send
// straight to Slack without the database. Kept in the event's details under one reserved key, so
// every reader (the Slack parent, its thread, the mail) tells the same story.
import type { EngineMode } from './engine-mode.js';
import type { TradingState } from './trading-state.js';

export const OUTAGE_KEY = '_outage';

/** The bot's state as the raising process knew it, the database away (the badge of its messages). */
export interface RaiseState {
  /** The mode as last read from the database (null: never read by this process). */
  mode: EngineMode | null;
  /** Halted by the last read, or by a kill latched in this process since. */
  halted: boolean;
  tradingState?: TradingState;
  /** When the mode was last read from the database (ISO); absent when never. */
  readAt?: string;
}

/** What became of an alert's send straight to Slack while the database was away. */
export type DirectState =
  /** Waiting for its turn (one message a second). */
  | { status: 'queued' }
  | { status: 'sent'; channel: string; ts: string; at: string }
  /** Tried and not delivered: kept, tried again, and said so when it is stored. */
  | { status: 'failed'; error: string; at: string; tries: number }
  /** A try got no answer from Slack (it may have been posted): looked for before each try again. */
  | { status: 'uncertain'; error: string; at: string; tries: number }
  /** Not sent: one with its fingerprint already went (or was queued) from this process in this outage. */
  | { status: 'repeat' }
  /** Not sent: over the cap of direct messages. */
  | { status: 'dropped'; cap: string };

export interface OutageMark {
  raisedAt: string;
  storedAt: string;
  process: string;
  state: RaiseState | null;
  /** Absent: this alert is not one sent without the database (below critical, or no alerts channel). */
  direct?: DirectState;
  /** Its write was not refused but held: it waited on the database (stalled), then went through. */
  stalled?: true;
}

export function outageMarkOf(details: Record<string, unknown> | undefined): OutageMark | undefined {
  const mark = details?.[OUTAGE_KEY];
  return mark && typeof mark === 'object' && typeof (mark as OutageMark).raisedAt === 'string' ? (mark as OutageMark) : undefined;
}

/** The details without the mark (what the alert's raiser said). */
export function raisedDetails(details: Record<string, unknown>): Record<string, unknown> {
  if (!(OUTAGE_KEY in details)) return details;
  const { [OUTAGE_KEY]: _mark, ...rest } = details;
  return rest;
}

function lateBy(mark: OutageMark): string {
  const s = Math.max(0, Math.round((Date.parse(mark.storedAt) - Date.parse(mark.raisedAt)) / 1000));
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

/** Its group as it stands when the line is shown: whether storing it starts escalation and paging. */
export interface GroupNow {
  status: 'open' | 'acknowledged' | 'resolved';
  silencedUntil: Date | null;
  now: Date;
}

/** What storing it means for paging, by its group's status; empty when the group is not known here. */
function escalationText(group: GroupNow | undefined, when: (at: Date) => string): string {
  if (!group) return '';
  if (group.status === 'resolved') return '; its group is resolved: it pages no one';
  if (group.status === 'acknowledged') return '; its group is acknowledged: it pages no one';
  if (group.silencedUntil && group.silencedUntil > group.now) return `; its group is silenced until ${when(group.silencedUntil)}: no page until then`;
  return '; escalation and on-call paging start now';
}

/** What happened to its send without the database, in words; empty when none was for it. */
export function directSendText(direct: DirectState | undefined, when: (at: Date) => string, group?: GroupNow): string {
  switch (direct?.status) {
    case undefined:
      return '';
    case 'sent':
      return `It was sent to the alerts channel without the database at ${when(new Date(direct.at))}${escalationText(group, when)}.`;
    case 'failed':
      return `Its send to Slack without the database FAILED (${direct.error}; ${direct.tries} ${direct.tries === 1 ? 'try' : 'tries'}, the last at ${when(new Date(direct.at))}): this is the first time it reaches Slack.`;
    case 'uncertain':
      return `Its send to Slack without the database got no answer (${direct.error}; ${direct.tries} ${direct.tries === 1 ? 'try' : 'tries'}, the last at ${when(new Date(direct.at))}): it may have reached Slack as a message without buttons, so the channel may show it twice; this is its alert.`;
    case 'repeat':
      return 'It was not sent without the database: one with the same fingerprint was, from the same process.';
    case 'dropped':
      return `It was not sent without the database: over the cap of ${direct.cap} direct messages.`;
    case 'queued':
      return 'It was not sent without the database: the database answered before its turn.';
  }
}

/**
 * The line a late alert carries wherever it is shown: raised when, stored how late, and its direct
 * send. `badge`: the message shows the badge of its raise (the Slack parent), and says so. `group`:
 * its group now, which says whether a direct message stored now starts paging (absent: not said).
 * `raisedBadge`: the message shows the state now (an update of the parent), so the raise's is said here.
 */
export function lateText(mark: OutageMark, when: (at: Date) => string, opts: { badge?: boolean; group?: GroupNow; raisedBadge?: string } = {}): string {
  const readAt = mark.state?.readAt ? ` (mode as last read from the database at ${when(new Date(mark.state.readAt))})` : '';
  const state = opts.raisedBadge && mark.state ? ` When it was raised the state was ${opts.raisedBadge}${readAt}; the badge is the state now.`
    : !opts.badge ? '' : mark.state ? ` The badge is the state when it was raised${readAt}.` : '';
  const direct = directSendText(mark.direct, when, opts.group);
  return `${lateHead(mark, when)}${direct ? ` ${direct}` : ''}${state}`;
}

/** The LATE line's first sentence: raised when and by whom, stored when, how late. */
export function lateHead(mark: OutageMark, when: (at: Date) => string): string {
  const why = mark.stalled ? 'its write waited on the database' : 'while the database was unreachable';
  return `LATE: raised at ${when(new Date(mark.raisedAt))} by ${mark.process}${mark.stalled ? '; ' : ' '}${why}; stored at ${when(new Date(mark.storedAt))}, ${lateBy(mark)} late.`;
}
