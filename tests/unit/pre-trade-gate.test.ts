// The pre-trade gate's decision and the rate counter it keeps, as properties over any inputs and any
// sequence of orders and cancels: no order over the notional or outside the band is ever let through,
// exits are never refused by the notional or rate checks, and Kraken's trading rate counter — modelled
// here independently, from Kraken's documented table — never passes the budget.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkOrder, type GateBook, type GateLimits, type GateMarket, type GateOrder } from '../../src/engine/pre-trade-gate.js';
import { budgetFor, cancelPenalty, entryReserve, RateCounter } from '../../src/engine/rate-counter.js';
import { dec } from '../../src/money.js';

const limitsArb = fc.record({
  maxOrderNotional: fc.double({ min: 1, max: 1e6, noNaN: true }),
  priceBandPct: fc.double({ min: 0.01, max: 50, noNaN: true }),
  maxOpenOrdersPerPair: fc.integer({ min: 1, max: 20 }),
  maxOpenOrdersTotal: fc.integer({ min: 1, max: 50 }),
});
const price = fc.double({ min: 0.0001, max: 1e6, noNaN: true });
const orderArb = fc.record({
  symbol: fc.constantFrom('BTC/USD', 'ETH/USD'),
  side: fc.constantFrom<'buy' | 'sell'>('buy', 'sell'),
  purpose: fc.constantFrom<GateOrder['purpose']>('entry', 'exit'),
  type: fc.constantFrom<GateOrder['type']>('market', 'limit'),
  quantity: fc.double({ min: 1e-8, max: 1e4, noNaN: true }).map((q) => dec(q).toDecimalPlaces(8).toFixed()).filter((q) => Number(q) > 0),
  limitPrice: fc.option(price.map((p) => dec(p).toDecimalPlaces(8).toFixed()), { nil: null }),
});
const marketArb = fc.record({ lastPrice: fc.option(price, { nil: null }), mid: fc.option(price, { nil: null }) });
const bookArb = fc.record({ openOnPair: fc.integer({ min: 0, max: 25 }), openTotal: fc.integer({ min: 0, max: 60 }), rateFits: fc.boolean(), rateText: fc.constant('x') });

describe('pre-trade gate: the decision', () => {
  it('never lets through an entry over the notional or a priced order outside the band around the mid', () => {
    fc.assert(fc.property(orderArb, marketArb, bookArb, limitsArb, (order, market, book, limits) => {
      const d = checkOrder(order, market as GateMarket, book as GateBook, limits as GateLimits);
      if (!d.ok) return;
      const ref = order.type === 'limit' && order.limitPrice ? dec(order.limitPrice) : market.lastPrice ? dec(market.lastPrice) : null;
      if (order.purpose === 'entry') {
        expect(ref).not.toBeNull();
        expect(dec(order.quantity).times(ref!).lte(limits.maxOrderNotional)).toBe(true);
        expect(book.rateFits).toBe(true);
      }
      if (order.purpose === 'entry' || order.type === 'limit') {
        expect(market.mid).not.toBeNull();
        expect(ref!.minus(market.mid!).abs().div(market.mid!).times(100).lte(limits.priceBandPct)).toBe(true);
      }
      expect(book.openOnPair + 1).toBeLessThanOrEqual(limits.maxOpenOrdersPerPair);
      expect(book.openTotal + 1).toBeLessThanOrEqual(limits.maxOpenOrdersTotal);
    }), { numRuns: 2000 });
  });

  it('never refuses an exit for its notional or the rate budget', () => {
    fc.assert(fc.property(orderArb.map((o) => ({ ...o, purpose: 'exit' as const })), marketArb, bookArb, limitsArb, (order, market, book, limits) => {
      const d = checkOrder(order, market as GateMarket, { ...book, rateFits: false }, { ...limits, maxOrderNotional: 1 } as GateLimits);
      if (!d.ok) expect(['open_orders', 'price_band']).toContain(d.check);
      // A market exit carries no price of ours: only the open-orders count can stop it.
      if (!d.ok && order.type === 'market') expect(d.check).toBe('open_orders');
    }), { numRuns: 1000 });
  });

  it('names the limit and the figures in a refusal', () => {
    const order: GateOrder = { symbol: 'BTC/USD', side: 'buy', purpose: 'entry', type: 'market', quantity: '0.1' };
    const book: GateBook = { openOnPair: 0, openTotal: 0, rateFits: true, rateText: '' };
    const limits: GateLimits = { maxOrderNotional: 2500, priceBandPct: 2, maxOpenOrdersPerPair: 3, maxOpenOrdersTotal: 10 };
    expect(checkOrder(order, { lastPrice: 60_000, mid: 60_010 }, book, limits)).toEqual({
      ok: false, check: 'notional', message: 'notional 6000 (0.1 × 60000) is over the 2500 limit (RISK_MAX_ORDER_NOTIONAL)',
    });
    expect(checkOrder({ ...order, quantity: '0.01' }, { lastPrice: 6_000, mid: 60_000 }, book, limits)).toEqual({
      ok: false, check: 'price_band', message: 'price 6000 is 90% from the mid 60000 (band 2%, RISK_PRICE_BAND_PCT)',
    });
    expect(checkOrder({ ...order, quantity: '0.01' }, { lastPrice: 60_000, mid: null, midProblem: 'Kraken Ticker timed out' }, book, limits)).toMatchObject({
      check: 'price_band', message: 'no mid price for BTC/USD to check the order against: Kraken Ticker timed out',
    });
    expect(checkOrder({ ...order, quantity: '0.01' }, { lastPrice: 60_000, mid: 60_000 }, { ...book, openOnPair: 3 }, limits)).toMatchObject({ check: 'open_orders' });
    expect(checkOrder({ ...order, quantity: '0.01' }, { lastPrice: 60_000, mid: 60_000 }, { ...book, rateFits: false, rateText: 'counter 19.0' }, limits)).toMatchObject({ check: 'rate' });
    expect(checkOrder({ ...order, quantity: '0.01' }, { lastPrice: 60_000, mid: 60_000 }, book, limits)).toEqual({ ok: true });
  });
});

