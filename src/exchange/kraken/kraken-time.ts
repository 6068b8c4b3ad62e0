// Owns how Kraken's clock reads: Kraken's public Time ({ unixtime, rfc1123 }, whole seconds) taken
// against this host's MONOTONIC clock (performance.now()) at the middle of the request, so that
// AddOrder's `deadline`, which Kraken compares with its own clock, means the moment we meant whatever
// this host's wall clock says, and stays right when that clock is stepped (NTP, an operator fixing
// it as our warning asks) between the reading and the order (engine/send-deadline.ts). Measured when first needed, again every
// TIME_REFRESH_MS and at once after Kraken refuses a deadline. A reading whose round trip took over
// TIME_MAX_ROUND_TRIP_MS is not used: within it, the offset is off by at most about 1 s (half the
// trip plus the half second Kraken's whole seconds hide), so an offset within that is taken as none.
// A reading is tried twice when the first trip was slow. The round trip counts from when the request
// leaves (left(), told by the client's request hook), not from before our own rate limiter's wait: a
// busy counter is ours, never said as Kraken's slowness. An order never waits on a reading longer
// than TIME_WAIT_MS, and only one order waits on a given reading: once it is late, the orders after
// go at once (a kill's flatten of many positions pays the bound once, not per position). Without a
// reading, the deadline is written on this host's clock, said once at warn. A live engine reads it at
// its start (prime), so its first order normally finds a reading and waits for none. An answer that
// fails the checks of kraken-time-answer.ts is not a reading: said once per fault, and as unread.
import type { Logger } from '../../logger.js';
import { judgeTimeAnswer, type JudgedTimeAnswer, type TimeAnswer, type TimeAnswerFault } from './kraken-time-answer.js';

export const TIME_REFRESH_MS = 5 * 60_000;
/** After a failed reading, the next is tried no sooner than this. */
export const TIME_RETRY_MS = 30_000;
export const TIME_MAX_ROUND_TRIP_MS = 1_000;
/** How far a reading may be off: half the longest round trip used, plus the half second of Kraken's whole seconds. */
export const TIME_ERROR_MS = TIME_MAX_ROUND_TRIP_MS / 2 + 500;
/** The longest an order waits for a reading of Kraken's clock before it goes on this host's clock. */
export const TIME_WAIT_MS = 1_500;
/** An offset this large is said at warn (once per change): the host's clock wants fixing. */
export const OFFSET_WARN_MS = 5_000;

/** Kraken's clock as read: `krakenMs` (Kraken's clock, ms) at the moment `monoMs` (performance.now()). */
export interface KrakenReading {
  krakenMs: number;
  monoMs: number;
}

export interface KrakenTimeOptions {
  /** Kraken's public Time: its answer, judged here before its clock is read. */
  read: () => Promise<TimeAnswer>;
  /** What a request needs before it can leave (the client built): not counted in the round trip, nor in the wait. */
  ready?: () => Promise<unknown>;
  logger: Logger;
  /** The monotonic clock (performance.now()): all of this file's timing, immune to steps of the wall clock. */
  mono?: () => number;
  /** This host's wall clock (Date.now()): only to say how far it is from Kraken's. */
  wall?: () => number;
  waitMs?: number;
}

export class KrakenTime {
  readonly #opts: KrakenTimeOptions;
  readonly #mono: () => number;
  readonly #wall: () => number;
  #last: KrakenReading | null = null;
  /** Kraken's clock minus this host's wall clock at the last reading (what the warnings say). */
  #offsetMs: number | null = null;
  /** When the next reading is due (monotonic clock). */
  #dueAt = Number.NEGATIVE_INFINITY;
  /** The pending reading's request is leaving now (our rate limiter let it through): its round trip starts. */
  left(): void {
    this.#leftAt = this.#mono();
  }

  /** Kraken refused a deadline: the next order waits (bounded) for a fresh reading. */
  #doubted = false;
  #reading: Promise<void> | undefined;
  /** The pending reading an order already waited on in vain: no other order waits on it. */
  #waitedOn: Promise<void> | undefined;
  /** When the pending reading's request left (after our rate limiter's wait); unset until it has. */
  #leftAt: number | undefined;
  #saidUnread = false;
  /** The faults of answers said since the last reading used (each once). */
  readonly #saidFaults = new Set<TimeAnswerFault>();
  #saidOffsetS: number | null = null;

  constructor(opts: KrakenTimeOptions) {
    this.#opts = opts;
    this.#mono = opts.mono ?? (() => performance.now());
    this.#wall = opts.wall ?? Date.now;
  }

  /** Kraken refused a deadline (elapsed, or invalid): the offset may be wrong; read it again at once. */
  doubt(): void {
    this.#doubted = true;
    this.#dueAt = Number.NEGATIVE_INFINITY;
  }

