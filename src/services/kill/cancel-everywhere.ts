// Step 1 and 2 of a kill: cancel every open order on every venue this process can reach, then
// confirm none is left (re-query, bounded retries). Needs no database: it must work when the
// database is down and must run before anything else (the only read, Kraken's shared rate record
// before a later round, has a deadline and is given up once it fails: kraken-room.ts). Kraken is cancelled whenever this process
// holds the key — armed or not, whatever the mode: cancelling needs no arming, and orders can remain
// from an earlier live session, another process or a person trading by hand on the same account.
// A process without the key hands Kraken's cancel to the one that has it (handoff.ts). Venues run
// side by side so a slow one (paper waiting on a stalled database) never delays the Kraken cancel,
// and every call runs in the urgent lane: no client-side limiter makes a kill wait.
import type { HandedOff } from '../../domain/kraken-handoff.js';
import type { ExchangeProvider } from '../../exchange/provider.js';
import type { Exchange, OrderState, Venue } from '../../exchange/types.js';
import { cannotConnect, ExchangeError, krakenUnreachable } from '../../exchange/errors.js';
import { isDefiniteRefusal } from '../../exchange/kraken/map-error.js';
import { urgently } from '../../exchange/urgency.js';
import type { Logger } from '../../logger.js';
import { ALERTED } from '../../alerts/log-source.js';
import { DeadlineError, describeError, KILL_CALL_TIMEOUT_MS, sleep as realSleep, withDeadline } from './deadline.js';
import { refusedForRateLimit, type KrakenRoom } from './kraken-room.js';
import type { KillTime } from './runtime.js';

export interface SurvivingOrder {
  exchangeOrderId: string;
  clientOrderId: string;
  symbol: string;
  side: string;
  quantity: string;
}

export interface VenueCancelReport {
  venue: Venue;
  /** Orders the exchange said it cancelled, summed over every cancel of this kill (null when none succeeded). */
  canceled: number | null;
  /** True once a re-query found no open order. */
  confirmed: boolean;
  /**
   * When the OpenOrders that found no open order was sent (ISO, this process's wall clock): what
   * says whether that confirmation came after a given moment (handlers.ts, a handed-over cancel).
   */
  confirmedAt?: string;
  attempts: number;
  /**
   * The tries (counted as `attempts` is) whose CancelAll may have cancelled orders but whose answer
   * was lost (no answer in time, an answer that could not be read, a dropped connection): what they
   * cancelled is not in `canceled`, so how many were cancelled is not known — only what is open after.
   */
  lostAnswers?: number[];
  /** The orders the last OpenOrders listed open, when no CancelAll that answered or may have run was sent after it. */
  survivors: SurvivingOrder[];
  /**
   * What an OpenOrders listed open (`survivors` then empty) before a later CancelAll that answered or
   * may have run, and at which try: it may have cancelled them, so they are never said to be still open.
   */
  listedBefore?: { attempt: number; orders: SurvivingOrder[] };
  errors: string[];
  /** Set when this process has no Kraken key: the request it handed the cancel over as, and which bot took it. */
  handedOff?: HandedOff;
}

export interface CancelReport {
  venues: VenueCancelReport[];
  /** Every venue confirmed zero open orders. */
  allConfirmed: boolean;
}

