// Money stays exact end to end: the portfolio's cash and equity after any sequence of fills, and the
// risk guard's peak and drawdown (what equity snapshots store), agree digit for digit with integer
// arithmetic on the same amounts — where binary floats would drift.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Trade } from '../../src/db/schema/index.js';
import type { Execution } from '../../src/engine/ledger/record-execution.js';
import { Portfolio } from '../../src/engine/portfolio.js';
import { RiskGuard } from '../../src/engine/risk-guard.js';
import type { Candle, Exchange, PriceSource } from '../../src/exchange/types.js';
import { dec, str } from '../../src/money.js';

/** Amounts as integers of 10^-SCALE units, the oracle the decimals are checked against. */
const SCALE = 18n;
const UNIT = 10n ** SCALE;
const toText = (units: bigint): string => {
  const sign = units < 0n ? '-' : '';
  const abs = units < 0n ? -units : units;
  const fraction = (abs % UNIT).toString().padStart(Number(SCALE), '0').replace(/0+$/, '');
  return `${sign}${abs / UNIT}${fraction ? `.${fraction}` : ''}`;
};
/** A decimal text with `decimals` places: integer part up to `maxWhole`. */
const amount = (maxWhole: number, decimals: number) =>
  fc.tuple(fc.integer({ min: 0, max: maxWhole }), fc.bigInt({ min: 0n, max: 10n ** BigInt(decimals) - 1n }))
    .map(([whole, frac]) => (BigInt(whole) * 10n ** BigInt(decimals) + frac) * 10n ** (SCALE - BigInt(decimals)))
    .filter((units) => units > 0n);
const mul = (a: bigint, b: bigint) => (a * b) / UNIT; // exact when the product has ≤ 18 decimals

const exchangeWithFree = (free: string) => ({ fetchBalances: async () => [{ asset: 'USD', free, used: '0', total: free }] }) as unknown as Exchange;
const noPrices: PriceSource = { lastCandle: () => undefined };
const execution = (quantity: bigint, price: bigint, fee: bigint): Execution => ({
  quantity: dec(toText(quantity)), averagePrice: dec(toText(price)), feeQuote: dec(toText(fee)), at: new Date(0),
});
const trade = (id: number, quantity: bigint, price: bigint) =>
  ({ id, strategy: 's', symbol: 'BTC/USD', quantity: toText(quantity), entryPrice: toText(price) }) as Trade;

describe('exact money', () => {
  it('keeps cash and equity exact over any sequence of entries and exits (8-decimal quantities, 10-decimal prices)', async () => {
    const fill = fc.record({ quantity: amount(50, 8), price: amount(100_000, 10), fee: amount(20, 8), exitPrice: amount(100_000, 10), exitFee: amount(20, 8), close: fc.boolean() });
    await fc.assert(
      fc.asyncProperty(amount(1_000_000, 8), fc.array(fill, { minLength: 1, maxLength: 40 }), async (start, fills) => {
        const p = await Portfolio.load(exchangeWithFree(toText(start)), [], 'USD');
        let cash = start;
        let open = 0n; // Σ quantity × entry price of the positions still open
        fills.forEach((f, i) => {
          p.applyEntry(trade(i + 1, f.quantity, f.price), execution(f.quantity, f.price, f.fee));
          cash -= mul(f.quantity, f.price) + f.fee;
          if (f.close) {
            p.applyExit(i + 1, execution(f.quantity, f.exitPrice, f.exitFee));
            cash += mul(f.quantity, f.exitPrice) - f.exitFee;
          } else {
            open += mul(f.quantity, f.price);
          }
        });
        expect(str(p.cash)).toBe(toText(cash));
        // No candle yet: positions are marked at their exact entry price.
        expect(str(p.exactEquity(noPrices))).toBe(toText(cash + open));
      }),
      { numRuns: 200 },
    );
  });

  it('stores the exact peak and drawdown of the marks, with every digit the float comparison cannot hold', () => {
    // Marks around 10^7 with 18 decimals: floats keep ~16 significant digits, so the tail is lost in
    // a float, and marks of different whole parts can still be closer than a float's step (e.g.
    // 19999981.999999998137354851 and 19999982): the peak must still be the larger one.
    const mark = fc.tuple(fc.integer({ min: 5_000_000, max: 20_000_000 }), fc.bigInt({ min: 0n, max: UNIT - 1n })).map(([whole, frac]) => BigInt(whole) * UNIT + frac);
    fc.assert(
      fc.property(fc.uniqueArray(mark, { minLength: 1, maxLength: 30, selector: (u) => u / UNIT }), (marks) => {
        const guard = new RiskGuard({ db: null as never, clock: null as never, alerts: null as never, logger: null as never,
          limits: { maxDrawdownPct: 1000, dailyLossPct: 1000, hardDrawdownPct: 1000 } }, 'paper');
        const at = new Date('2026-01-05T12:00:00Z');
        let peak = 0n;
        for (const m of marks) {
          guard.observe(Number(toText(m)), at, () => dec(toText(m)));
          if (m > peak) peak = m;
          expect(str(guard.peakExact)).toBe(toText(peak));
          // drawdown · peak / 100 gives back peak − mark to 40 places: no float in the chain.
          const back = guard.exactDrawdownPct(dec(toText(m))).times(dec(toText(peak))).div(100);
          expect(back.minus(dec(toText(peak - m))).abs().lt(dec('1e-30'))).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('takes the larger of two marks that are equal as floats as the peak (found by the property above)', () => {
    const guard = new RiskGuard({ db: null as never, clock: null as never, alerts: null as never, logger: null as never,
      limits: { maxDrawdownPct: 1000, dailyLossPct: 1000, hardDrawdownPct: 1000 } }, 'paper');
    const at = new Date('2026-01-05T12:00:00Z');
    const lower = '19999981.999999998137354851';
    expect(Number(lower)).toBe(19999982);
    guard.observe(Number(lower), at, () => dec(lower));
    guard.observe(19999982, at, () => dec('19999982'));
    expect(str(guard.peakExact)).toBe('19999982');
    guard.observe(Number(lower), at, () => dec(lower));
    expect(str(guard.peakExact)).toBe('19999982');
  });

  it('marks positions at the last close exactly (quantity × close)', async () => {
    await fc.assert(
      fc.asyncProperty(amount(1_000_000, 8), amount(50, 8), amount(100_000, 2), amount(100_000, 1), async (start, quantity, entry, close) => {
        const p = await Portfolio.load(exchangeWithFree(toText(start)), [], 'USD');
        p.applyEntry(trade(1, quantity, entry), execution(quantity, entry, 0n));
        const prices: PriceSource = { lastCandle: (symbol) => ({ symbol, close: Number(toText(close)) }) as Candle };
        expect(str(p.exactEquity(prices))).toBe(toText(start - mul(quantity, entry) + mul(quantity, close)));
      }),
      { numRuns: 200 },
    );
  });
});
