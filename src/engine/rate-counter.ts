// Owns a model of Kraken's trading rate counter (docs.kraken.com, "Spot Trading Limits"): one counter
// per pair, +1 for every AddOrder, + a penalty for every cancel that depends on how long the order
// rested (8 under 5 s … 1 under 300 s, 0 after), decaying linearly over time, never below zero.
// Kraken refuses with `EOrder:Rate limit exceeded` at its tier's threshold (Starter 60 decaying
// 1/s, Intermediate 125 at 2.34/s, Pro 180 at 3.75/s). Our budget is RISK_MAX_ORDERS_PER_MINUTE = N:
// threshold N, decaying N per minute — N = 60 is exactly Kraken's Starter tier. Pure: time is passed in.

/** Kraken's cancel penalty by the order's age (its "decaying count" for Cancel Order). */
export function cancelPenalty(ageMs: number): number {
  const s = ageMs / 1000;
  if (s < 5) return 8;
  if (s < 10) return 6;
  if (s < 15) return 5;
  if (s < 45) return 4;
  if (s < 90) return 2;
  if (s < 300) return 1;
  return 0;
}

/** What an order that may still be cancelled or filled can cost later: its cancel, or its exit (1). */
export function restingReserve(ageMs: number): number {
  return Math.max(1, cancelPenalty(ageMs));
}

export const ADD_ORDER_COST = 1;

/**
 * The points an entry must leave free on its pair: an exit (+1) for every position there and for
 * this entry, and for every order of ours still resting there its cancel or its exit — the orders
 * that follow and are never refused. A resting (limit) entry reserves its own cancel instead.
 */
export function entryReserve(p: { positionsOnPair: number; restingAgesMs: number[]; resting: boolean }): number {
  return p.positionsOnPair + (p.resting ? restingReserve(0) : ADD_ORDER_COST) + p.restingAgesMs.reduce((sum, age) => sum + restingReserve(age), 0);
}

export interface RateBudget {
  threshold: number;
  decayPerSecond: number;
}

export function budgetFor(ordersPerMinute: number): RateBudget {
  return { threshold: ordersPerMinute, decayPerSecond: ordersPerMinute / 60 };
}

interface Level {
  value: number;
  atMs: number;
}

export class RateCounter {
  readonly #levels = new Map<string, Level>();

  constructor(readonly budget: RateBudget) {}

  /** The pair's counter now (decayed since the last event). */
  level(pair: string, nowMs: number): number {
    const l = this.#levels.get(pair);
    if (!l) return 0;
    return Math.max(0, l.value - (Math.max(0, nowMs - l.atMs) / 1000) * this.budget.decayPerSecond);
  }

  #bump(pair: string, nowMs: number, by: number): void {
    // An event stamped earlier than the last one (clocks of two processes) counts at the last time.
    const at = Math.max(nowMs, this.#levels.get(pair)?.atMs ?? nowMs);
    this.#levels.set(pair, { value: this.level(pair, at) + by, atMs: at });
  }

  /** An AddOrder reached Kraken (sent, whatever the answer: Kraken counts it on receipt). */
  recordAdd(pair: string, nowMs: number): void {
    this.#bump(pair, nowMs, ADD_ORDER_COST);
  }

  /** A cancel of an order placed at `placedAtMs` (cancels are never refused, but they count). */
  recordCancel(pair: string, nowMs: number, placedAtMs: number): void {
    this.#bump(pair, nowMs, cancelPenalty(nowMs - placedAtMs));
  }

  /**
   * Whether one more AddOrder fits with `reserve` points kept free: the exits and cancels this
   * order and the orders already out may still need, which are never refused.
   */
  fits(pair: string, nowMs: number, reserve: number): boolean {
    return this.level(pair, nowMs) + ADD_ORDER_COST + reserve <= this.budget.threshold + 1e-9;
  }
}
