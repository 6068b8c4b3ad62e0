import { createHash, createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { testConfig } from '../../../src/config/env.js';
import { KrakenExchange } from '../../../src/exchange/kraken/kraken-exchange.js';
import { silentLogger } from '../../../src/logger.js';
import { fakeTrades, startFakeKraken, type FakeKraken, type FakeKrakenOptions } from '../../support/fake-kraken.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';

let fake: FakeKraken | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function setup(opts: FakeKrakenOptions = {}, armed = false) {
  fake = await startFakeKraken({ apiKey: TEST_API_KEY, secret: TEST_API_SECRET, ...opts });
  const config = testConfig({ KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: fake.url });
  return { fake, kraken: new KrakenExchange(config, { logger: silentLogger(), armed, enableRateLimit: false }) };
}

describe('the fake Kraken server', () => {
  it('verifies Kraken signatures and serves the adapter like Kraken would', async () => {
    const { fake, kraken } = await setup({ balances: { ZUSD: '500.0000', XXBT: '0.5000000000' } });
    expect(await kraken.fetchBalances()).toEqual(expect.arrayContaining([{ asset: 'BTC', total: '0.5', used: '0', free: '0.5' }]));
    expect((await kraken.fetchTicker('BTC/USD')).last).toBe('50000.0');
    expect(fake.calls.map((c) => c.endpoint)).toEqual(['Assets', 'AssetPairs', 'BalanceEx', 'Ticker']);
  });

  it('rejects a wrong secret as Kraken does', async () => {
    fake = await startFakeKraken({ apiKey: TEST_API_KEY, secret: Buffer.from('other').toString('base64') });
    const config = testConfig({ KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: fake.url });
    const kraken = new KrakenExchange(config, { logger: silentLogger(), armed: false, enableRateLimit: false });
    await expect(kraken.fetchKeyRights()).rejects.toMatchObject({ kind: 'rejected', exchangeCode: 'EAPI:Invalid signature' });
  });

  it('refuses a nonce that does not increase', async () => {
    const { fake, kraken } = await setup();
    await kraken.fetchKeyRights();
    const path = '/0/private/BalanceEx';
    const body = 'nonce=1';
    const sign = createHmac('sha512', Buffer.from(TEST_API_SECRET, 'base64'))
      .update(Buffer.concat([Buffer.from(path), createHash('sha256').update(`1${body}`).digest()])).digest('base64');
    const res = await fetch(`${fake.url}${path}`, { method: 'POST', headers: { 'API-Key': TEST_API_KEY, 'API-Sign': sign }, body });
    expect(await res.json()).toEqual({ error: ['EAPI:Invalid nonce'] });
  });

  it('enforces key permissions and answers the withdraw probe with Permission denied for a Trade key', async () => {
    const { fake, kraken } = await setup({ permissions: 'unsupported' });
    expect(await kraken.fetchKeyRights()).toMatchObject({ canWithdraw: false, source: 'withdraw_probe' });
    expect(fake.calls.map((c) => c.endpoint)).toEqual(['GetApiKeyInfo', 'BalanceEx', 'WithdrawMethods']);
    fake.state.permissions = ['query-funds'];
    await expect(kraken.fetchMyTrades({})).rejects.toMatchObject({ kind: 'auth', code: 'permission_denied' });
  });

  it('pages its trade history 50 at a time, newest first', async () => {
    const { fake, kraken } = await setup({ trades: fakeTrades(130) });
    const first = await kraken.fetchMyTrades({});
    const second = await kraken.fetchMyTrades({ cursor: first.next! });
    const third = await kraken.fetchMyTrades({ cursor: second.next! });
    expect([first.trades.length, second.trades.length, third.trades.length, third.next]).toEqual([50, 50, 30, undefined]);
    expect(first.trades[0]!.id).toBe('T00000-FAKE-TRADE');
    expect(fake.callsTo('TradesHistory').map((c) => c.params['ofs'])).toEqual(['0', '50', '100']);
  });

  it('answers queued failures before the normal answer, and records order-changing calls', async () => {
    const { fake, kraken } = await setup({}, true);
    fake.failNext('CancelAll', 'EAPI:Rate limit exceeded');
    await expect(kraken.cancelAllOrders()).rejects.toMatchObject({ kind: 'retryable', code: 'rate_limited' });
    await kraken.loadMarkets();
    const order = await kraken.createOrder({ clientOrderId: 'ctb-9', symbol: 'BTC/USD', side: 'buy', type: 'limit', quantity: '0.01', limitPrice: '49000.0' });
    expect(order.status).toBe('open');
    expect(await kraken.fetchOrderByClientId('ctb-9', 'BTC/USD')).toMatchObject({ exchangeOrderId: order.exchangeOrderId, status: 'open' });
    expect(await kraken.cancelAllOrders()).toEqual({ canceled: 1 });
    expect(fake.orderChangingCalls().map((c) => c.endpoint)).toEqual(['CancelAll', 'AddOrder', 'CancelAll']);
  });

  it('delays answers on request, so a client timeout can be shown', async () => {
    fake = await startFakeKraken();
    fake.setLatency('Time', 150);
    const started = Date.now();
    await fetch(`${fake.url}/0/public/Time`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });
});