export interface CancelOptions {
  exchanges: ExchangeProvider;
  logger: Logger;
  /** Re-query rounds per venue (KILL_CONFIRM_ATTEMPTS): at least this many, as long as `answerBy` allows. */
  attempts: number;
  /**
   * More rounds until this moment (performance.now(); KILL_CONFIRM_WAIT from the kill's start): a
   * slow Kraken (each call seconds late), a 5xx, or a nonce refused because another process signs
   * with the same key can each cost a round, and three quick rounds were not enough to confirm on a
   * Kraken that was reachable all along. A venue stops as soon as it confirms.
   */
  confirmUntil?: number;
  /** Each exchange call's deadline (KILL_CALL_TIMEOUT_MS by default; a kill's: KILL_CALL_TIMEOUT). */
  callTimeoutMs?: number;
  /**
   * The moment (on `now`'s clock) by which the exchange's part of the caller's answer is due (a kill:
   * KILL_CONFIRM_WAIT plus one call's deadline): no exchange call is sent at or after it, and a call
   * under way is given up at it (its deadline cut short). The cancel is not dropped: an unconfirmed
   * venue is handed on by the caller (a kill's follow-up request). Paper is not bound by it.
   */
  answerBy?: number;
  /** An exchange call's deadline on `now`'s clock (default withDeadline, on the real one). */
  within?: <T>(work: Promise<T>, ms: number, what: string) => Promise<T>;
  /** Told, as a line for the operator who waits, when an exchange call missed its deadline or no further try is sent. */
  progress?: (line: string) => void;
  /** The paper venue lives in our database: its calls get the database's deadline (KILL_DB_TIMEOUT). */
  databaseTimeoutMs?: number;
  /** Pause between rounds (grows linearly, to at most 1 s). */
  retryDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** The clock `confirmUntil` is read on (default performance.now). */
  now?: () => number;
  /**
   * Kraken's REST call counter as this kill's calls have seen it (kraken-room.ts), shared by every
   * round of the kill, and as the database last recorded it for every process using the key. With
   * it, once Kraken refuses a call for the rate limit (this process or another), the next round waits
   * until the counter has room for a round, and none is sent that could not go before
   * `confirmUntil` (without one, none at all); a round whose CancelAll was refused so sends no
   * OpenOrders. Without it (or for paper), rounds keep their usual pace whatever Kraken answers.
   */
  krakenRoom?: KrakenRoom;
  /** KRAKEN_API_URL in use: a Kraken call that got no answer names it and why (the host not resolving, the connection refused). */
  krakenUrl?: string | undefined;
  /** What `confirmUntil` is, as said when no round could go before it (default: the kill's KILL_CONFIRM_WAIT). */
  deadlineName?: string;
  /** Whose answer `answerBy` is, as said when no further call is sent (default: "the kill's answer"). */
  answerName?: string;
  /**
   * The caller raises its own alert when a venue is not confirmed (the kill, a halt's cancel): the
   * "could not confirm" error line is then marked ALERTED, so it does not raise a second alert.
   */
  alerted?: boolean;
  /**
   * These rounds are a part of what the caller answers (a kill's rounds before and after its wait
   * for orders on their way, a hand-over's rounds after the bot's halt cancel, the halt's cancel that
   * says its own outcome): the caller says whether zero open orders were confirmed once every part is
   * in, and an unconfirmed venue here is logged only as not confirmed so far — never "could not
   * confirm" while a later round of the same kill may still confirm it.
   */
  partial?: boolean;
}

export type VenueOptions = Omit<CancelOptions, 'exchanges'>;

/** The venues this process can clear itself: Kraken whenever it holds the key, and always paper. */
export function venuesToClear(exchanges: ExchangeProvider): Array<{ venue: Venue; exchange: () => Exchange }> {
  const venues: Array<{ venue: Venue; exchange: () => Exchange }> = [];
  if (exchanges.hasKrakenKeys()) venues.push({ venue: 'kraken', exchange: () => exchanges.kraken() });
  venues.push({ venue: 'paper', exchange: () => exchanges.paper() });
  return venues;
}

const survivorOf = (o: OrderState): SurvivingOrder => ({
  exchangeOrderId: o.exchangeOrderId, clientOrderId: o.clientOrderId, symbol: o.symbol, side: o.side, quantity: o.quantity,
});

const MAX_RETRY_DELAY_MS = 1_000;

export { KILL_CALL_TIMEOUT_MS };

/**
 * Whether a CancelAll that failed so may still have cancelled orders: anything but Kraken's own
 * refusal (an error it answered, such as the rate limit, which ran nothing) or no connection at all.
 */
export function cancelMayHaveRun(err: unknown): boolean {
  if (err instanceof ExchangeError && isDefiniteRefusal(err.exchangeCode)) return false;
  return !cannotConnect(err);
}

/**
 * The bound of an answer someone waits on — a kill's, a cancel again's, a halt's "could not confirm"
 * alert and its follow-up: rounds until KILL_CONFIRM_WAIT from now, and no exchange call sent at or
 * after that plus one call's deadline (KILL_CALL_TIMEOUT; a call under way is given up there), all on `time`'s clock.
 * What is not confirmed by then is the caller's to hand on (a follow-up request), never to drop.
 */
