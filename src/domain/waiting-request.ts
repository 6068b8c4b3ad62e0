// Owns the one wording of a checklist item waiting on a request another process carries out, as it
// stands when read: taken (by the process named in the claim), or queued in the database and not yet
// taken — with the process that would take it running now (from the engine lease), none running, or
// no way to tell — or, between two tries, retried. Who takes it depends on the work: a cancel, a bot
// with the Kraken key; closing positions and reconciling the ledger, the engine's process. One rule
// for the terminal, Slack and --json, so none says "handed over" to a process nobody runs.
import { triesCount } from './cancel-handover.js';

/** Who carries a waiting request out: a bot with the Kraken key (a cancel), or the engine's process (flatten, reconcile). */
export type WaitsFor = 'bot_with_key' | 'engine';

/** The work a waiting request does, for the line that says what stays undone until it is taken. */
export type WaitingWork = 'cancel' | 'flatten' | 'reconcile';

export interface WaitingRequest {
  requestId: number;
  work: WaitingWork;
  waitsFor: WaitsFor;
  /** The process that claimed the request (its holder id); null: none has taken it yet. */
  takenBy: string | null;
  /** That process is proven gone (same host and boot, its pid no process): the claim is put back, not answered. */
  takerGone?: boolean | undefined;
  /** A process that would take it runs now (host:pid, from the engine lease); null: none, or not known. */
  runningBot: string | null;
  /** false: the engine lease could not be read (or was not read here), so whether one runs is unknown. */
  botKnown: boolean;
  /** A cancel's: host:pid of the running bot when it has no Kraken key (it runs, but cannot take it). */
  keylessBot?: string | null | undefined;
  engine: string;
  /** Tries made so far and, between two of them, when the next is due (the request waits pending meanwhile). */
  retried?: { tries: number; nextTryAt: string | null } | undefined;
}

const WORDS: Record<WaitsFor, { taker: string; short: string; running: string; none: string; unknown: string }> = {
  bot_with_key: {
    taker: 'a bot with the Kraken key', short: 'a bot', running: 'the running bot with the key', none: 'no bot with the key is running', unknown: 'whether a bot with the key is running cannot be told',
  },
  engine: {
    taker: "the engine's process", short: 'the engine', running: 'the running engine', none: 'no engine is running', unknown: 'whether an engine is running cannot be told',
  },
};

/** What stays undone while nobody takes the request. */
const UNTIL_TAKEN: Record<WaitingWork, string> = {
  cancel: 'orders may stay open on Kraken',
  flatten: 'no position is closed',
  reconcile: 'the ledger is not reconciled',
};

/** What the process that took it does, said only for a cancel (the others' answers say what they did). */
const TAKEN: Record<WaitsFor, (w: WaitingRequest) => string> = {
  bot_with_key: (w) => `taken by ${w.takenBy} (request #${w.requestId}), which cancels on Kraken and confirms; its answer shows here`,
  engine: (w) => `taken by ${w.takenBy}, the engine's process (request #${w.requestId}); its answer shows here when it finishes`,
};

/** The one wording of a waiting item, for the terminal, Slack and --json. */
export function waitingText(w: WaitingRequest): string {
  if (w.takenBy && w.takerGone) {
    return `taken by ${w.takenBy} (request #${w.requestId}), but that process is gone (it ended without finishing it): the request is taken again by ${WORDS[w.waitsFor].taker} that runs next`;
  }
  if (w.takenBy) return TAKEN[w.waitsFor](w);
  const words = WORDS[w.waitsFor];
  const notConfirmed = w.work === 'cancel' ? ', Kraken not confirmed' : '';
  const queued = w.retried
    ? `retried by ${words.taker} (request #${w.requestId}): ${triesCount(w.retried.tries)} so far${notConfirmed}, next try ${w.retried.nextTryAt ? `at ${w.retried.nextTryAt}` : `when ${words.short} takes it`}`
    : `queued in the database for ${words.taker} (request #${w.requestId}), not yet taken`;
  if (w.runningBot) return w.retried ? `${queued} (${words.running}: ${w.runningBot})` : `${queued}; ${words.running} (${w.runningBot}) has not taken it yet`;
  // Never "no bot with the key is running" beside the running bot it names: that bot has no key.
  // The lease's description too: its heartbeat's age says that bot is still running.
  if (w.keylessBot) return `${queued}: the running bot ${w.keylessBot} has no Kraken key (${w.engine}); until ${words.taker} takes it, ${UNTIL_TAKEN[w.work]}`;
  const start = w.waitsFor === 'engine' ? '; start one (ctb start --role worker)' : '';
  if (w.botKnown) return `${queued}: ${words.none} (${w.engine})${start}; until one takes it, ${UNTIL_TAKEN[w.work]}`;
  return `${queued}: ${words.unknown} (${w.engine}); until one takes it, ${UNTIL_TAKEN[w.work]}`;
}
