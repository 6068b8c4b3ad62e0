// Owns how far Kraken's clock is from this host's: the offset of Kraken's public Time ({ unixtime,
// rfc1123 }, whole seconds) from Date.now() at the middle of the request, so that AddOrder's
// `deadline`, which Kraken compares with its own clock, means the moment we meant whatever this
// host's clock says (engine/send-deadline.ts). Measured when first needed, again every
// TIME_REFRESH_MS and at once after Kraken refuses a deadline. A reading whose round trip took over
// TIME_MAX_ROUND_TRIP_MS is not used: within it, the offset is off by at most about 1 s (half the
// trip plus the half second Kraken's whole seconds hide), so an offset within that is taken as none.
// A reading is tried twice when the first trip was slow. An order never waits on a reading longer
// than TIME_WAIT_MS: without one, the deadline is written on this host's clock, said once at warn.
import type { Logger } from '../../logger.js';

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

export interface KrakenTimeOptions {
  /** Kraken's public Time: its unixtime (seconds). */
  read: () => Promise<number>;
  /** What a request needs before it can leave (the client built): not counted in the round trip, nor in the wait. */
  ready?: () => Promise<unknown>;
  logger: Logger;
  now?: () => number;
  waitMs?: number;
}

export class KrakenTime {
  readonly #opts: KrakenTimeOptions;
  readonly #now: () => number;
  #offsetMs: number | null = null;
  /** When the next reading is due (this host's clock). */
  #dueAt = Number.NEGATIVE_INFINITY;
  /** Kraken refused a deadline: the next order waits (bounded) for a fresh reading. */
  #doubted = false;
  #reading: Promise<void> | undefined;
  #saidUnread = false;
  #saidOffsetS: number | null = null;

  constructor(opts: KrakenTimeOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
  }

  /** Kraken refused a deadline (elapsed, or invalid): the offset may be wrong; read it again at once. */
  doubt(): void {
    this.#doubted = true;
    this.#dueAt = Number.NEGATIVE_INFINITY;
  }

  /**
   * Kraken's clock minus this host's, in ms, or null when it could not be read (then this host's
   * clock is used, said once). Reads it when due; waits at most TIME_WAIT_MS, and only when no
   * trusted offset is known.
   */
  async offsetMs(): Promise<number | null> {
    await this.#opts.ready?.();
    if (this.#now() >= this.#dueAt) this.#reading ??= this.#read().finally(() => (this.#reading = undefined));
    const reading = this.#reading;
    if (reading && (this.#offsetMs === null || this.#doubted)) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waited = await Promise.race([
        reading.then(() => 'read' as const),
        new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), this.#opts.waitMs ?? TIME_WAIT_MS))),
      ]);
      clearTimeout(timer);
      if (waited === 'late') this.#unread(`Kraken's Time did not answer within ${this.#opts.waitMs ?? TIME_WAIT_MS} ms`);
    }
    return this.#offsetMs;
  }

  async #read(): Promise<void> {
    // A second try when the first trip was slow: the first may have paid for the connection.
    for (let tries = 1; ; tries++) {
      const sent = this.#now();
      let unixtime: number;
      try {
        unixtime = await this.#opts.read();
      } catch (err) {
        this.#dueAt = this.#now() + TIME_RETRY_MS;
        this.#unread(`Kraken's Time could not be read (${err instanceof Error ? err.message : String(err)})`);
        return;
      }
      const answered = this.#now();
      if (answered - sent <= TIME_MAX_ROUND_TRIP_MS) return this.#measured(unixtime, sent, answered);
      if (tries === 2) {
        this.#dueAt = answered + TIME_RETRY_MS;
        this.#unread(`Kraken's Time took ${answered - sent} ms to answer (over ${TIME_MAX_ROUND_TRIP_MS} ms: too slow to read its clock within a second)`);
        return;
      }
    }
  }

  #measured(unixtime: number, sent: number, answered: number): void {
    // Kraken's whole second covers [unixtime, unixtime + 1 s): its middle, against ours mid-trip. An
    // offset within the reading's own error is no offset anyone can tell: this host's clock stands.
    const offset = Math.round(unixtime * 1000 + 500 - (sent + answered) / 2);
    this.#offsetMs = Math.abs(offset) <= TIME_ERROR_MS ? 0 : offset;
    this.#dueAt = answered + TIME_REFRESH_MS;
    this.#doubted = false;
    this.#saidUnread = false;
    this.#sayOffset(offset);
  }

  #unread(why: string): void {
    if (this.#saidUnread) return;
    this.#saidUnread = true;
    const known = this.#offsetMs;
    this.#opts.logger.warn({ offsetMs: known }, known === null
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
