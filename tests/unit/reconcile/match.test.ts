import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ExchangeTrade } from '../../../src/exchange/types.js';
import { balanceDiffs, ledgerHoldings } from '../../../src/services/reconcile/balances.js';
import { Decimal } from '../../../src/money.js';
import { canonicalDecimal, matchTrades, sameDecimal, type LedgerFill } from '../../../src/services/reconcile/match.js';

const at = (iso: string) => new Date(iso);
const trade = (id: string, over: Partial<ExchangeTrade> = {}): ExchangeTrade => ({
  id, orderId: `O-${id}`, symbol: 'BTC/USD', side: 'buy', quantity: '0.01000000', price: '30000.0', fee: '0.78000', feeCurrency: 'USD',
  timestamp: at('2026-01-04T12:00:00Z'), ...over,
});
const fill = (id: number, tradeId: string, over: Partial<LedgerFill> = {}): LedgerFill => ({
  id, clientOrderId: `ctb-${id}`, exchangeTradeId: tradeId, exchangeOrderId: `O-${tradeId}`, symbol: 'BTC/USD', side: 'buy',
  quantity: '0.010000000000000000', price: '30000.000000000000000000', fee: '0.780000000000000000', filledAtMs: at('2026-01-04T12:00:00Z').getTime(), ...over,
});
const cutoff = at('2026-01-01T00:00:00Z');

