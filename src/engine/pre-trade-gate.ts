// Owns the pre-trade gate's decision: whether one order intent may leave, paper and live alike.
// Pure — the order, what the market and our books say, the limits in, a decision out; the caller
// (gate-runtime.ts) gathers the inputs and records a refusal. The checks, in order:
//   open_orders  our unsettled orders on the pair and in all stay within RISK_MAX_OPEN_ORDERS
//   notional     an entry's quantity × its price stays within RISK_MAX_ORDER_NOTIONAL
//   price_band   a priced order's price (a limit, or the price an entry was sized at) lies within
//                RISK_PRICE_BAND_PCT of the last mid — the fat-finger check
//   rate         an entry fits the pair's order-rate budget (rate-counter.ts) with room kept for
//                the exits and cancels that may follow
// Exits are never refused by the notional or rate checks: they only reduce risk. A market exit's
// size comes from the ledger, not from a price, so the band has nothing to check on it.
import { Decimal, dec } from '../money.js';

export const RISK_CHECKS = ['open_orders', 'notional', 'price_band', 'rate'] as const;
export type RiskCheck = (typeof RISK_CHECKS)[number];

export interface GateLimits {
  maxOrderNotional: number;
  priceBandPct: number;
  maxOpenOrdersPerPair: number;
  maxOpenOrdersTotal: number;
}

export interface GateOrder {
  symbol: string;
  side: 'buy' | 'sell';
  purpose: 'entry' | 'exit' | 'flatten';
  type: 'market' | 'limit';
  quantity: string;
  limitPrice?: string | null;
}

export interface GateMarket {
  /** The price the engine valued the order at (its last close), used when the order has no limit. */
  lastPrice: number | null;
  /** The last mid ((bid + ask) / 2) from the venue, or null with why. */
  mid: number | null;
  midProblem?: string;
}

export interface GateBook {
  /** Our orders not settled yet (pending, sent, open), this one left out. */
  openOnPair: number;
  openTotal: number;
  /** Whether one more order fits the pair's rate budget with its reserve (rate-counter.ts). */
  rateFits: boolean;
  rateText: string;
}

export type GateDecision = { ok: true } | { ok: false; check: RiskCheck; message: string };

const refuse = (check: RiskCheck, message: string): GateDecision => ({ ok: false, check, message });

/** The price an order is valued and banded at: its limit, else the engine's last price. */
export function referencePrice(order: GateOrder, market: Pick<GateMarket, 'lastPrice'>): Decimal | null {
  if (order.type === 'limit' && order.limitPrice) return dec(order.limitPrice);
  return market.lastPrice !== null && market.lastPrice > 0 ? dec(market.lastPrice) : null;
}

export function checkOrder(order: GateOrder, market: GateMarket, book: GateBook, limits: GateLimits): GateDecision {
  const entry = order.purpose === 'entry';
  if (book.openOnPair + 1 > limits.maxOpenOrdersPerPair) {
    return refuse('open_orders', `${book.openOnPair} orders on ${order.symbol} are not settled yet; the limit is ${limits.maxOpenOrdersPerPair} per pair (RISK_MAX_OPEN_ORDERS)`);
  }
  if (book.openTotal + 1 > limits.maxOpenOrdersTotal) {
    return refuse('open_orders', `${book.openTotal} orders are not settled yet; the limit is ${limits.maxOpenOrdersTotal} in all (RISK_MAX_OPEN_ORDERS)`);
  }
  const price = referencePrice(order, market);
  if (entry) {
    if (!price) return refuse('notional', `no price to value the ${order.symbol} order at`);
    const notional = dec(order.quantity).times(price);
    if (notional.gt(limits.maxOrderNotional)) {
      return refuse('notional', `notional ${notional.toDecimalPlaces(2).toFixed()} (${order.quantity} × ${price.toFixed()}) is over the ${limits.maxOrderNotional} limit (RISK_MAX_ORDER_NOTIONAL)`);
    }
  }
  if (entry || order.type === 'limit') {
    if (!price) return refuse('price_band', `no price to check the ${order.symbol} order against`);
    if (market.mid === null || !(market.mid > 0)) return refuse('price_band', `no mid price for ${order.symbol} to check the order against${market.midProblem ? `: ${market.midProblem}` : ''}`);
    const deviation = price.minus(market.mid).abs().div(market.mid).times(100);
    if (deviation.gt(limits.priceBandPct)) {
      return refuse('price_band', `price ${price.toFixed()} is ${deviation.toDecimalPlaces(2).toFixed()}% from the mid ${market.mid} (band ${limits.priceBandPct}%, RISK_PRICE_BAND_PCT)`);
    }
  }
  if (entry && !book.rateFits) return refuse('rate', `the ${order.symbol} order-rate budget is spent: ${book.rateText} (RISK_MAX_ORDERS_PER_MINUTE)`);
  return { ok: true };
}
