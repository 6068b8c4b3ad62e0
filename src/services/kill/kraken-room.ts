// Owns the room a kill's confirmation rounds leave Kraken's REST call counter once Kraken refused
// one of their calls for it (`EAPI:Rate limit exceeded`). The counter is one per API key, filled by
// every program using the key, and calls made while it is full keep the key restricted longer —
// the kill's own lockout and its follow-up's after it. So after such an answer the next round waits
// until the counter has room for a whole round (CancelAll + OpenOrders). Until Kraken refuses a call
// nothing is known of the counter and rounds keep their usual pace. From a refusal on, the counter is
// taken as full at that moment, each call sent adds 1 and it falls by the tier's decay
// (exchange/kraken/rate-limiter.ts): a floor, since other programs can only add to it.
import { AppError } from '../../errors.js';
import { rateLimited } from '../../exchange/kraken/call-retry.js';
import { PRIVATE_COUNTER, counterRoomMs, type KrakenTier } from '../../exchange/kraken/rate-limiter.js';

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

/** The counter as one kill's (or halt cancel's) calls have seen it, shared by all its rounds. */
export class KrakenRoom {
  readonly tier: KrakenTier;
  readonly #now: () => number;
  /** Null until Kraken refused a call for the rate limit. */
  #level: number | null = null;
  #at = 0;

  constructor(tier: KrakenTier, now: () => number) {
    this.tier = tier;
    this.#now = now;
  }

  /** A call was sent and answered (or failed) with `err`: a rate-limit refusal means the counter is full now. */
  sent(err?: unknown): void {
    const { max } = PRIVATE_COUNTER[this.tier];
    if (refusedForRateLimit(err)) {
      this.#level = max;
      this.#at = this.#now();
      return;
    }
    const level = this.#fallen();
    if (level !== null) this.#level = Math.min(max, level + 1);
  }

  /** How long until the counter has room for one round (0: now, or nothing known of it). */
  waitMs(): number {
    const level = this.#fallen();
    if (level === null) return 0;
    const excess = level + CANCEL_ROUND_COST - PRIVATE_COUNTER[this.tier].max;
    return excess <= 0 ? 0 : roomForMs(this.tier, excess);
  }

  #fallen(): number | null {
    if (this.#level === null) return null;
    const now = this.#now();
    this.#level = Math.max(0, this.#level - ((now - this.#at) / 1000) * PRIVATE_COUNTER[this.tier].decayPerSecond);
    this.#at = now;
    return this.#level;
  }
}