describe('matchTrades', () => {
  it('matches fills to trades by exchange trade id whatever the trailing zeros', () => {
    const r = matchTrades([fill(1, 'T1'), fill(2, 'T2')], [trade('T2'), trade('T1')], { legacyBefore: cutoff });
    expect(r).toMatchObject({ matched: 2, mismatched: [], missingOnExchange: [], legacyUnmatched: [], recentUnmatched: [] });
  });

  it('reports a mismatch naming each field that differs beyond tolerance', () => {
    const r = matchTrades(
      [fill(1, 'T1', { side: 'sell', quantity: '0.02', price: '30001', fee: '0.78001' })],
      [trade('T1')],
      { legacyBefore: cutoff },
    );
    expect(r.mismatched.map((m) => m.fields)).toEqual([['side', 'quantity', 'price']]);
  });

  it('accepts differences inside the tolerance', () => {
    const r = matchTrades([fill(1, 'T1', { quantity: '0.010000001', price: '30000.01', fee: '0.780005' })], [trade('T1')], { legacyBefore: cutoff });
    expect(r.matched).toBe(1);
  });

  it('falls back to the order id for a fill recorded without its trade id', () => {
    const r = matchTrades([fill(1, 'pending-id', { exchangeOrderId: 'O-T1' })], [trade('T1')], { legacyBefore: cutoff });
    expect(r.matched).toBe(1);
    expect(r.recentUnmatched).toEqual([]);
  });

  it('pairs each partial fill of one order with the trade of the same amounts, whatever the order of either list', () => {
    const partials = ['0.001', '0.002', '0.003', '0.004', '0.005'].map((q, i) => trade(`P${i}`, { orderId: 'O-BIG', quantity: q, fee: `0.0${i + 1}` }));
    const fills = [4, 1, 3, 0, 2].map((i) => fill(10 + i, `unknown-${i}`, { exchangeOrderId: 'O-BIG', quantity: `${partials[i]!.quantity}000`, fee: partials[i]!.fee }));
    const r = matchTrades(fills, partials, { legacyBefore: cutoff });
    expect(r).toMatchObject({ matched: 5, mismatched: [], missingOnExchange: [], recentUnmatched: [] });
  });

  it('pairs an order-id fill with the order’s oldest unclaimed trade when no amounts agree, and reports the difference', () => {
    const older = trade('P-OLD', { orderId: 'O-X', quantity: '0.5', timestamp: at('2026-01-04T11:00:00Z') });
    const newer = trade('P-NEW', { orderId: 'O-X', quantity: '0.7', timestamp: at('2026-01-04T12:00:00Z') });
    const r = matchTrades([fill(1, 'unknown', { exchangeOrderId: 'O-X', quantity: '0.6' })], [newer, older], { legacyBefore: cutoff });
    expect(r.mismatched.map((m) => [m.trade.id, m.fields])).toEqual([['P-OLD', ['quantity']]]);
    expect(r.recentUnmatched.map((t) => t.id)).toEqual(['P-NEW']);
  });

  it('reports a fill with neither a known trade id nor an order id as missing on the exchange', () => {
    const r = matchTrades([fill(1, 'unknown', { exchangeOrderId: null })], [trade('T1')], { legacyBefore: cutoff });
    expect(r.missingOnExchange.map((f) => f.id)).toEqual([1]);
    expect(r.recentUnmatched.map((t) => t.id)).toEqual(['T1']);
  });

  it('never claims one exchange trade for two fills', () => {
    const r = matchTrades([fill(1, 'T1'), fill(2, 'T1')], [trade('T1')], { legacyBefore: cutoff });
    expect(r.matched).toBe(1);
    expect(r.missingOnExchange.map((f) => f.id)).toEqual([2]);
  });

  it('finds a trade id listed twice on the exchange at its last listing, and the empty trade id like any other', () => {
    const r = matchTrades([fill(1, 'T1', { quantity: '0.02' }), fill(2, '', { exchangeOrderId: null })],
      [trade('T1', { orderId: 'O-FIRST' }), trade(''), trade('T1', { orderId: 'O-LAST', quantity: '0.02' })], { legacyBefore: cutoff });
    expect(r.matched).toBe(2);
    expect(r.recentUnmatched.map((t) => t.orderId)).toEqual(['O-FIRST']);
  });

  it('finds a trade id listed twice at its last listing even when the earlier one is listed just before the previous fill’s trade', () => {
    const r = matchTrades([fill(1, 'T2'), fill(2, 'T1', { quantity: '0.02' })],
      [trade('T1', { orderId: 'O-FIRST' }), trade('T2'), trade('T1', { orderId: 'O-LAST', quantity: '0.02' })], { legacyBefore: cutoff });
    expect(r.matched).toBe(2);
    expect(r.recentUnmatched.map((t) => t.orderId)).toEqual(['O-FIRST']);
  });

  it('joins thousands of fills to their trades by id, in any order, with ids that share long prefixes', () => {
    const n = 5000;
    const ids = Array.from({ length: n }, (_, i) => `TX${String(i).padStart(8, '0')}-ABC`);
    const trades = ids.map((id, i) => trade(id, { quantity: `0.${i + 1}` }));
    // Every third fill in reverse order, every seventh one unknown to the exchange.
    const fills = ids.filter((_, i) => i % 3 === 0).reverse()
      .map((id, k) => fill(k, k % 7 === 0 ? `${id}-GHOST` : id, { exchangeOrderId: null, quantity: `0.${Number(id.slice(2, 10)) + 1}` }));
    const r = matchTrades(fills, trades, { legacyBefore: cutoff });
    const ghosts = fills.filter((f) => f.exchangeTradeId.endsWith('-GHOST'));
    expect(r.mismatched).toEqual([]);
    expect(r.matched).toBe(fills.length - ghosts.length);
    expect(r.missingOnExchange.map((f) => f.id)).toEqual(ghosts.map((f) => f.id));
    expect(r.recentUnmatched.length).toBe(n - r.matched);
  });

  it('splits exchange trades the ledger lacks into legacy (before the cutoff) and recent', () => {
    const r = matchTrades([], [trade('OLD', { timestamp: at('2025-12-31T23:59:59Z') }), trade('NEW', { timestamp: at('2026-01-01T00:00:00Z') })], { legacyBefore: cutoff });
    expect(r.legacyUnmatched.map((t) => t.id)).toEqual(['OLD']);
    expect(r.recentUnmatched.map((t) => t.id)).toEqual(['NEW']);
  });

  it('reports ledger fills that the exchange never saw', () => {
    expect(matchTrades([fill(7, 'GHOST', { exchangeOrderId: null })], [], { legacyBefore: cutoff }).missingOnExchange.map((f) => f.id)).toEqual([7]);
  });
});

describe('canonicalDecimal', () => {
  it.each([['0.0100', '0.01'], ['5.000', '5'], ['7', '7'], ['30000.0', '30000'], ['0.000', '0'], ['100', '100']])('%s is written %s', (a, b) => {
    expect(canonicalDecimal(a)).toBe(b);
  });
});

describe('sameDecimal', () => {
  it.each([['0.0100', '0.01'], ['5.000', '5'], ['30000.0', '30000'], ['12', '12'], ['0.01000000', '0.010000000000000000']])('%s equals %s', (a, b) => {
    expect(sameDecimal(a, b)).toBe(true);
    expect(sameDecimal(b, a)).toBe(true);
  });
  it.each([['50', '5.0'], ['510', '51'], ['0.011', '0.01'], ['1.5', '1.05'], ['5.', '50']])('%s differs from %s', (a, b) => {
    expect(sameDecimal(a, b)).toBe(false);
    expect(sameDecimal(b, a)).toBe(false);
  });
});

