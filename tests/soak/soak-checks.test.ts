// The soak's own judgements, proven able to fail: a second position stacked on the first is a limit
// breach in Kraken's trade list, a client order id sent twice is found, a Kraken trade the ledger
// lacks is named — and one position within its limits, or a price that moved, is not flagged.
import { describe, expect, it } from 'vitest';
import { testConfig } from '../../src/config/env.js';
import { loadStrategies } from '../../src/engine/strategies/config.js';
import type { SimOrder, SimTrade } from '../../src/simulator/types.js';
import { duplicateClientOrderIds, fillsNotAtKraken, ordersWithoutClientId, tradesNotInLedger } from './kraken-vs-ledger.js';
import { breachesFromTrades, pairLimits } from './limits.js';

// The shipped strategies file: BTC/USD, one position of at most 20 % of equity and 2,500 USD.
const limits = pairLimits(loadStrategies(testConfig()).strategies);

let seq = 0;
function trade(type: 'buy' | 'sell', vol: string, price: string, time = ++seq): SimTrade {
  const cost = (Number(vol) * Number(price)).toFixed(5);
  return { txid: `T${seq}-${type}`, ordertxid: `O${seq}`, pair: 'XXBTZUSD', time, type, ordertype: 'market', price, vol, cost, fee: (Number(cost) * 0.004).toFixed(5) };
}

function order(txid: string, clOrdId?: string): SimOrder {
  return { txid, ...(clOrdId ? { cl_ord_id: clOrdId } : {}), pair: 'XBTUSD', type: 'buy', ordertype: 'market', vol: '0.01', vol_exec: '0.01', status: 'closed', opentm: 1 };
}

describe('limits replayed from Kraken\'s trades', () => {
  it('reads the shipped limits of BTC/USD', () => {
    expect(limits.get('BTC/USD')).toEqual([expect.objectContaining({ maxOpenPositions: 1, maxPositionPctOfEquity: 20, maxNotional: 2500 })]);
  });

  it('lets one position of 20 % of equity, filled in slices, and its exit through', () => {
    const trades = [trade('buy', '0.01', '65000'), trade('buy', '0.01', '65050'), trade('buy', '0.01', '65020'), trade('sell', '0.03', '66000')];
    expect(breachesFromTrades(trades, '10000', limits)).toEqual([]);
  });

  it('flags a second entry stacked on the first (two positions where one is allowed)', () => {
    const trades = [trade('buy', '0.03', '65000'), trade('buy', '0.03', '65000')];
    const breaches = breachesFromTrades(trades, '10000', limits);
    expect(breaches).toHaveLength(1);
    expect(breaches[0]).toMatchObject({ tradeId: trades[1]!.txid, symbol: 'BTC/USD', holdings: '0.06000000' });
  });

  it('flags one entry larger than its share of equity', () => {
    expect(breachesFromTrades([trade('buy', '0.05', '65000')], '10000', limits)).toHaveLength(1);
  });
});

describe('Kraken against the ledger', () => {
  it('finds a client order id Kraken received twice, and an order sent without one', () => {
    const orders = [order('OA', 'c-1'), order('OB', 'c-2'), order('OC', 'c-1'), order('OD')];
    expect(duplicateClientOrderIds(orders)).toEqual([{ clOrdId: 'c-1', txids: ['OA', 'OC'] }]);
    expect(ordersWithoutClientId(orders)).toEqual(['OD']);
  });

  it('names the Kraken trades the ledger lacks and the fills Kraken never made', () => {
    const trades = [trade('buy', '0.01', '65000'), trade('sell', '0.01', '65500')];
    const fills = [{ exchangeTradeId: trades[0]!.txid, clientOrderId: 'c-1' }, { exchangeTradeId: 'TNOTATKRAKEN', clientOrderId: 'c-3' }];
    expect(tradesNotInLedger(trades, fills).map((t) => t.txid)).toEqual([trades[1]!.txid]);
    expect(fillsNotAtKraken(trades, fills)).toEqual([fills[1]]);
  });
});
