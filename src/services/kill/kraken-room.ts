// Owns the room a kill's confirmation rounds leave Kraken's REST call counter once Kraken refused
// one of their calls for it (`EAPI:Rate limit exceeded`). The counter is one per API key, filled by
// every program using the key, and calls made while it is full keep the key restricted longer —
// the kill's own lockout and its follow-up's after it. So after such an answer the next round waits
// until the counter has room for a whole round (CancelAll + OpenOrders). Until Kraken refuses a call
// nothing is known of the counter and rounds keep their usual pace. From a refusal on, the counter is
// taken as full at that moment, each call sent adds 1 and it falls by the tier's decay
// (exchange/kraken/rate-limiter.ts): a floor, since other programs can only add to it.
// Another process using the key may have been refused when this one was not: with the shared
// record (shared-counter.ts), every round after the first reads the latest refusal of any process
// and starts from the fuller of the two estimates. The first CancelAll never waits for it.
import { AppError } from '../../errors.js';
import { rateLimited } from '../../exchange/kraken/call-retry.js';
import { PRIVATE_COUNTER, counterRoomMs, type KrakenTier } from '../../exchange/kraken/rate-limiter.js';
import type { SharedKrakenCounter } from './shared-counter.js';

/**
 * What one round adds to Kraken's REST counter: CancelAll and OpenOrders, 1 each. Kraken's docs exempt
 * only AddOrder and CancelOrder explicitly (they count on the per-pair trading counter), so CancelAll
 * is taken to count, as the simulator counts it.
 */
export const CANCEL_ROUND_COST = 2;

/** The time the tier's counter takes to make room for `cost` calls (by default one round). */
export function roomForMs(tier: KrakenTier, cost = CANCEL_ROUND_COST): number {
  return counterRoomMs(tier, cost);
}


/** Whether Kraken refused a call because the key's REST call counter is full. */
export const refusedForRateLimit = (err: unknown): boolean => err instanceof AppError && rateLimited(err);

/** The database's record of the key's counter, and how long a read of it may take (KILL_DB_TIMEOUT). */
export interface SharedRoom {
  counter: SharedKrakenCounter;
  readTimeoutMs: number;
}

/**
 * The counter as one kill's (or halt cancel's, or follow-up's) calls have seen it, shared by all its
 * rounds, and — with `shared` — as every process using the key last recorded it.
 */
export class KrakenRoom {
  readonly tier: KrakenTier;
  readonly #now: () => number;
  readonly #shared: SharedRoom | undefined;
  /** Set once a read of the shared record failed: the database is not waited on again by this room. */
  #sharedDown = false;
  /** Null until Kraken refused a call for the rate limit (here or, read from the record, elsewhere). */
  #level: number | null = null;
  #at = 0;
  /** When each call of this room was sent (its clock): another process's refusal counts the ones sent after it. */
  readonly #sends: number[] = [];
  #refused = false;

  constructor(tier: KrakenTier, now: () => number, shared?: SharedRoom) {
    this.tier = tier;
    this.#now = now;
    this.#shared = shared;
  }

  /**
   * A call was sent and answered (or failed) with `err`: a rate-limit refusal means the counter is
   * full now, and is recorded for the other processes using the key (`call`: the endpoint).
   */
  sent(err?: unknown, call = 'CancelAll'): void {
    const { max } = PRIVATE_COUNTER[this.tier];
    if (refusedForRateLimit(err)) {
      this.#level = max;
      this.#at = this.#now();
      this.#refused = true;
      this.#shared?.counter.refused(call, err);
      return;
    }
    this.#sends.push(this.#now());
    const level = this.#fallen();
    if (level !== null) this.#level = Math.min(max, level + 1);
  }

  /** Whether a call was sent through this room: its first CancelAll waits for nothing, not even the record. */
  get sentAny(): boolean {
    return this.#sends.length > 0 || this.#refused;
  }

  /** How long until the counter has room for one round (0: now, or nothing known of it). */
  waitMs(): number {
    const level = this.#fallen();
    if (level === null) return 0;
    const excess = level + CANCEL_ROUND_COST - PRIVATE_COUNTER[this.tier].max;
    return excess <= 0 ? 0 : roomForMs(this.tier, excess);
  }

  /**
   * Reads the latest refusal any process using the key recorded, and takes the counter as at least as
   * full as it says (full then, fallen by the tier's decay since). A read that fails or takes longer
   * than its deadline changes nothing, and the database is not asked again by this room: the
   * estimate only paces a cancel, never holds it.
   */
  async refresh(): Promise<void> {
    if (!this.#shared || this.#sharedDown) return;
    let refusal: Awaited<ReturnType<SharedKrakenCounter['lastRefusal']>>;
    try {
      refusal = await this.#shared.counter.lastRefusal(this.#shared.readTimeoutMs);
    } catch {
      // Logged by the record (shared-counter.ts); this room paces from its own calls from here on.
      this.#sharedDown = true;
      return;
    }
    if (!refusal) return;
    // Full when it was refused, plus this room's calls sent since, the whole falling by the decay.
    const { max, decayPerSecond } = PRIVATE_COUNTER[this.tier];
    const now = this.#now();
    const refusedAt = now - refusal.ageMs;
    const since = this.#sends.filter((t) => t >= refusedAt).length;
    const shared = max + since - (refusal.ageMs / 1000) * decayPerSecond;
    if (shared <= 0) return;
    const own = this.#fallen();
    this.#level = Math.min(max, Math.max(own ?? 0, shared));
    this.#at = now;
  }

  #fallen(): number | null {
    if (this.#level === null) return null;
    const now = this.#now();
    this.#level = Math.max(0, this.#level - ((now - this.#at) / 1000) * PRIVATE_COUNTER[this.tier].decayPerSecond);
    this.#at = now;
    return this.#level;
  }
}
