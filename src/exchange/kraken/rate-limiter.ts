// Owns the pacing of our calls to Kraken, counted the way Kraken counts them (docs.kraken.com, spot
// REST API rate limits): every private call adds to a per-key counter — ledger and trade-history
// queries 2, other queries 1, placing and cancelling orders 0 (those count on Kraken's separate
// per-pair trading limiter) — and the counter decays by wall-clock time (Starter: at most 15, down
// 0.33 a second; Intermediate 20 / 0.5; Pro 20 / 1). Public calls have their own per-IP allowance.
//
// Unlike ccxt's throttle (which refills only while a call waits, and queues everything behind
// everything), the level here decays with the clock, ordinary calls wait in line only for the room
// they need below a reserve, and an urgent call (a kill's cancel and confirmation) goes at once,
// ahead of every queued call, spending the reserve Kraken still allows.
import { isUrgent } from '../urgency.js';

export interface CounterSpec {
  /** Kraken's maximum counter value for the tier. */
  max: number;
  /** How much the counter decays per second. */
  decayPerSecond: number;
  /** Room kept free for urgent calls: ordinary calls wait while the counter is above max - reserve. */
  reserve: number;
}

export type KrakenTier = 'starter' | 'intermediate' | 'pro';

export const PRIVATE_COUNTER: Record<KrakenTier, CounterSpec> = {
  starter: { max: 15, decayPerSecond: 0.33, reserve: 5 },
  intermediate: { max: 20, decayPerSecond: 0.5, reserve: 5 },
  pro: { max: 20, decayPerSecond: 1, reserve: 5 },
};

/** Kraken asks for about one public call a second per IP; a short burst is tolerated. */
export const PUBLIC_COUNTER: CounterSpec = { max: 4, decayPerSecond: 1, reserve: 1 };

const HISTORY_QUERIES = new Set(['Ledgers', 'QueryLedgers', 'TradesHistory', 'QueryTrades']);
const TRADING_CALLS = new Set([
  'AddOrder', 'AddOrderBatch', 'AmendOrder', 'EditOrder', 'CancelOrder', 'CancelOrderBatch', 'CancelAll', 'CancelAllOrdersAfter',
]);

/** The time the tier's private counter takes to fall by `cost` calls, i.e. to make room for them. */
export function counterRoomMs(tier: KrakenTier, cost: number): number {
  return Math.ceil((cost / PRIVATE_COUNTER[tier].decayPerSecond) * 1000);
}

/** What one call adds to Kraken's counter. */
export function callCost(api: 'public' | 'private', endpoint: string): number {
  if (api === 'public') return 1;
  if (TRADING_CALLS.has(endpoint)) return 0;
  return HISTORY_QUERIES.has(endpoint) ? 2 : 1;
}

interface Waiter {
  cost: number;
  go: () => void;
}

export class RateCounter {
  readonly #spec: CounterSpec;
  readonly #now: () => number;
  #level = 0;
  #at: number;
  readonly #queue: Waiter[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(spec: CounterSpec, now: () => number = () => performance.now()) {
    this.#spec = spec;
    this.#now = now;
    this.#at = now();
  }

  /** The counter as Kraken would see it now (after decay). */
  get level(): number {
    this.#decay();
    return this.#level;
  }

  /** Ordinary calls waiting for room. */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * null when a call of `cost` may be sent now — urgent calls (inside `urgently`) and free calls
   * always may — or a promise that resolves when it may: ordinary calls wait in arrival order for
   * room below the reserve. (null rather than a resolved promise: a kill's call goes out in the
   * same tick, without a turn of the event loop in between.)
   */
  take(cost: number, urgent = isUrgent()): Promise<void> | null {
    this.#decay();
    if (cost <= 0) return null;
    if (urgent) {
      // Counted, so the ordinary calls after it leave Kraken the room it used.
      this.#level += cost;
      return null;
    }
    if (this.#queue.length === 0 && this.#fits(cost)) {
      this.#level += cost;
      return null;
    }
    return new Promise<void>((go) => {
      this.#queue.push({ cost, go });
      this.#schedule();
    });
  }

  #fits(cost: number): boolean {
    return this.#level + cost <= Math.max(cost, this.#spec.max - this.#spec.reserve);
  }

  #decay(): void {
    const now = this.#now();
    this.#level = Math.max(0, this.#level - ((now - this.#at) / 1000) * this.#spec.decayPerSecond);
    this.#at = now;
  }

  #schedule(): void {
    if (this.#timer) return;
    this.#decay();
    while (this.#queue.length > 0 && this.#fits(this.#queue[0]!.cost)) {
      const next = this.#queue.shift()!;
      this.#level += next.cost;
      next.go();
    }
    const head = this.#queue[0];
    if (!head) return;
    const excess = this.#level + head.cost - Math.max(head.cost, this.#spec.max - this.#spec.reserve);
    const waitMs = Math.max(1, Math.ceil((excess / this.#spec.decayPerSecond) * 1000));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#schedule();
    }, waitMs);
  }
}

const privateCounters = new Map<string, RateCounter>();
let publicCounter: RateCounter | undefined;

/**
 * One counter per API key per process: Kraken counts per key, whichever client of ours calls.
 * `now` (a test's clock) is the clock of the counter this call creates; a key's counter keeps the
 * clock it was created on, so asking for another one once it exists is refused.
 */
export function privateCounterFor(apiKey: string, tier: KrakenTier, now?: () => number): RateCounter {
  const id = `${tier}:${apiKey}`;
  let counter = privateCounters.get(id);
  if (counter && now) throw new Error(`The ${tier} rate counter of this API key already exists on its own clock; give a clock before its first call.`);
  if (!counter) {
    counter = new RateCounter(PRIVATE_COUNTER[tier], now);
    privateCounters.set(id, counter);
  }
  return counter;
}

export function publicCounterOfProcess(): RateCounter {
  publicCounter ??= new RateCounter(PUBLIC_COUNTER);
  return publicCounter;
}
