// Owns "no position ever above its strategy limit" as arithmetic: the limits of the shipped
// strategies file per pair, and the replay of Kraken's own trade list (from the starting balances)
// that finds every moment a pair's holdings were worth more than those limits allow.
import { Decimal } from '../../src/money.js';
import type { StrategyDefinition } from '../../src/engine/strategies/config.js';
import { pairOf } from '../../src/simulator/catalogue.js';
import type { SimTrade } from '../../src/simulator/types.js';

/**
 * Room for what moves a position's value between the decision and the fill: slippage (5 bps),
 * the taker fee (0.40 %), and the price path over the candles a sliced order fills across. A second
 * position stacked on the first doubles the value, far past this.
 */
export const LIMIT_TOLERANCE = 1.05;

export interface PairLimit {
  symbol: string;
  maxOpenPositions: number;
  /** Per position: % of equity and notional, the smaller applies. */
  maxPositionPctOfEquity: number;
  maxNotional: number;
  strategies: string[];
}

/** One limit per pair: the sum of what every enabled strategy trading it may hold. */
export function pairLimits(strategies: StrategyDefinition[]): Map<string, PairLimit[]> {
  const out = new Map<string, PairLimit[]>();
  for (const s of strategies.filter((d) => d.enabled)) {
    for (const symbol of s.pairs) {
      out.set(symbol, [...(out.get(symbol) ?? []), { symbol, strategies: [s.name], ...s.limits }]);
    }
  }
  return out;
}

/** The most a pair's holdings may be worth at `equity` (quote currency), tolerance included. */
export function allowedValue(limits: PairLimit[], equity: Decimal): Decimal {
  let sum = new Decimal(0);
  for (const l of limits) {
    const perPosition = Decimal.min(equity.mul(l.maxPositionPctOfEquity).div(100), new Decimal(l.maxNotional));
    sum = sum.plus(perPosition.mul(l.maxOpenPositions));
  }
  return sum.mul(LIMIT_TOLERANCE);
}

export interface Breach {
  tradeId: string;
  at: string;
  symbol: string;
  holdings: string;
  value: string;
  allowed: string;
  equity: string;
}

/**
 * Replays the account from its starting balances through Kraken's trades (oldest first) and lists
 * every trade after which a pair's holdings were worth more than its limits allow, valued at that
 * trade's price against the account's equity at that moment.
 */
export function breachesFromTrades(trades: SimTrade[], startingUsd: string, limits: Map<string, PairLimit[]>): Breach[] {
  let usd = new Decimal(startingUsd);
  const held = new Map<string, Decimal>();
  const lastPrice = new Map<string, Decimal>();
  const breaches: Breach[] = [];
  for (const t of [...trades].sort((a, b) => a.time - b.time)) {
    const symbol = pairOf(t.pair)?.symbol ?? t.pair;
    const vol = new Decimal(t.vol);
    const price = new Decimal(t.price);
    const cost = new Decimal(t.cost ?? vol.mul(price));
    const fee = new Decimal(t.fee);
    held.set(symbol, (held.get(symbol) ?? new Decimal(0)).plus(t.type === 'buy' ? vol : vol.neg()));
    usd = t.type === 'buy' ? usd.minus(cost).minus(fee) : usd.plus(cost).minus(fee);
    lastPrice.set(symbol, price);
    let equity = usd;
    for (const [s, q] of held) equity = equity.plus(q.mul(lastPrice.get(s) ?? 0));
    const value = held.get(symbol)!.mul(price);
    const allowed = allowedValue(limits.get(symbol) ?? [], equity);
    if (t.type === 'buy' && value.gt(allowed)) {
      breaches.push({
        tradeId: t.txid, at: new Date(t.time * 1000).toISOString(), symbol, holdings: held.get(symbol)!.toFixed(8),
        value: value.toFixed(2), allowed: allowed.toFixed(2), equity: equity.toFixed(2),
      });
    }
  }
  return breaches;
}
