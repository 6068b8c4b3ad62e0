import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import { testConfig } from '../../src/config/env.js';
import { createCcxtKraken } from '../../src/exchange/kraken/ccxt-client.js';
import { LiveTradingNotArmedError } from '../../src/exchange/errors.js';

const KEY = 'k'.repeat(56);
const SECRET = Buffer.from('s'.repeat(64)).toString('base64');
const config = testConfig({ KRAKEN_API_KEY: KEY, KRAKEN_API_SECRET: SECRET, KRAKEN_API_URL: 'https://kraken.test' });

afterEach(() => {
  nock.cleanAll();
});

describe('ccxt Kraken client', () => {
  it('sends requests to KRAKEN_API_URL through a fetch that nock sees', async () => {
    const scope = nock('https://kraken.test')
      .post('/0/private/BalanceEx')
      .reply(200, { error: [], result: { ZUSD: { balance: '100.0000', hold_trade: '0.0000' } } });
    const client = await createCcxtKraken(config, { armed: false, withKeys: true, enableRateLimit: false });
    const balance = (await client.privatePostBalanceEx()) as { result: Record<string, { balance: string }> };
    expect(balance.result['ZUSD']?.balance).toBe('100.0000');
    scope.done();
  });

  it('refuses every endpoint that places or amends orders when not armed, before any request leaves', async () => {
    const seen: string[] = [];
    const scope = nock('https://kraken.test').post(/.*/).reply(200, { error: [], result: {} });
    const client = await createCcxtKraken(config, { armed: false, withKeys: true, enableRateLimit: false, onRequest: (r) => seen.push(r.url) });
    await expect(client.privatePostAddOrder({ pair: 'XBTUSD', type: 'buy', ordertype: 'market', volume: '1' })).rejects.toBeInstanceOf(LiveTradingNotArmedError);
    await expect(client.privatePostAddOrderBatch({ pair: 'XBTUSD', orders: [] })).rejects.toBeInstanceOf(LiveTradingNotArmedError);
    await expect(client.privatePostAmendOrder({ txid: 'O1', order_qty: '1' })).rejects.toBeInstanceOf(LiveTradingNotArmedError);
    await expect(client.privatePostEditOrder({ txid: 'O1', pair: 'XBTUSD', volume: '1' })).rejects.toBeInstanceOf(LiveTradingNotArmedError);
    expect(seen).toEqual([]);
    expect(scope.isDone()).toBe(false);
  });

  it('never refuses cancelling or reading for being unarmed (removing risk needs no arming)', async () => {
    const endpoints = ['CancelAll', 'CancelOrder', 'CancelOrderBatch', 'CancelAllOrdersAfter', 'OpenOrders', 'QueryOrders', 'TradesHistory'];
    const scope = nock('https://kraken.test');
    for (const e of endpoints) scope.post(`/0/private/${e}`).reply(200, { error: [], result: { count: 0 } });
    const client = await createCcxtKraken(config, { armed: false, withKeys: true, enableRateLimit: false }) as unknown as Record<string, (p: object) => Promise<unknown>>;
    for (const e of endpoints) await client[`privatePost${e}`]!({});
    scope.done();
  });

  it('never calls an endpoint that moves funds, even when armed', async () => {
    const scope = nock('https://kraken.test').post(/.*/).reply(200, { error: [], result: {} });
    const client = await createCcxtKraken(config, { armed: true, withKeys: true, enableRateLimit: false });
    await expect(client.privatePostWithdraw({ asset: 'XBT', key: 'x', amount: '1' })).rejects.toThrow(/never moves funds/);
    expect(scope.isDone()).toBe(false);
  });
});
