// The fill path of the Kraken adapter from recorded Kraken answers (docs.kraken.com formats): an
// order placed is read back with QueryOrders trades=true, its fills come from QueryTrades — whole,
// partial, not listed yet — and what AddOrder answers decides refused (definite) versus unknown.
import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { testConfig } from '../../../src/config/env.js';
import { ExchangeError } from '../../../src/exchange/errors.js';
import { KrakenExchange } from '../../../src/exchange/kraken/kraken-exchange.js';
import { silentLogger } from '../../../src/logger.js';
import * as R from '../../support/kraken-recordings.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';

const config = testConfig({ KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: R.BASE });
const kraken = () => new KrakenExchange(config, { logger: silentLogger(), armed: true, enableRateLimit: false, clock: new ManualClock() });
const markets = () => nock(R.BASE).get('/0/public/Assets').reply(200, R.assets).get('/0/public/AssetPairs').reply(200, R.assetPairs);
const TXID = 'OUF4EM-FRGI2-MQMWZD';
const added = { error: [], result: { descr: { order: 'buy 0.50000000 XBTUSD @ market' }, txid: [TXID] } };
const buy = { clientOrderId: 'ctb-fill-1', symbol: 'BTC/USD', side: 'buy' as const, type: 'market' as const, quantity: '0.5' };

const fill = (txid: string, vol: string, price: string, fee: string, time = 1767614400.1234): R.RecordedTrade => ({
  txid, ordertxid: TXID, pair: 'XXBTZUSD', time, type: 'buy', price, vol, fee,
});

afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending, 'every recorded response was used').toEqual([]);
});