/** Kraken's counter as its documentation describes it, written apart from the bot's model. */
class KrakenCounter {
  level = 0;
  at = 0;
  constructor(private readonly decayPerSecond: number) {}
  add(now: number, points: number): void {
    this.level = Math.max(0, this.level - ((now - this.at) / 1000) * this.decayPerSecond) + points;
    this.at = now;
  }
  static cancelPoints(ageMs: number): number {
    const table: Array<[number, number]> = [[5, 8], [10, 6], [15, 5], [45, 4], [90, 2], [300, 1]];
    return table.find(([s]) => ageMs < s * 1000)?.[1] ?? 0;
  }
}

type Event =
  | { t: 'wait'; ms: number }
  | { t: 'entry'; limit: boolean }
  | { t: 'exit' }
  | { t: 'cancel'; which: number }
  | { t: 'fill'; which: number };

const eventArb: fc.Arbitrary<Event> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ t: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 120_000 }) }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('entry' as const), limit: fc.boolean() }) },
  { weight: 3, arbitrary: fc.constant({ t: 'exit' as const }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('cancel' as const), which: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('fill' as const), which: fc.nat() }) },
);

describe('pre-trade gate: the order-rate budget', () => {
  it("uses Kraken's cancel penalties by order age, and N a minute = Kraken's Starter tier at N = 60", () => {
    expect([0, 4_999, 5_000, 9_999, 14_999, 44_999, 89_999, 299_999, 300_000].map(cancelPenalty)).toEqual([8, 8, 6, 6, 5, 4, 2, 1, 0]);
    expect(budgetFor(60)).toEqual({ threshold: 60, decayPerSecond: 1 });
  });

  it('is never exceeded on Kraken’s counter over any sequence of orders and cancels (exits and cancels always sent)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 120 }), fc.array(eventArb, { maxLength: 300 }), (perMinute, events) => {
      const budget = budgetFor(perMinute);
      const ours = new RateCounter(budget);
      const kraken = new KrakenCounter(budget.decayPerSecond);
      let now = 1_000_000;
      let positions = 0;
      const resting: number[] = []; // placed-at times of our resting limit orders
      let admitted = 0;
      for (const e of events) {
        if (e.t === 'wait') now += e.ms;
        else if (e.t === 'entry') {
          const reserve = entryReserve({ positionsOnPair: positions, restingAgesMs: resting.map((p) => now - p), resting: e.limit });
          if (!ours.fits('BTC/USD', now, reserve)) continue;
          ours.recordAdd('BTC/USD', now);
          kraken.add(now, 1);
          admitted += 1;
          if (e.limit) resting.push(now);
          else positions += 1;
        } else if (e.t === 'exit') {
          if (positions === 0) continue;
          // Exits are never refused: sent whatever the counter says.
          ours.recordAdd('BTC/USD', now);
          kraken.add(now, 1);
          positions -= 1;
        } else if (e.t === 'cancel') {
          if (resting.length === 0) continue;
          const [placed] = resting.splice(e.which % resting.length, 1);
          ours.recordCancel('BTC/USD', now, placed!);
          kraken.add(now, KrakenCounter.cancelPoints(now - placed!));
        } else {
          if (resting.length === 0) continue;
          resting.splice(e.which % resting.length, 1);
          positions += 1;
        }
        expect(kraken.level).toBeLessThanOrEqual(budget.threshold + 1e-9);
      }
      // Nor is the budget a refusal of everything: a quiet pair always takes a market entry.
      if (budget.threshold >= 2) expect(new RateCounter(budget).fits('BTC/USD', 0, entryReserve({ positionsOnPair: 0, restingAgesMs: [], resting: false }))).toBe(true);
      return admitted >= 0;
    }), { numRuns: 1500 });
  });

  it('refills at the budget per minute: N plain entries and exits a minute keep going, N + 1 in a burst do not', () => {
    const c = new RateCounter(budgetFor(10));
    let now = 0;
    const round = () => {
      let sent = 0;
      for (let i = 0; i < 20; i++) {
        if (!c.fits('ETH/USD', now, entryReserve({ positionsOnPair: 0, restingAgesMs: [], resting: false }))) break;
        c.recordAdd('ETH/USD', now); // the entry
        c.recordAdd('ETH/USD', now); // and its exit
        sent += 1;
      }
      return sent;
    };
    expect(round()).toBe(5); // 10 points: 5 entries, each with its exit
    now += 60_000;
    expect(round()).toBe(5);
    expect(c.fits('BTC/USD', now, 1)).toBe(true); // another pair has its own counter
  });
});