  /**
   * Kraken's clock as last read, or null when it could not be read (then this host's clock is used,
   * said once). Reads it when due; waits at most TIME_WAIT_MS, only when no trusted reading is known,
   * and only once per pending reading.
   */
  async reading(): Promise<KrakenReading | null> {
    await this.#opts.ready?.();
    const reading = this.#readIfDue();
    if (reading && reading !== this.#waitedOn && (this.#last === null || this.#doubted)) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waited = await Promise.race([
        reading.then(() => 'read' as const),
        new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), this.#opts.waitMs ?? TIME_WAIT_MS))),
      ]);
      clearTimeout(timer);
      if (waited === 'late') this.#waitedOn = reading;
      if (waited === 'late') {
        this.#unread(this.#leftAt === undefined
          ? `Kraken's Time was not asked within ${this.#opts.waitMs ?? TIME_WAIT_MS} ms (our own rate limit on Kraken's public calls held the request)`
          : `Kraken's Time did not answer within ${this.#opts.waitMs ?? TIME_WAIT_MS} ms`);
      }
    }
    return this.#last;
  }

  /**
   * Reads Kraken's clock now when a reading is due, waiting for nothing (a live engine's start): the
   * first order then finds it read. Resolves once that reading is done (used or not); never rejects.
   */
  async prime(): Promise<void> {
    try {
      await this.#opts.ready?.();
    } catch {
      return; // The client could not be built: the first order's call says why.
    }
    await this.#readIfDue();
  }

  #readIfDue(): Promise<void> | undefined {
    if (this.#mono() >= this.#dueAt) this.#reading ??= this.#read().finally(() => (this.#reading = undefined));
    return this.#reading;
  }

  async #read(): Promise<void> {
    // A second try when the first trip was slow: the first may have paid for the connection.
    for (let tries = 1; ; tries++) {
      this.#leftAt = undefined;
      const asked = this.#mono();
      let answer: TimeAnswer;
      try {
        answer = await this.#opts.read();
      } catch (err) {
        this.#dueAt = this.#mono() + TIME_RETRY_MS;
        this.#unread(`Kraken's Time could not be read (${err instanceof Error ? err.message : String(err)})`);
        return;
      }
      const answered = this.#mono();
      const wallAnswered = this.#wall();
      const sent = this.#leftAt ?? asked;
      const judged = judgeTimeAnswer(answer);
      if (!judged.ok) {
        this.#dueAt = answered + TIME_RETRY_MS;
        this.#refused(judged);
        return;
      }
      if (answered - sent <= TIME_MAX_ROUND_TRIP_MS) return this.#measured(judged.unixtime, sent, answered, wallAnswered);
      if (tries === 2) {
        this.#dueAt = answered + TIME_RETRY_MS;
        this.#unread(`Kraken's Time took ${answered - sent} ms to answer (over ${TIME_MAX_ROUND_TRIP_MS} ms: too slow to read its clock within a second)`);
        return;
      }
    }
  }

  #measured(unixtime: number, sent: number, answered: number, wallAnswered: number): void {
    // Kraken's whole second covers [unixtime, unixtime + 1 s): its middle, against ours mid-trip
    // (monotonic; the wall clock only for the offset said). An offset within the reading's own error
    // is no offset anyone can tell: this host's wall clock at that moment stands for Kraken's.
    const monoMs = (sent + answered) / 2;
    const wallMs = wallAnswered - (answered - sent) / 2;
    const offset = Math.round(unixtime * 1000 + 500 - wallMs);
    this.#offsetMs = Math.abs(offset) <= TIME_ERROR_MS ? 0 : offset;
    this.#last = { krakenMs: wallMs + this.#offsetMs, monoMs };
    this.#dueAt = answered + TIME_REFRESH_MS;
    this.#doubted = false;
    this.#saidUnread = false;
    this.#saidFaults.clear();
    this.#sayOffset(offset);
  }

  #unread(why: string): void {
    if (this.#saidUnread) return;
    this.#saidUnread = true;
    this.#sayFallback(why, {});
  }

  /** An answer not used (kraken-time-answer.ts): said once per fault, whatever was said of other faults. */
  #refused(judged: Extract<JudgedTimeAnswer, { ok: false }>): void {
    if (this.#saidFaults.has(judged.fault)) return;
    this.#saidFaults.add(judged.fault);
    this.#sayFallback(`${judged.why}: not used`, { fault: judged.fault });
  }

  #sayFallback(why: string, fields: Record<string, unknown>): void {
    const known = this.#offsetMs;
    this.#opts.logger.warn({ offsetMs: known, ...fields }, known === null
      ? `${why}: AddOrder's deadline is written on this host's clock, which is right only if this host's clock is (NTP); read again within ${TIME_RETRY_MS / 1000} s`
      : `${why}: AddOrder's deadline keeps the last offset measured from Kraken's clock (${known} ms); read again within ${TIME_RETRY_MS / 1000} s`);
  }

  #sayOffset(offsetMs: number): void {
    const seconds = Math.round(offsetMs / 1000);
    if (Math.abs(offsetMs) < OFFSET_WARN_MS) {
      this.#saidOffsetS = null;
      return;
    }
    if (seconds === this.#saidOffsetS) return;
    this.#saidOffsetS = seconds;
    this.#opts.logger.warn({ offsetMs }, `this host's clock is ${Math.abs(seconds)} s ${offsetMs > 0 ? 'behind' : 'ahead of'} Kraken's (expected within ${OFFSET_WARN_MS / 1000} s): `
      + `fix the host's clock (NTP); meanwhile the deadlines sent to Kraken are moved onto Kraken's clock`);
  }
}