describe('Kraken fills from QueryOrders (trades=true) and QueryTrades', () => {
  it('reads back a market order filled in two trades: both fills, exact amounts, fees as charged in the quote currency', async () => {
    markets();
    const t1 = fill('THVRQM-33VKH-UCI7BS', '0.30000000', '30010.0', '23.40780');
    const t2 = fill('TTEUX3-HDAAA-RC2RUO', '0.20000000', '30012.5', '15.60650', 1767614400.5);
    nock(R.BASE)
      .post('/0/private/AddOrder', (b: Record<string, string>) => b['cl_ord_id'] === 'ctb-fill-1' && b['ordertype'] === 'market' && b['oflags'] === 'fciq').reply(200, added)
      .post('/0/private/QueryOrders', (b: Record<string, string>) => b['txid'] === TXID && b['trades'] === 'true')
      .reply(200, R.queryOrders({ [TXID]: { cl_ord_id: 'ctb-fill-1', status: 'closed', ordertype: 'market', vol: '0.50000000', vol_exec: '0.50000000', price: '30011.0', fee: '39.01430', trades: [t1.txid, t2.txid] } }))
      .post('/0/private/QueryTrades', (b: Record<string, string>) => b['txid'] === `${t1.txid},${t2.txid}`)
      .reply(200, R.queryTrades([t1, t2]));
    const state = await kraken().createOrder(buy);
    expect(state).toMatchObject({ exchangeOrderId: TXID, status: 'closed', filledQuantity: '0.5', averagePrice: '30011.0', feeQuote: '39.01430' });
    expect(state.trades).toEqual([
      { id: t1.txid, orderId: TXID, clientOrderId: 'ctb-fill-1', symbol: 'BTC/USD', side: 'buy', quantity: '0.30000000', price: '30010.0', fee: '23.40780', feeCurrency: 'USD', chargedFee: '23.40780', chargedFeeCurrency: 'USD', timestamp: new Date(1767614400123) },
      { id: t2.txid, orderId: TXID, clientOrderId: 'ctb-fill-1', symbol: 'BTC/USD', side: 'buy', quantity: '0.20000000', price: '30012.5', fee: '15.60650', feeCurrency: 'USD', chargedFee: '15.60650', chargedFeeCurrency: 'USD', timestamp: new Date(1767614400500) },
    ]);
  });

  it('reads a partly filled order: open, with the one fill Kraken lists so far', async () => {
    markets();
    const t1 = fill('TPART1-AAAAA-BBBBBB', '0.37500000', '30010.0', '29.25975');
    nock(R.BASE)
      .post('/0/private/QueryOrders').reply(200, R.queryOrders({ [TXID]: { cl_ord_id: 'ctb-p', status: 'open', vol: '1.25000000', vol_exec: '0.37500000', trades: [t1.txid] } }))
      .post('/0/private/QueryTrades').reply(200, R.queryTrades([t1]));
    const [state] = await kraken().fetchOrders([{ exchangeOrderId: TXID, symbol: 'BTC/USD' }]);
    expect(state).toMatchObject({ status: 'open', quantity: '1.25000000', filledQuantity: '0.375' });
    expect(state!.trades.map((t) => [t.id, t.quantity])).toEqual([[t1.txid, '0.37500000']]);
  });

  it('reports a closed order whose trades Kraken has not listed yet with no fills, so nothing is booked from hope', async () => {
    markets();
    nock(R.BASE).post('/0/private/QueryOrders').reply(200, R.queryOrders({ [TXID]: { status: 'closed', vol: '0.50000000', vol_exec: '0.50000000' } }));
    const [state] = await kraken().fetchOrders([{ exchangeOrderId: TXID, symbol: 'BTC/USD' }]);
    expect(state).toMatchObject({ status: 'closed', filledQuantity: '0.5', trades: [] });
  });

  it('leaves out a fill QueryTrades does not return and one that belongs to another order', async () => {
    markets();
    const mine = fill('TMINE1-AAAAA-BBBBBB', '0.2', '30000.0', '15.6');
    const other = { ...fill('TOTHER-AAAAA-BBBBBB', '0.3', '30000.0', '23.4'), ordertxid: 'OOTHER-XXXXX-YYYYYY' };
    nock(R.BASE)
      .post('/0/private/QueryOrders').reply(200, R.queryOrders({ [TXID]: { status: 'closed', vol: '0.5', vol_exec: '0.5', trades: [mine.txid, other.txid, 'TLATER-AAAAA-BBBBBB'] } }))
      .post('/0/private/QueryTrades').reply(200, R.queryTrades([mine, other]));
    const [state] = await kraken().fetchOrders([{ exchangeOrderId: TXID, symbol: 'BTC/USD' }]);
    expect(state!.trades.map((t) => t.id)).toEqual([mine.txid]);
  });

  it('asks QueryTrades 20 trade ids at a time', async () => {
    markets();
    const many = Array.from({ length: 25 }, (_, i) => fill(`T${String(i).padStart(5, '0')}-AAAAA-BBBBBB`, '0.02', '30000.0', '1.56'));
    const asked: number[] = [];
    nock(R.BASE)
      .post('/0/private/QueryOrders').reply(200, R.queryOrders({ [TXID]: { status: 'closed', vol: '0.5', vol_exec: '0.5', trades: many.map((t) => t.txid) } }))
      .post('/0/private/QueryTrades').times(2).reply((_uri, body) => {
        const ids = new URLSearchParams(body as string).get('txid')!.split(',');
        asked.push(ids.length);
        return [200, R.queryTrades(many.filter((t) => ids.includes(t.txid)))];
      });
    const [state] = await kraken().fetchOrders([{ exchangeOrderId: TXID, symbol: 'BTC/USD' }]);
    expect(asked).toEqual([20, 5]);
    expect(state!.trades).toHaveLength(25);
  });

  it('records a fee Kraken charged in the base asset (fcib) in that asset, beside the quote fee the ledger books', async () => {
    markets();
    const t = { ...fill('TFCIB1-AAAAA-BBBBBB', '0.25000000', '30000.0', '19.50000'), type: 'sell' as const };
    nock(R.BASE)
      .post('/0/private/QueryOrders').reply(200, R.queryOrders({ [TXID]: { status: 'closed', type: 'sell', vol: '0.25', vol_exec: '0.25', oflags: 'fcib', trades: [t.txid] } }))
      .post('/0/private/QueryTrades').reply(200, R.queryTrades([t]));
    const [state] = await kraken().fetchOrders([{ exchangeOrderId: TXID, symbol: 'BTC/USD' }]);
    expect(state!.trades[0]).toMatchObject({ fee: '19.50000', feeCurrency: 'USD', chargedFee: '0.00065', chargedFeeCurrency: 'BTC' });
  });

  it('reports an order placed but unreadable afterwards as open with no fills, never as failed', async () => {
    markets();
    nock(R.BASE).post('/0/private/AddOrder').reply(200, added).post('/0/private/QueryOrders').reply(503, 'Service Unavailable');
    expect(await kraken().createOrder(buy)).toMatchObject({ exchangeOrderId: TXID, status: 'open', filledQuantity: '0', trades: [] });
  });
});

