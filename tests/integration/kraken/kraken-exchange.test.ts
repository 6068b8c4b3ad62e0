import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { testConfig } from '../../../src/config/env.js';
import { ExchangeError, LiveTradingNotArmedError } from '../../../src/exchange/errors.js';
import { KrakenExchange } from '../../../src/exchange/kraken/kraken-exchange.js';
import { silentLogger } from '../../../src/logger.js';
import * as R from '../../support/kraken-recordings.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';

const config = testConfig({ KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: R.BASE });
const kraken = (armed = false) => new KrakenExchange(config, { logger: silentLogger(), armed, enableRateLimit: false, clock: new ManualClock() });
const markets = () => nock(R.BASE).get('/0/public/Assets').reply(200, R.assets).get('/0/public/AssetPairs').reply(200, R.assetPairs);

afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending, 'every recorded response was used').toEqual([]);
});

describe('KrakenExchange against recorded Kraken answers', () => {
  it('loads spot markets with Kraken ids, minimum order size and steps', async () => {
    markets();
    const list = await kraken().loadMarkets();
    expect(list.find((m) => m.symbol === 'BTC/USD')).toEqual({
      symbol: 'BTC/USD', base: 'BTC', quote: 'USD', exchangeId: 'XXBTZUSD', minQuantity: '0.00005', quantityStep: '0.00000001', priceStep: '0.1',
    });
  });

  it('reads a ticker with exact decimal strings and the 24h quote volume', async () => {
    markets();
    nock(R.BASE).get('/0/public/Ticker').query({ pair: 'XXBTZUSD' }).reply(200, R.ticker);
    const t = await kraken().fetchTicker('BTC/USD');
    expect(t).toMatchObject({ bid: '30300.00000', ask: '30300.10000', last: '30303.20000', baseVolume24h: '4412.73601799' });
    expect(t.quoteVolume24h).toBe('135423038.3578862855795');
    expect(t.at.toISOString()).toBe('2026-01-05T12:00:00.000Z');
  });

  it('reads balances from BalanceEx with Kraken asset ids mapped and held amounts as used', async () => {
    markets();
    nock(R.BASE).post('/0/private/BalanceEx').reply(200, R.balanceEx);
    const balances = await kraken().fetchBalances();
    expect(balances).toEqual(expect.arrayContaining([
      { asset: 'USD', total: '25435.21', used: '8249.76', free: '17185.45' },
      { asset: 'BTC', total: '1.2435', used: '0.8423', free: '0.4012' },
    ]));
  });

  it('pages TradesHistory with ofs, 50 a page, until the reported count', async () => {
    markets();
    const all = R.recordedTrades(120);
    const seenOfs: string[] = [];
    nock(R.BASE)
      .post('/0/private/TradesHistory', (b: Record<string, string>) => { seenOfs.push(b['ofs']!); return true; })
      .times(3)
      .reply((_uri, body) => {
        const ofs = Number(new URLSearchParams(body as string).get('ofs'));
        return [200, R.tradesPage(all.slice(ofs, ofs + 50), all.length)];
      });
    const ex = kraken();
    const ids: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await ex.fetchMyTrades(cursor === undefined ? {} : { cursor });
      ids.push(...page.trades.map((t) => t.id));
      expect(page.total).toBe(120);
      cursor = page.next;
      pages += 1;
    } while (cursor !== undefined);
    expect(pages).toBe(3);
    expect(seenOfs).toEqual(['0', '50', '100']);
    expect(ids).toEqual(all.map((t) => t.txid));
  });

  it('turns a Kraken trade into the port shape with exact amounts and the quote currency fee', async () => {
    markets();
    nock(R.BASE).post('/0/private/TradesHistory').reply(200, R.tradesPage(R.recordedTrades(1), 1));
    const page = await kraken().fetchMyTrades({});
    expect(page.next).toBeUndefined();
    expect(page.trades[0]).toEqual({
      id: 'TX0000-ABCDE-FGHIJK', orderId: 'OX0000-ABCDE-FGHIJK', symbol: 'BTC/USD', side: 'buy', quantity: '0.01000000',
      price: '30000.0', fee: '0.78000', feeCurrency: 'USD', timestamp: new Date('2026-01-05T12:00:00Z'),
    });
  });

  it('reports a key with withdrawal rights from GetApiKeyInfo', async () => {
    nock(R.BASE).post('/0/private/GetApiKeyInfo').reply(200, R.apiKeyInfo(['query-funds', 'withdraw-funds', 'query-open-trades', 'modify-trades']));
    expect(await kraken().fetchKeyRights()).toEqual({ canQuery: false, canTrade: true, canCancel: false, canWithdraw: true, source: 'key_info' });
  });

  it('reports a Trade-only key from GetApiKeyInfo', async () => {
    nock(R.BASE).post('/0/private/GetApiKeyInfo').reply(200, R.apiKeyInfo(['query-funds', 'query-open-trades', 'query-closed-trades', 'modify-trades', 'close-trades']));
    expect(await kraken().fetchKeyRights()).toEqual({ canQuery: true, canTrade: true, canCancel: true, canWithdraw: false, source: 'key_info' });
  });

  it('falls back to a withdraw-info probe when GetApiKeyInfo is unknown, and reads Permission denied as no withdrawal rights', async () => {
    nock(R.BASE)
      .post('/0/private/GetApiKeyInfo').reply(200, R.krakenError('EGeneral:Unknown method'))
      .post('/0/private/BalanceEx').reply(200, R.balanceEx)
      .post('/0/private/WithdrawMethods').reply(200, R.krakenError('EGeneral:Permission denied'));
    expect(await kraken().fetchKeyRights()).toEqual({
      canQuery: true, canTrade: false, canCancel: false, canWithdraw: false, source: 'withdraw_probe', unknown: ['canTrade', 'canCancel'],
    });
  });

  it('falls back to the probes when Kraken answers GetApiKeyInfo with HTTP 404', async () => {
    nock(R.BASE)
      .post('/0/private/GetApiKeyInfo').reply(404, 'Not Found')
      .post('/0/private/BalanceEx').reply(200, R.balanceEx)
      .post('/0/private/WithdrawMethods').reply(200, R.krakenError('EGeneral:Permission denied'));
    expect(await kraken().fetchKeyRights()).toMatchObject({ canWithdraw: false, source: 'withdraw_probe' });
  });

  it('reads a withdraw probe that answers as a key that can withdraw', async () => {
    nock(R.BASE)
      .post('/0/private/GetApiKeyInfo').reply(200, R.krakenError('EGeneral:Unknown method'))
      .post('/0/private/BalanceEx').reply(200, R.balanceEx)
      .post('/0/private/WithdrawMethods').reply(200, { error: [], result: [{ asset: 'XXBT', method: 'Bitcoin', network: 'Bitcoin', minimum: '0.0004' }] });
    expect((await kraken().fetchKeyRights()).canWithdraw).toBe(true);
  });

  it('finds an order by client order id in open orders, then in closed orders, with the fills Kraken lists for it', async () => {
    markets();
    const fill = { txid: 'TZX2WP-XSEOP-FP7WYR', ordertxid: 'OQCLML-BW3P3-BUCMWZ', pair: 'XXBTZUSD', time: 1688667796.8802, type: 'buy' as const, price: '30010.0', vol: '1.25000000', fee: '97.53250' };
    nock(R.BASE)
      .post('/0/private/OpenOrders', (b: Record<string, string>) => b['cl_ord_id'] === 'ctb-42' && b['trades'] === 'true').reply(200, R.openOrders({}))
      .post('/0/private/ClosedOrders', (b: Record<string, string>) => b['cl_ord_id'] === 'ctb-42' && b['trades'] === 'true')
      .reply(200, R.closedOrders({ 'OQCLML-BW3P3-BUCMWZ': { cl_ord_id: 'ctb-42', vol_exec: '1.25000000', fee: '97.53250', trades: [fill.txid] } }))
      .post('/0/private/QueryTrades', (b: Record<string, string>) => b['txid'] === fill.txid)
      .reply(200, R.queryTrades([fill]));
    expect(await kraken().fetchOrderByClientId('ctb-42', 'BTC/USD')).toEqual({
      exchangeOrderId: 'OQCLML-BW3P3-BUCMWZ', clientOrderId: 'ctb-42', symbol: 'BTC/USD', side: 'buy', status: 'closed',
      quantity: '1.25000000', filledQuantity: '1.25', averagePrice: '30010.0', feeQuote: '97.53250',
      trades: [{
        id: fill.txid, orderId: 'OQCLML-BW3P3-BUCMWZ', clientOrderId: 'ctb-42', symbol: 'BTC/USD', side: 'buy', quantity: '1.25000000', price: '30010.0',
        fee: '97.53250', feeCurrency: 'USD', chargedFee: '97.53250', chargedFeeCurrency: 'USD', timestamp: new Date(1688667796880),
      }],
    });
  });

  it('answers null when no order carries the client order id', async () => {
    nock(R.BASE).post('/0/private/OpenOrders').reply(200, R.openOrders({})).post('/0/private/ClosedOrders').reply(200, R.closedOrders({}));
    expect(await kraken().fetchOrderByClientId('ctb-43', 'BTC/USD')).toBeNull();
  });

  it('refuses to place orders when the process is not armed, before any request leaves, and cancels all the same', async () => {
    markets();
    const ex = kraken(false);
    await ex.loadMarkets();
    await expect(ex.createOrder({ clientOrderId: 'ctb-1', symbol: 'BTC/USD', side: 'buy', type: 'market', quantity: '0.01' })).rejects.toBeInstanceOf(LiveTradingNotArmedError);
    nock(R.BASE).post('/0/private/CancelAll').reply(200, { error: [], result: { count: 3 } })
      .post('/0/private/CancelAllOrdersAfter').reply(200, { error: [], result: { currentTime: 'x', triggerTime: '0' } });
    expect(await ex.cancelAllOrders()).toEqual({ canceled: 3 });
    await ex.cancelAllOrdersAfter(0);
  });

  it('places an order with its client order id when armed and reads its state back', async () => {
    markets();
    nock(R.BASE)
      .post('/0/private/AddOrder', (b: Record<string, string>) => b['cl_ord_id'] === 'ctb-7' && b['pair'] === 'XXBTZUSD' && b['volume'] === '1.25' && b['ordertype'] === 'limit'
        && b['price'] === '30010.0' && b['oflags'] === 'fciq')
      .reply(200, { error: [], result: { descr: { order: 'buy 1.25000000 XBTUSD @ limit 30010.0' }, txid: ['OUF4EM-FRGI2-MQMWZD'] } })
      .post('/0/private/QueryOrders', (b: Record<string, string>) => b['txid'] === 'OUF4EM-FRGI2-MQMWZD' && b['trades'] === 'true')
      .reply(200, { error: [], result: { 'OUF4EM-FRGI2-MQMWZD': R.openOrders({ x: { cl_ord_id: 'ctb-7', vol_exec: '0' } }).result.open['x'] } });
    const state = await kraken(true).createOrder({ clientOrderId: 'ctb-7', symbol: 'BTC/USD', side: 'buy', type: 'limit', quantity: '1.25', limitPrice: '30010.0' });
    expect(state).toMatchObject({ exchangeOrderId: 'OUF4EM-FRGI2-MQMWZD', clientOrderId: 'ctb-7', status: 'open', filledQuantity: '0', averagePrice: null });
  });

  it('cancels everything with CancelAll when armed and reports the count', async () => {
    nock(R.BASE).post('/0/private/CancelAll').reply(200, { error: [], result: { count: 4 } });
    expect(await kraken(true).cancelAllOrders()).toEqual({ canceled: 4 });
  });

  it('sends the dead man switch timeout in seconds', async () => {
    nock(R.BASE)
      .post('/0/private/CancelAllOrdersAfter', (b: Record<string, string>) => b['timeout'] === '60')
      .reply(200, { error: [], result: { currentTime: '2023-03-24T17:41:56Z', triggerTime: '2023-03-24T17:42:56Z' } });
    await kraken(true).cancelAllOrdersAfter(60_000);
  });

  it('rejects a client order id Kraken would not accept, without calling Kraken', async () => {
    await expect(kraken(true).fetchOrderByClientId('x'.repeat(19), 'BTC/USD')).rejects.toMatchObject({ kind: 'rejected', code: 'bad_client_order_id' });
  });

  it('names the field when Kraken answers in an unexpected format', async () => {
    nock(R.BASE).post('/0/private/TradesHistory').reply(200, { error: [], result: { trades: { T1: { pair: 'XXBTZUSD' } }, count: 1 } });
    const err = await kraken().fetchMyTrades({}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExchangeError);
    expect(err).toMatchObject({ kind: 'rejected', code: 'unexpected_response' });
    expect((err as Error).message).toMatch(/TradesHistory answered in an unexpected format \(trades\.T1\.ordertxid/);
  });
});
