// Owns Kraken's two spot rate counters (docs.kraken.com, "Spot REST Rate Limits" and "Spot Trading
// Limits"): the REST call counter per API key (+1 a call, +2 for ledger/trade history, AddOrder and
// CancelOrder excluded; over the tier's maximum → `EAPI:Rate limit exceeded`), and the trading
// counter per pair (+1 per AddOrder even when it fails validation, a cancel costs more the younger
// the order: <5s 8, <10s 6, <15s 5, <45s 4, <90s 2, <300s 1; over the threshold →
// `EOrder:Rate limit exceeded`). Both decay continuously by wall-clock time.

export type Tier = 'starter' | 'intermediate' | 'pro';
export const TIERS: readonly Tier[] = ['starter', 'intermediate', 'pro'];

/** REST counter: maximum and decay per second, by verification tier. */
export const REST_LIMITS: Record<Tier, { max: number; decayPerSecond: number }> = {
  starter: { max: 15, decayPerSecond: 0.33 },
  intermediate: { max: 20, decayPerSecond: 0.5 },
  pro: { max: 20, decayPerSecond: 1 },
};

/** Trading counter: threshold and decay per second, by verification tier. */
export const TRADING_LIMITS: Record<Tier, { max: number; decayPerSecond: number }> = {
  starter: { max: 60, decayPerSecond: 1 },
  intermediate: { max: 125, decayPerSecond: 2.34 },
  pro: { max: 180, decayPerSecond: 3.75 },
};

/** Endpoints that count 2 on the REST counter. */
const HISTORY_CALLS = new Set(['TradesHistory', 'QueryTrades', 'Ledgers', 'QueryLedgers']);
/** Endpoints on the trading counter instead of the REST counter. */
const TRADING_CALLS = new Set(['AddOrder', 'AddOrderBatch', 'CancelOrder', 'CancelOrderBatch', 'EditOrder', 'AmendOrder']);

/** The extra count for cancelling an order `ageSeconds` old. */
export function cancelPenalty(ageSeconds: number): number {
  if (ageSeconds < 5) return 8;
  if (ageSeconds < 10) return 6;
  if (ageSeconds < 15) return 5;
  if (ageSeconds < 45) return 4;
  if (ageSeconds < 90) return 2;
  if (ageSeconds < 300) return 1;
  return 0;
}

class DecayingCounter {
  #value = 0;
  #at: number;
  constructor(private readonly decayPerSecond: number, now: number) {
    this.#at = now;
  }
  value(now: number): number {
    const elapsed = Math.max(0, now - this.#at) / 1000;
    this.#value = Math.max(0, this.#value - elapsed * this.decayPerSecond);
    this.#at = now;
    return this.#value;
  }
  add(n: number, now: number): number {
    this.#value = this.value(now) + n;
    return this.#value;
  }
}

export class RateCounters {
  readonly #rest = new Map<string, DecayingCounter>();
  readonly #trading = new Map<string, DecayingCounter>();

  constructor(public enabled: boolean, public tier: Tier) {}

  #counter(map: Map<string, DecayingCounter>, key: string, decay: number, now: number): DecayingCounter {
    let c = map.get(key);
    if (!c) map.set(key, (c = new DecayingCounter(decay, now)));
    return c;
  }

  /** Charges one private REST call; false (and nothing charged) when it would pass the maximum. */
  chargeRest(apiKey: string, endpoint: string, now: number): boolean {
    if (!this.enabled || TRADING_CALLS.has(endpoint)) return true;
    const { max, decayPerSecond } = REST_LIMITS[this.tier];
    const counter = this.#counter(this.#rest, apiKey, decayPerSecond, now);
    const cost = HISTORY_CALLS.has(endpoint) ? 2 : 1;
    if (counter.value(now) + cost > max) return false;
    counter.add(cost, now);
    return true;
  }

  /** AddOrder's fixed +1, applied even when the order is then refused; false when over the threshold. */
  chargeAdd(pairId: string, now: number): boolean {
    if (!this.enabled) return true;
    const { max, decayPerSecond } = TRADING_LIMITS[this.tier];
    return this.#counter(this.#trading, pairId, decayPerSecond, now).add(1, now) <= max;
  }

  /** Whether a cancel may go ahead (the counter is under the threshold). */
  mayCancel(pairId: string, now: number): boolean {
    if (!this.enabled) return true;
    const { max, decayPerSecond } = TRADING_LIMITS[this.tier];
    return this.#counter(this.#trading, pairId, decayPerSecond, now).value(now) < max;
  }

  /** The cancel penalty for an order `ageSeconds` old (batch cancels are charged but never refused). */
  chargeCancel(pairId: string, ageSeconds: number, now: number): void {
    if (!this.enabled) return;
    const { decayPerSecond } = TRADING_LIMITS[this.tier];
    this.#counter(this.#trading, pairId, decayPerSecond, now).add(cancelPenalty(ageSeconds), now);
  }

  snapshot(now: number): { rest: Record<string, number>; trading: Record<string, number> } {
    const round = (v: number) => Math.round(v * 100) / 100;
    return {
      rest: Object.fromEntries([...this.#rest].map(([k, c]) => [`${k.slice(0, 6)}…`, round(c.value(now))])),
      trading: Object.fromEntries([...this.#trading].map(([k, c]) => [k, round(c.value(now))])),
    };
  }

  reset(): void {
    this.#rest.clear();
    this.#trading.clear();
  }
}