export function answerBound(time: KillTime, confirmWaitMs: number, callTimeoutMs: number): Required<Pick<CancelOptions, 'now' | 'sleep' | 'confirmUntil' | 'answerBy' | 'callTimeoutMs'>> & Pick<CancelOptions, 'within'> {
  const confirmUntil = time.now() + confirmWaitMs;
  return {
    now: time.now, sleep: time.sleep, ...(time.within ? { within: time.within } : {}),
    confirmUntil, answerBy: confirmUntil + callTimeoutMs, callTimeoutMs,
  };
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/** Cancel-all then confirm on one venue, in bounded rounds, in the urgent lane. */
export function clearVenue(venue: Venue, get: () => Exchange, opts: VenueOptions): Promise<VenueCancelReport> {
  return urgently(() => clearVenueNow(venue, get, opts));
}

async function clearVenueNow(venue: Venue, get: () => Exchange, opts: VenueOptions): Promise<VenueCancelReport> {
  const timeout = venue === 'paper' && opts.databaseTimeoutMs !== undefined ? opts.databaseTimeoutMs : opts.callTimeoutMs ?? KILL_CALL_TIMEOUT_MS;
  const pause = opts.sleep ?? realSleep;
  const report: VenueCancelReport = { venue, canceled: null, confirmed: false, attempts: 0, survivors: [], errors: [] };
  let exchange: Exchange;
  try {
    exchange = get();
  } catch (err) {
    report.errors.push(describeError(err));
    return report;
  }
  // Paper lives in our database, which has its own deadline: only an exchange gets the extra time.
  const until = venue === 'paper' ? undefined : opts.confirmUntil;
  const now = opts.now ?? (() => performance.now());
  const moreTime = () => until !== undefined && now() < until;
  // The exchange's calls end by answerBy: none is sent at or after it, one under way is cut short there.
  const answerBy = venue === 'paper' ? undefined : opts.answerBy;
  const within = venue === 'paper' ? withDeadline : opts.within ?? withDeadline;
  const callMs = () => (answerBy === undefined ? timeout : Math.min(timeout, answerBy - now()));
  const tell = (line: string) => {
    try {
      opts.progress?.(line);
    } catch (err) {
      opts.logger.error({ err }, 'cancel rounds: could not tell the progress');
    }
  };
  // Said once: the rounds stop because the answer is due; the caller hands the cancel on.
  const noTimeLeft = (what: string) => {
    const line = `no further ${what} sent: ${opts.answerName ?? "the kill's answer"} is due (KILL_CONFIRM_WAIT plus one call's deadline of ${seconds(timeout)} has passed)`;
    report.errors.push(line);
    tell(`${venue}: ${line}.`);
  };
  // What comes next, said only while there is time for it: after a CancelAll, this try's OpenOrders; after an OpenOrders, another try.
  const slow = (what: 'CancelAll' | 'OpenOrders', err: unknown, ms: number) => {
    const next = what === 'CancelAll' ? '; reading the open orders next' : '; trying again';
    if (err instanceof DeadlineError) tell(`${venue}: ${what} (try ${report.attempts}) did not answer within ${seconds(ms)}${moreTime() ? next : ''}.`);
  };
  const room = venue === 'kraken' ? opts.krakenRoom : undefined;
  // Kraken not reached at all: where it was asked and why no answer came (the shared describer), not ccxt's bare "NetworkError".
  const why = (err: unknown): string => (venue === 'kraken' && opts.krakenUrl ? krakenUnreachable(err, opts.krakenUrl) : null) ?? describeError(err);
  // The try whose OpenOrders listed `survivors`: a CancelAll sent after it that answered or may have
  // run makes that list a past one (listedBefore), never "still open".
  let listedAt = 0;
  const listIsPast = () => {
    if (report.survivors.length === 0) return;
    report.listedBefore = { attempt: listedAt, orders: report.survivors };
    report.survivors = [];
  };
  for (let attempt = 1; (attempt <= opts.attempts || moreTime()) && !report.confirmed; attempt++) {
    let waitMs = attempt > 1 ? Math.min(MAX_RETRY_DELAY_MS, (opts.retryDelayMs ?? 200) * (attempt - 1)) : 0;
    // Every round but the very first reads what the other processes using the key were refused.
    if (room?.sentAny) await room.refresh();
    const roomMs = room?.waitMs() ?? 0;
    if (roomMs > 0) {
      // Never past the deadline: a round sent into a full counter is refused and keeps it full.
      if (until === undefined || now() + roomMs > until) {
        report.errors.push(noRoomLine(roomMs, until !== undefined ? opts.deadlineName ?? 'the confirmation deadline (KILL_CONFIRM_WAIT)' : null));
        break;
      }
      waitMs = Math.max(waitMs, roomMs);
    }
    // No pause that would end at or past the answer's moment: no try could follow it.
    if (callMs() - waitMs <= 0) {
      noTimeLeft('try');
      break;
    }
    if (waitMs > 0) await pause(waitMs);
    if (callMs() <= 0) {
      noTimeLeft('try');
      break;
    }
    // Counted once its CancelAll is sent: the report's tries are the rounds Kraken was sent.
    report.attempts = attempt;
    const cancelMs = callMs();
    try {
      const { canceled, earlierAnswerLost } = await within(exchange.cancelAllOrders(), cancelMs, `${venue} cancel-all`);
      room?.sent();
      report.canceled = (report.canceled ?? 0) + canceled;
      if (earlierAnswerLost) report.lostAnswers = [...(report.lostAnswers ?? []), attempt];
      listIsPast();
    } catch (err) {
      room?.sent(err, 'CancelAll');
      report.errors.push(`cancel-all (attempt ${attempt}): ${why(err)}`);
      if (cancelMayHaveRun(err)) {
        report.lostAnswers = [...(report.lostAnswers ?? []), attempt];
        listIsPast();
      }
      slow('CancelAll', err, cancelMs);
      // Its OpenOrders would be refused too, and keep the counter full.
      if (room && refusedForRateLimit(err)) continue;
    }
    if (callMs() <= 0) {
      noTimeLeft('open-orders query');
      break;
    }
    const readMs = callMs();
    try {
      const sentAt = new Date().toISOString();
      const open = await within(exchange.fetchOpenOrders(), readMs, `${venue} open-orders query`);
      room?.sent();
      report.survivors = open.map(survivorOf);
      listedAt = attempt;
      delete report.listedBefore;
      report.confirmed = open.length === 0;
      if (report.confirmed) report.confirmedAt = sentAt;
    } catch (err) {
      room?.sent(err, 'OpenOrders');
      report.errors.push(`open-orders query (attempt ${attempt}): ${why(err)}`);
      slow('OpenOrders', err, readMs);
      // A stalled database will not answer a retry either; retrying only delays the kill's answer.
      if (venue === 'paper' && err instanceof DeadlineError) break;
    }
  }
  if (!report.confirmed) {
    if (opts.partial) opts.logger.warn({ venue, report }, 'cancel rounds: zero open orders not confirmed so far (the caller says the outcome once every round is in)');
    else logUnconfirmed(opts, report);
  }
  return report;
}

/** The one line that says a kill could not confirm a venue: written once its report is final (merged). */
export function logUnconfirmed(opts: Pick<CancelOptions, 'logger' | 'alerted'>, report: VenueCancelReport, fields: Record<string, unknown> = {}): void {
  opts.logger.error({ ...(opts.alerted ? ALERTED : {}), ...fields, venue: report.venue, report }, 'kill could not confirm zero open orders');
}

/** Why the rounds stopped: Kraken's counter would not have room for another before their deadline (or, with none, at once). */
function noRoomLine(roomMs: number, deadline: string | null): string {
  return `no further try sent: Kraken refused a call for the API key's rate limit (EAPI:Rate limit exceeded), and its call counter has room for another try (CancelAll + OpenOrders) only in ${(roomMs / 1000).toFixed(1)} s${deadline ? `, past ${deadline}` : ''}`;
}

/**
 * One turn of the event loop: the exchange requests started before it have been handed to the
 * socket (ccxt's and undici's remaining steps are microtasks) before the caller goes on.
 */
export const afterRequestsLeave = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function cancelEverywhere(opts: CancelOptions): Promise<CancelReport> {
  // Kraken first and alone: the paper venue's database work starts once its request has left.
  const venues = await Promise.all(venuesToClear(opts.exchanges).map((v, i) =>
    i === 0 ? clearVenue(v.venue, v.exchange, opts) : afterRequestsLeave().then(() => clearVenue(v.venue, v.exchange, opts))));
  return { venues, allConfirmed: venues.every((v) => v.confirmed) };
}

/**
 * One venue's report over two rounds of the same kill: what the exchange said it cancelled is the
 * sum of every answer (the first cancel removes most); what is still open is the later round's, when
 * it read any. `firstHolds`: the caller knows the first round's "none open" still holds (fence.ts:
 * Kraken said so after the halt was committed and once no order of ours was on its way); a later
 * round that could not read the open orders then does not undo it — only one that shows an open
 * order does. Without it, only the later round's answer counts (its first read may predate an order
 * still on its way).
 */
export function mergeVenueReports(first: VenueCancelReport, later: VenueCancelReport, opts: { firstHolds?: boolean } = {}): VenueCancelReport {
  const canceled = first.canceled === null && later.canceled === null ? null : (first.canceled ?? 0) + (later.canceled ?? 0);
  const handedOff = later.handedOff ?? first.handedOff;
  // No survivors and not confirmed: the later round never read Kraken's open orders.
  const laterReadNothing = !later.confirmed && later.survivors.length === 0 && !later.listedBefore;
  const keepFirst = opts.firstHolds === true && first.confirmed && laterReadNothing;
  const confirmedAt = later.confirmed ? later.confirmedAt : keepFirst ? first.confirmedAt : undefined;
  const lostAnswers = [...(first.lostAnswers ?? []), ...(later.lostAnswers ?? []).map((n) => n + first.attempts)];
  // A later round that sent nothing (no room on Kraken's counter in time) leaves the last list Kraken gave.
  const firstList = keepFirst || (later.attempts === 0 && first.attempts > 0);
  const listedBefore = firstList ? first.listedBefore
    : later.listedBefore ? { attempt: later.listedBefore.attempt + first.attempts, orders: later.listedBefore.orders } : undefined;
  return {
    venue: first.venue, canceled, confirmed: later.confirmed || keepFirst, ...(confirmedAt ? { confirmedAt } : {}), attempts: first.attempts + later.attempts,
    ...(lostAnswers.length > 0 ? { lostAnswers } : {}),
    survivors: firstList ? first.survivors : later.survivors,
    ...(listedBefore ? { listedBefore } : {}),
    // The later rounds' tries count on from the first's, as the merged report's attempts do: "after 11 tries — … (attempt 11)".
    errors: [...first.errors, ...later.errors.map((e) => e.replace(/\(attempt (\d+)\)/, (_, n: string) => `(attempt ${Number(n) + first.attempts})`))],
    ...(handedOff ? { handedOff } : {}),
  };
}

/**
 * The errors a report keeps when it is cut short: the first of each kind (Kraken's first answer —
 * EService:Unavailable before a rate limit — says what went on) and the last `last`, in order. The
 * kind is the line without its attempt number and other numbers.
 */
export function keptErrors(errors: string[], last = 6): string[] {
  const kindOf = (e: string) => e.replace(/\d+(\.\d+)?/g, '#');
  const seen = new Set<string>();
  return errors.filter((e, i) => {
    const kind = kindOf(e);
    const first = !seen.has(kind);
    seen.add(kind);
    return first || i >= errors.length - last;
  });
}

/** Two cancel reports of one kill merged venue by venue (a venue only one of them has is kept as is). */
export function mergeCancelReports(first: CancelReport, later: CancelReport): CancelReport {
  const venues = first.venues.map((v) => {
    const again = later.venues.find((l) => l.venue === v.venue);
    return again ? mergeVenueReports(v, again) : v;
  });
  for (const l of later.venues) if (!venues.some((v) => v.venue === l.venue)) venues.push(l);
  return { venues, allConfirmed: venues.every((v) => v.confirmed) };
}
