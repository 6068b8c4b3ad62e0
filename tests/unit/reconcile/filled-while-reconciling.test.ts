// Which differences of a failed live reconciliation self-heal may owe to the next pass as timing: only
// trades of orders resting at the probe with their fills booked, made since, no more than rested, and
// balance shortfalls as far as those trades make them. Everything else is named as not explained.
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../src/money.js';
import type { BalanceDiff } from '../../../src/services/reconcile/balances.js';
import { filledWhileReconciling, KRAKEN_CLOCK_ALLOWANCE_MS, type ReconcileDifferences } from '../../../src/services/self-heal/filled-while-reconciling.js';

const probedAt = new Date('2026-03-02T10:00:00Z');
const resting = { probedAt, remaining: new Map([['OREST1', new Decimal('0.01')]]) };
const tolerance = (asset: string) => new Decimal(asset === 'USD' ? '0.01' : '0.00000001');

type Trade = ReconcileDifferences['recentUnmatched'][number];
const trade = (over: Partial<Trade> = {}): Trade => ({
  tradeId: 'TNEW1', orderId: 'OREST1', symbol: 'BTC/USD', side: 'buy', quantity: '0.01', price: '49000', fee: '1.225', feeCurrency: 'USD', at: '2026-03-02T10:00:01.000Z', ...over,
});
const short = (asset: string, ledger: string, exchange: string): BalanceDiff => ({
  asset, ledger, exchange, diff: new Decimal(exchange).minus(ledger).toFixed(), tolerance: tolerance(asset).toFixed(), status: 'exchange_holds_less',
});
const differences = (over: Partial<ReconcileDifferences> = {}): ReconcileDifferences => ({ mismatched: [], missingOnExchange: [], recentUnmatched: [trade()], balances: [], ...over });

describe('filledWhileReconciling', () => {
  it('a resting buy that filled after the probe explains its trade and the USD it took', () => {
    const r = filledWhileReconciling(differences({ balances: [short('USD', '10000', '9508.775')] }), resting, tolerance);
    expect(r).toEqual({ trades: [trade()], unexplained: [] });
  });

  it('a resting sell filled in two parts explains the BTC it sold; what it brought in USD is no shortfall', () => {
    const parts = [trade({ tradeId: 'TNEW1', side: 'sell', quantity: '0.004' }), trade({ tradeId: 'TNEW2', side: 'sell', quantity: '0.006' })];
    const r = filledWhileReconciling(differences({ recentUnmatched: parts, balances: [short('BTC', '0.03', '0.02')] }), resting, tolerance);
    expect(r).toEqual({ trades: parts, unexplained: [] });
  });

  it('a fee Kraken charged in the base currency is taken from it, not from the quote', () => {
    // A resting sell of 0.01 BTC whose fee, 0.00002, came out of BTC: Kraken holds 0.01002 BTC less.
    const sold = trade({ side: 'sell', fee: '0.00002', feeCurrency: 'BTC' });
    expect(filledWhileReconciling(differences({ recentUnmatched: [sold], balances: [short('BTC', '0.03', '0.01998')] }), resting, tolerance))
      .toEqual({ trades: [sold], unexplained: [] });
  });

  it('a trade Kraken stamped a little before the probe (two clocks) still counts; one older than the allowance does not', () => {
    const near = trade({ at: new Date(probedAt.getTime() - KRAKEN_CLOCK_ALLOWANCE_MS).toISOString() });
    expect(filledWhileReconciling(differences({ recentUnmatched: [near] }), resting, tolerance).unexplained).toEqual([]);
    const old = trade({ at: new Date(probedAt.getTime() - KRAKEN_CLOCK_ALLOWANCE_MS - 1).toISOString() });
    const r = filledWhileReconciling(differences({ recentUnmatched: [old] }), resting, tolerance);
    expect(r.trades).toEqual([]);
    expect(r.unexplained).toEqual([`trade TNEW1 of order OREST1, made before self-heal listed open orders (${old.at})`]);
  });

  it('a trade of an order that was not resting at the probe is not timing', () => {
    const r = filledWhileReconciling(differences({ recentUnmatched: [trade(), trade({ tradeId: 'TOTHER', orderId: 'OOTHER' })] }), resting, tolerance);
    expect(r.trades).toEqual([trade()]);
    expect(r.unexplained).toEqual(['trade TOTHER of order OOTHER, not resting with its fills booked when self-heal listed open orders']);
  });

  it('trades adding up to more than rested at the probe are not timing', () => {
    const r = filledWhileReconciling(differences({ recentUnmatched: [trade(), trade({ tradeId: 'TNEW2', quantity: '0.001' })] }), resting, tolerance);
    expect(r.trades).toEqual([]);
    expect(r.unexplained).toEqual(["order OREST1's trades add up to 0.011, more than the 0.01 resting when self-heal listed open orders"]);
  });

  it('a mismatched fill or one missing on Kraken is never timing', () => {
    const fill = { fillId: 1, clientOrderId: 'c', exchangeTradeId: 'T1', symbol: 'BTC/USD', side: 'buy' as const, quantity: '1', price: '1', fee: '0', at: '2026-03-01T00:00:00.000Z' };
    const r = filledWhileReconciling(differences({
      mismatched: [{ fields: ['fee'], ledger: fill, exchange: trade({ tradeId: 'T1' }) }], missingOnExchange: [fill, fill],
    }), resting, tolerance);
    expect(r.unexplained).toEqual(['1 mismatched fill(s)', '2 fill(s) missing on Kraken']);
  });

  it('names a balance shortfall before the other differences (an alert title keeps 300 characters)', () => {
    const r = filledWhileReconciling(differences({ recentUnmatched: [trade({ tradeId: 'TOTHER', orderId: 'OOTHER' })], balances: [short('USD', '10000', '9900')] }), resting, tolerance);
    expect(r.unexplained).toEqual([
      'Kraken holds 100 USD less than the ledger',
      'trade TOTHER of order OOTHER, not resting with its fills booked when self-heal listed open orders',
    ]);
  });

  it('a shortfall beyond what the trades took, or of an asset they did not touch, is not timing', () => {
    const r = filledWhileReconciling(differences({ balances: [short('USD', '10000', '9500'), short('ETH', '1', '0.5')] }), resting, tolerance);
    expect(r.unexplained).toEqual([
      'Kraken holds 8.775 USD less than the ledger would with those trades booked',
      'Kraken holds 0.5 ETH less than the ledger would with those trades booked',
    ]);
  });

  it('a shortfall with no trade at all is not timing, said plainly; within the tolerance of those trades it is', () => {
    expect(filledWhileReconciling(differences({ recentUnmatched: [], balances: [short('BTC', '0.02', '0.01')] }), resting, tolerance))
      .toEqual({ trades: [], unexplained: ['Kraken holds 0.01 BTC less than the ledger'] });
    expect(filledWhileReconciling(differences({ balances: [short('USD', '10000', '9508.7700')] }), resting, tolerance).unexplained).toEqual([]);
  });

  it('names three trades, then counts the rest', () => {
    const others = ['A', 'B', 'C', 'D', 'E'].map((id) => trade({ tradeId: `T${id}`, orderId: `O${id}` }));
    const r = filledWhileReconciling(differences({ recentUnmatched: others }), resting, tolerance);
    expect(r.unexplained).toEqual([
      'trade TA of order OA, not resting with its fills booked when self-heal listed open orders',
      'trade TB of order OB, not resting with its fills booked when self-heal listed open orders',
      'trade TC of order OC, not resting with its fills booked when self-heal listed open orders',
      '2 more trade(s) like them',
    ]);
  });
});
