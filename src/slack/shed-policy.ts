// Owns which Slack requests a full queue of acked work may turn away (deliveries.ts), and in which
// order. What carries no operator's decision goes first; what removes risk never goes:
//   - `risk`: /kill, /mode paper, /exit, /pause, the exit's confirm button and the incident thread's
//     "cancel orders" and "close positions" buttons. They take risk off (invariant 3: going back to
//     paper is immediate; cancelling is never refused); they are never turned away, whatever is pending.
//   - `decision`: any other button press, a modal, a vote reaction (the approval or rejection emoji). The
//     one who pressed believes it is done, and nothing re-reads a button: they have headroom of their
//     own past the limit, and are turned away only past it (the pressed told, the event left for Slack
//     to deliver again).
//   - `command`: any other slash command; turned away at the limit, told "busy" in its ack.
//   - `chatter`: every other event (reactions with any other emoji fire for every message in the
//     bot's channels, App Home opened): turned away first, at half the limit, so a burst of them leaves
//     the other half for commands.
// And how old a request's queued work may be when its turn comes (staleAfterMs): what the one who
// asked can still be answered, and what still means anything, by class:
//   - `risk` runs however old: cancelling is never refused.
//   - a slash command or a button press is answered through its response_url, which Slack honours
//     for 30 minutes: work that would start later than ANSWER_MARGIN_MS before that is not done, and
//     the one who asked is told so through it while it still answers.
//   - a vote reaction (and a closed modal) has no response_url and does not depend on one: the change
//     request's own expiry judges a late vote (services/mode), so it runs however old.
//   - `chatter` past CHATTER_STALE_MS is dropped (counted and logged): App Home renders again on its
//     next open, and other reactions ask nothing of the bot.
// Every slash command and button the app registers has its class written below (SLASH_CLASSES,
// ACTION_CLASSES): tests/unit/slack/shed-classes.test.ts fails on one left out, so a new button that
// takes risk off cannot default to one that may be dropped.
// Pure: it reads the request body only (no database on the ack path).
import { ALERT_ACTIONS } from './views/alert.js';
import { EXIT_CONFIRM_ACTION } from './views/exit.js';
import { incidentItemActionId } from './views/kill.js';

export type ShedClass = 'risk' | 'decision' | 'command' | 'chatter';

/** The emoji that make a reaction a vote (APPROVAL_EMOJI, REJECTION_EMOJI). */
export interface VoteEmoji {
  APPROVAL_EMOJI: string;
  REJECTION_EMOJI: string;
}

type Body = Record<string, unknown>;

/** `+1::skin-tone-2` and `:x:` name the same reaction as `+1` and `x` (as services/mode/record-reaction.ts reads them). */
const emojiName = (name: string): string => name.replace(/^:|:$/g, '').split('::')[0]!.toLowerCase();

/**
 * The class of every slash command the listener table registers: `/command` for a row taking any
 * text (/kill [reason]), `/command subcommand` for a named subcommand. Text that names no
 * subcommand (a usage reply) is `command`.
 */
export const SLASH_CLASSES: Readonly<Record<string, ShedClass>> = {
  '/kill': 'risk',
  '/exit': 'risk',
  '/pause': 'risk',
  '/mode paper': 'risk',
  '/mode status': 'command',
  '/mode live': 'command',
  '/mode resume': 'command',
  '/golive status': 'command',
  '/golive audit': 'command',
  '/golive help': 'command',
  '/stats': 'command',
  '/oncall who': 'command',
  '/oncall schedule': 'command',
  '/oncall override': 'command',
  '/unpause': 'command',
  '/trades': 'command',
  '/balance': 'command',
};

/** The class of every button the listener table registers, by action_id. */
export const ACTION_CLASSES: Readonly<Record<string, ShedClass>> = {
  [EXIT_CONFIRM_ACTION]: 'risk',
  // Cancel again at Kraken; close (flatten) the open positions.
  [incidentItemActionId('cancel_orders')]: 'risk',
  [incidentItemActionId('close_positions')]: 'risk',
  [incidentItemActionId('reconcile_ledger')]: 'decision',
  [incidentItemActionId('notify_stakeholders')]: 'decision',
  [ALERT_ACTIONS.ack]: 'decision',
  [ALERT_ACTIONS.resolve]: 'decision',
  [ALERT_ACTIONS.silence]: 'decision',
};

