// Orders in flight count toward exposure before their fills are booked: the arithmetic of cash kept
// "as if unsettled", the equity the risk guard sees, the cash a new entry may use, and the limits.
import { describe, expect, it } from 'vitest';
import { inFlightOf, type InFlightOrder } from '../../src/engine/in-flight.js';
import { Portfolio } from '../../src/engine/portfolio.js';
import type { OrderIntent } from '../../src/db/schema/index.js';
import type { Candle, Exchange, PriceSource } from '../../src/exchange/types.js';
import { dec } from '../../src/money.js';

const exchangeWithFreeUsd = (free: string) => ({ fetchBalances: async () => [{ asset: 'USD', free, used: '0', total: free }] }) as unknown as Exchange;
const prices = (closes: Record<string, number>): PriceSource => ({
  lastCandle: (symbol) => (closes[symbol] === undefined ? undefined : ({ symbol, close: closes[symbol] } as Candle)),
});

const intent = (over: Partial<OrderIntent>): OrderIntent => ({
  id: 1, clientOrderId: 'c', mode: 'live', feed: 'kraken', strategy: 's', symbol: 'BTC/USD', side: 'buy', purpose: 'entry', type: 'market',
  quantity: '0.1', limitPrice: null, status: 'open', exchangeOrderId: 'O1', tradeId: null, error: null, createdAt: new Date(0), updatedAt: new Date(0), ...over,
});

/** A buy of 0.1 BTC in flight, 0.05 of it filled at 60,000 with a 12 USD fee (Kraken already took 3,012). */
const halfFilledBuy = (): InFlightOrder => inFlightOf(intent({}), {
  exchangeOrderId: 'O1', clientOrderId: 'c', symbol: 'BTC/USD', side: 'buy', status: 'open', quantity: '0.1', filledQuantity: '0.05',
  averagePrice: '60000', feeQuote: '12', trades: [],
});

describe('orders in flight in the portfolio', () => {
  it('adds back what Kraken already took for reported fills, so booking them later applies them once', async () => {
    const p = await Portfolio.load(exchangeWithFreeUsd('6988'), [], 'USD', [halfFilledBuy()]);
    expect(p.cash.toFixed()).toBe('10000');
  });

  it('values filled-but-unbooked quantity at the market for the risk guard', async () => {
    const p = await Portfolio.load(exchangeWithFreeUsd('6988'), [], 'USD', [halfFilledBuy()]);
    // Kraken's cash 6,988 plus 0.05 BTC at 59,000: a loss the risk guard must see.
    expect(p.exactEquity(prices({ 'BTC/USD': 59_000 })).toFixed()).toBe('9938');
    expect(p.equity(prices({ 'BTC/USD': 59_000 }))).toBeCloseTo(9938, 6);
  });

  it('keeps what the entry spent and still needs out of the cash new entries may use', async () => {
    const p = await Portfolio.load(exchangeWithFreeUsd('6988'), [], 'USD', [halfFilledBuy()]);
    // 10,000 − (3,000 + 12 spent) − 0.05 × 59,000 × 1.01 still held = 4,008.5
    expect(p.availableCash(prices({ 'BTC/USD': 59_000 })).toFixed()).toBe('4008.5');
    expect(p.reservedForOrders(prices({ 'BTC/USD': 59_000 }))!.toFixed()).toBe('2979.5');
  });

  it('holds all cash while an entry in flight cannot be priced', async () => {
    const p = await Portfolio.load(exchangeWithFreeUsd('10000'), [], 'USD', [inFlightOf(intent({}))]);
    expect(p.availableCash(prices({})).toFixed()).toBe('0');
    expect(p.reservedForOrders(prices({}))).toBeNull();
  });

  it('counts an entry in flight toward maxOpenPositions and as holding its strategy and pair', async () => {
    const p = await Portfolio.load(exchangeWithFreeUsd('10000'), [], 'USD', [inFlightOf(intent({}), null, dec(60_000))]);
    expect(p.openCount('s')).toBe(1);
    expect(p.entryInFlight('s', 'BTC/USD')).toBe(true);
    expect(p.entryInFlight('s', 'ETH/USD')).toBe(false);
    p.settle(1);
    expect(p.openCount('s')).toBe(0);
  });

  it('marks a trade whose exit is in flight, so it is not sold twice', async () => {
    const p = await Portfolio.load(exchangeWithFreeUsd('10000'), [], 'USD', []);
    p.track(inFlightOf(intent({ id: 7, side: 'sell', purpose: 'exit', tradeId: 42 })));
    expect(p.exitInFlight(42)).toBe(true);
    expect(p.exitInFlight(43)).toBe(false);
  });
});