describe('balanceDiffs', () => {
  it('fails a shortfall, shows a surplus, and passes an exact holding', () => {
    const fills = [fill(1, 'A'), fill(2, 'B', { symbol: 'ETH/USD', quantity: '2' }), fill(3, 'C', { symbol: 'ETH/USD', side: 'sell', quantity: '0.5' }), fill(4, 'D', { symbol: 'SOL/USD', quantity: '3' })];
    const diffs = balanceDiffs(fills, [
      { asset: 'BTC', total: '0.01', free: '0.01', used: '0' },
      { asset: 'ETH', total: '1.4', free: '1.4', used: '0' },
      { asset: 'SOL', total: '4', free: '4', used: '0' },
    ]);
    expect(diffs).toEqual([
      { asset: 'BTC', ledger: '0.01', exchange: '0.01', diff: '0', tolerance: '0.00000001', status: 'ok' },
      { asset: 'ETH', ledger: '1.5', exchange: '1.4', diff: '-0.1', tolerance: '0.00000001', status: 'exchange_holds_less' },
      { asset: 'SOL', ledger: '3', exchange: '4', diff: '1', tolerance: '0.00000001', status: 'exchange_holds_more' },
    ]);
  });
});

describe('ledgerHoldings', () => {
  it('sums every fill exactly, whatever the scale or spelling of its quantity', () => {
    const quantities = ['0.010000000000000000', '1', '.5', '2.', '0.1', '1e-8', '12345678901234567890.123456789012345678'];
    const fills = quantities.flatMap((q, i) => [fill(i * 2, `B${i}`, { quantity: q }), fill(i * 2 + 1, `S${i}`, { symbol: 'ETH/USD', side: i % 2 ? 'sell' : 'buy', quantity: q })]);
    const held = ledgerHoldings(fills);
    const exact = (signs: number[]) => quantities.reduce((sum, q, i) => sum.plus(new Decimal(q).times(signs[i]!)), new Decimal(0));
    expect(held.get('BTC')?.toFixed()).toBe(exact(quantities.map(() => 1)).toFixed());
    expect(held.get('ETH')?.toFixed()).toBe(exact(quantities.map((_, i) => (i % 2 ? -1 : 1))).toFixed());
  });

  // Quantities as a ledger spells them (scale 18, trailing zeros), shorter and longer ones, both
  // signs, and the units a double holds exactly and the first ones it does not (2^53 and past).
  const digits = (maxLength: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), maxLength });
  const plainDecimal = fc.tuple(fc.boolean(), digits(21), fc.option(digits(20), { nil: null }))
    .filter(([, whole, fraction]) => whole.length + (fraction?.length ?? 0) > 0)
    .map(([minus, whole, fraction]) => `${minus ? '-' : ''}${whole}${fraction === null ? '' : `.${fraction}`}`);
  const quantity = fc.oneof(
    plainDecimal,
    fc.bigInt({ min: 0n, max: 10n ** 20n }).map((units) => `${units / 10n ** 18n}.${(units % 10n ** 18n).toString().padStart(18, '0')}`),
    fc.constantFrom('0', '-0', '0.000000000000000000', '9007199254740991', '9007199254740992', '90071992547409.91', '0.9007199254740993',
      '-9007199254740991', '0.000000000000000001', '1e-8', '-2.5E+3', '.5', '2.'),
  );

  it('sums exactly as Decimal does, term by term, whatever the quantities (double, BigInt and Decimal paths alike)', () => {
    fc.assert(fc.property(fc.array(fc.tuple(quantity, fc.boolean()), { minLength: 1, maxLength: 40 }), (terms) => {
      const fills = terms.map(([q, sell], i) => fill(i, `T${i}`, { quantity: q, side: sell ? 'sell' : 'buy' }));
      const exact = terms.reduce((sum, [q, sell]) => (sell ? sum.minus(q) : sum.plus(q)), new Decimal(0));
      expect(ledgerHoldings(fills).get('BTC')?.toFixed()).toBe(exact.toFixed());
    }), { numRuns: 2_000 });
  });

  it('sums exactly where the units leave what a double holds exactly, and come back', () => {
    const sums = (quantities: string[]) => ledgerHoldings(quantities.map((q, i) => fill(i, `T${i}`, { quantity: q }))).get('BTC')?.toFixed();
    expect(sums(['90071992547409.91', '0.01', '0.01'])).toBe('90071992547409.93');
    expect(sums(['9007199254740991', '0.5', '-9007199254740991.5'])).toBe('0');
    expect(sums(['900719925474099.1', '0.000000000000000001'])).toBe('900719925474099.100000000000000001');
  });

  it('adds a hundred thousand tenths to exactly ten thousand (no binary rounding)', () => {
    const fills = Array.from({ length: 100_000 }, (_, i) => fill(i, `T${i}`, { quantity: '0.1' }));
    expect(ledgerHoldings(fills).get('BTC')?.toFixed()).toBe('10000');
  });
});