/** How the messages name a button that takes risk off, by action_id (tests/unit/slack/shed-classes.test.ts: every one named). */
export const RISK_BUTTON_NAMES: Readonly<Record<string, string>> = {
  [EXIT_CONFIRM_ACTION]: "the exit's confirm button",
  [incidentItemActionId('cancel_orders')]: "the incident's cancel orders button",
  [incidentItemActionId('close_positions')]: "the incident's close positions button",
};

/**
 * Every request of class `risk` (never turned away, never dropped), named as the busy and too-late
 * messages say it, from the tables above: "/kill, /exit, …, and the incident's close positions button".
 */
export function riskRequestsPhrase(): string {
  const risky = (table: Readonly<Record<string, ShedClass>>) => Object.keys(table).filter((k) => table[k] === 'risk');
  const names = [...risky(SLASH_CLASSES), ...risky(ACTION_CLASSES).map((id) => (Object.hasOwn(RISK_BUTTON_NAMES, id) ? RISK_BUTTON_NAMES[id]! : `the button ${id}`))];
  return names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)!}`;
}

/** `table[key]`, own entries only (an action_id "constructor" names no class). */
const classIn = (table: Readonly<Record<string, ShedClass>>, key: string): ShedClass | undefined =>
  Object.hasOwn(table, key) ? table[key] : undefined;

/** Of several classes, the one that may be turned away last. */
const KEPT_LONGEST: ShedClass[] = ['risk', 'decision', 'command', 'chatter'];

function firstWord(text: unknown): string {
  return typeof text === 'string' ? (text.trim().split(/\s+/)[0] ?? '').toLowerCase() : '';
}

/** What turning `body` away would lose (see the header). */
export function shedClassOf(body: Body, votes: VoteEmoji): ShedClass {
  const command = body.command;
  if (typeof command === 'string') {
    return classIn(SLASH_CLASSES, `${command} ${firstWord(body.text)}`) ?? classIn(SLASH_CLASSES, command) ?? 'command';
  }
  const type = body.type;
  if (type === 'block_actions') {
    const actions = (body.actions as Array<Record<string, unknown>> | undefined) ?? [];
    const classes = actions.map((a) => (typeof a.action_id === 'string' ? classIn(ACTION_CLASSES, a.action_id) : undefined) ?? 'decision');
    return KEPT_LONGEST.find((cls) => classes.includes(cls)) ?? 'decision';
  }
  if (type === 'view_submission' || type === 'view_closed') return 'decision';
  if (type === 'event_callback') {
    const event = (body.event as Record<string, unknown> | undefined) ?? {};
    const isReaction = event.type === 'reaction_added' || event.type === 'reaction_removed';
    const emoji = typeof event.reaction === 'string' ? emojiName(event.reaction) : '';
    if (isReaction && (emoji === emojiName(votes.APPROVAL_EMOJI) || emoji === emojiName(votes.REJECTION_EMOJI))) return 'decision';
    return 'chatter';
  }
  return 'chatter';
}

/** Pending items past which a request of class `cls` is turned away (`risk`: never). */
export function shedAt(cls: ShedClass, limit: number, decisionHeadroom: number): number {
  switch (cls) {
    case 'risk':
      return Number.POSITIVE_INFINITY;
    case 'decision':
      return limit + decisionHeadroom;
    case 'command':
      return limit;
    case 'chatter':
      return Math.max(1, Math.floor(limit / 2));
  }
}

/** How long Slack honours a request's response_url (api.slack.com, "Handling user interaction"). */
export const RESPONSE_URL_TTL_MS = 30 * 60_000;

/** Time left for the work itself to answer before the response_url expires. */
export const ANSWER_MARGIN_MS = 5 * 60_000;

/** Events that ask nothing of an operator (App Home opened, any other reaction): worth nothing this late. */
export const CHATTER_STALE_MS = 60_000;

/** The age past which queued work of class `cls` is not started (see the header); `risk`: never. */
export function staleAfterMs(cls: ShedClass, body: Body): number {
  switch (cls) {
    case 'risk':
      return Number.POSITIVE_INFINITY;
    case 'command':
      return RESPONSE_URL_TTL_MS - ANSWER_MARGIN_MS;
    case 'decision':
      return typeof body.response_url === 'string' && body.response_url !== '' ? RESPONSE_URL_TTL_MS - ANSWER_MARGIN_MS : Number.POSITIVE_INFINITY;
    case 'chatter':
      return CHATTER_STALE_MS;
  }
}