describe('an AddOrder answer the bot cannot read is unknown, never rejected', () => {
  const addOrderFails = async (reply: (i: nock.Interceptor) => nock.Scope): Promise<ExchangeError> => {
    markets();
    reply(nock(R.BASE).post('/0/private/AddOrder'));
    const err = await kraken().createOrder(buy).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExchangeError);
    return err as ExchangeError;
  };

  it.each([
    ['truncated JSON', (i: nock.Interceptor) => i.reply(200, '{"error":[],"result":{"descr":{"order":"buy 0.5 XBTUSD @ mark')],
    ['an empty 200 body', (i: nock.Interceptor) => i.reply(200, '')],
    ['HTML where JSON was expected', (i: nock.Interceptor) => i.reply(200, '<html><body>Bad gateway</body></html>', { 'content-type': 'text/html' })],
    ['a body the schema refuses', (i: nock.Interceptor) => i.reply(200, { error: [], result: { descr: { order: 'buy' } } })],
    ['an error field ccxt cannot handle', (i: nock.Interceptor) => i.reply(200, '{"error":null}')],
    ['EService:Busy', (i: nock.Interceptor) => i.reply(200, R.krakenError('EService:Busy'))],
    ['EGeneral:Internal error', (i: nock.Interceptor) => i.reply(200, R.krakenError('EGeneral:Internal error'))],
    ['HTTP 502 with HTML', (i: nock.Interceptor) => i.reply(502, '<html>502 Bad Gateway</html>')],
  ])('leaves the outcome unknown after %s', async (_what, reply) => {
    const err = await addOrderFails(reply);
    expect(err.kind).toBe('retryable');
    expect(['outcome_unknown', 'exchange_unavailable']).toContain(err.code);
  });

  it('names what it could not read and that the order is looked up by cl_ord_id', async () => {
    const err = await addOrderFails((i) => i.reply(200, '{"error":[],"result":{"tx'));
    expect(err).toMatchObject({ kind: 'retryable', code: 'outcome_unknown' });
    expect(err.message).toMatch(/AddOrder: the answer could not be read \("\{"error":\[\],"result":\{"tx"\); whether it took effect is unknown/);
    expect(err.hint).toMatch(/cl_ord_id/);
  });

  it.each([
    ['EOrder:Insufficient funds', 'insufficient_funds'],
    ['EOrder:Order minimum not met', 'invalid_order'],
    ['EGeneral:Invalid arguments', 'bad_request'],
    ['EOrder:Orders limit exceeded', 'exchange_error'],
  ])('rejects on a definite refusal from Kraken: %s', async (krakenCode, code) => {
    const err = await addOrderFails((i) => i.reply(200, R.krakenError(krakenCode)));
    expect(err).toMatchObject({ kind: 'rejected', code, exchangeCode: krakenCode });
  });

  it('calls an unreadable answer to a read retryable: asking again changes nothing at Kraken', async () => {
    markets();
    nock(R.BASE).post('/0/private/BalanceEx').reply(200, '{"error":[],"res');
    await expect(kraken().fetchBalances()).rejects.toMatchObject({ kind: 'retryable', code: 'unreadable_response' });
  });
});
