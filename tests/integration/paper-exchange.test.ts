import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import type { Database } from '../../src/db/client.js';
import { PaperExchange, paperIds } from '../../src/exchange/paper/paper-exchange.js';
import { dec } from '../../src/money.js';
import { PriceBoard } from '../../src/market/price-board.js';
import { createTestDb, type DbKind } from '../support/db.js';
import { candlesFrom } from '../support/engine.js';

describe.each<DbKind>(['postgres', 'pglite'])('paper exchange on %s', (kind) => {
  let database: Database;
  const clock = new ManualClock('2026-01-05T00:10:00Z');
  const prices = new PriceBoard();
  const make = () => new PaperExchange({
    db: database.db, clock, prices, pricing: { takerFeePct: 0.26, makerFeePct: 0.16, slippageBps: 2, impactBps: 50 },
    quoteCurrency: 'USD', startingBalance: '10000', symbols: ['BTC/USD'],
  });

  beforeAll(async () => {
    database = await createTestDb(kind);
    for (const candle of candlesFrom([60_000, 60_000], { start: '2026-01-05T00:08:00Z', volume: 100 })) prices.update({ candle });
  }, 180_000);
  afterAll(async () => {
    await database?.close();
  });

  it('starts the account with PAPER_STARTING_BALANCE in the quote currency', async () => {
    const balances = await make().fetchBalances();
    expect(balances).toEqual([{ asset: 'USD', total: '10000', used: '0', free: '10000' }]);
  });

  it('fills a market buy at the slipped price with the taker fee and persists the balances', async () => {
    const paper = make();
    const order = await paper.createOrder({ clientOrderId: 'buy-1', symbol: 'BTC/USD', side: 'buy', type: 'market', quantity: '0.1' });
    expect(order.status).toBe('closed');
    const trade = order.trades[0]!;
    const price = dec(trade.price);
    expect(price.gt(60_000)).toBe(true);
    expect(trade.fee).toBe(dec('0.1').times(price).times('0.0026').toDecimalPlaces(8, 0).toFixed());
    expect(trade.id).toBe(paperIds('buy-1').tradeId);
    // A new instance (a restart) sees the same account.
    const balances = await make().fetchBalances();
    const usd = balances.find((b) => b.asset === 'USD')!;
    expect(usd.total).toBe(dec(10_000).minus(dec('0.1').times(price)).minus(trade.fee).toFixed());
    expect(balances.find((b) => b.asset === 'BTC')!.total).toBe('0.1');
  });

  it('answers a retried client order id with the same order instead of filling twice', async () => {
    const paper = make();
    const again = await paper.createOrder({ clientOrderId: 'buy-1', symbol: 'BTC/USD', side: 'buy', type: 'market', quantity: '0.1' });
    expect(again.exchangeOrderId).toBe(paperIds('buy-1').orderId);
    expect((await paper.fetchBalances()).find((b) => b.asset === 'BTC')!.total).toBe('0.1');
  });

  it('finds an order by its client order id, and reports an unknown one as absent', async () => {
    const paper = make();
    expect((await paper.fetchOrderByClientId('buy-1', 'BTC/USD'))?.trades).toHaveLength(1);
    expect(await paper.fetchOrderByClientId('never-sent', 'BTC/USD')).toBeNull();
  });

  it('rejects an order it cannot pay for, naming what is missing', async () => {
    await expect(make().createOrder({ clientOrderId: 'too-big', symbol: 'BTC/USD', side: 'buy', type: 'market', quantity: '5' }))
      .rejects.toMatchObject({ kind: 'rejected', code: 'insufficient_funds', message: expect.stringMatching(/need .* USD, have .* free/) });
    await expect(make().createOrder({ clientOrderId: 'oversell', symbol: 'BTC/USD', side: 'sell', type: 'market', quantity: '1' }))
      .rejects.toMatchObject({ code: 'insufficient_funds' });
  });

  it('rejects malformed orders with a clear message', async () => {
    await expect(make().createOrder({ clientOrderId: 'q', symbol: 'BTC/USD', side: 'buy', type: 'market', quantity: 'abc' }))
      .rejects.toMatchObject({ code: 'invalid_quantity' });
    await expect(make().createOrder({ clientOrderId: 'p', symbol: 'DOGE/USD', side: 'buy', type: 'market', quantity: '1' }))
      .rejects.toThrow(/does not list DOGE\/USD/);
  });

  it('rests a limit order that is not marketable, holds its funds, and cancels it on cancel-all', async () => {
    const paper = make();
    const order = await paper.createOrder({ clientOrderId: 'rest-1', symbol: 'BTC/USD', side: 'buy', type: 'limit', quantity: '0.01', limitPrice: '50000' });
    expect(order.status).toBe('open');
    const usd = (await paper.fetchBalances()).find((b) => b.asset === 'USD')!;
    expect(usd.used).toBe(dec('0.01').times(50_000).times(1.0016).toFixed());
    expect(await paper.fetchOpenOrders()).toHaveLength(1);
    expect(await paper.cancelAllOrders()).toEqual({ canceled: 1 });
    expect(await paper.fetchOpenOrders()).toHaveLength(0);
  });

  it('fills a resting limit order at its limit with the maker fee once a later candle trades through it', async () => {
    const paper = make();
    await paper.createOrder({ clientOrderId: 'rest-2', symbol: 'BTC/USD', side: 'sell', type: 'limit', quantity: '0.05', limitPrice: '61000' });
    clock.set('2026-01-05T00:11:00Z');
    prices.update({ candle: { symbol: 'BTC/USD', openTime: new Date('2026-01-05T00:11:00Z'), open: 60_000, high: 61_200, low: 59_900, close: 61_100, volume: 80 } });
    const filled = await paper.fetchOrderByClientId('rest-2', 'BTC/USD');
    expect(filled?.status).toBe('closed');
    expect(filled?.trades[0]).toMatchObject({ price: '61000', fee: dec('0.05').times(61_000).times('0.0016').toFixed() });
  });

  it('pages its trade history newest first', async () => {
    const page = await make().fetchMyTrades({});
    expect(page.trades.map((t) => t.clientOrderId)).toEqual(['rest-2', 'buy-1']);
    expect(page.next).toBeUndefined();
  });

  it('reports its key rights as paper, with no withdrawal', async () => {
    expect(await make().fetchKeyRights()).toMatchObject({ source: 'paper', canWithdraw: false });
  });
});
