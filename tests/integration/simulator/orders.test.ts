import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { adapterFor, privateCall, startSimulator } from '../../support/simulator.js';

const buy = (clientOrderId: string, quantity: string, limitPrice?: string) => ({
  clientOrderId, symbol: 'BTC/USD', side: 'buy' as const, quantity, ...(limitPrice ? { type: 'limit' as const, limitPrice } : { type: 'market' as const }),
});

/** QueryOrders with trades=true, then QueryTrades of those trade ids: what the bot's fill path reads. */
async function fillsOf(sim: Awaited<ReturnType<typeof startSimulator>>, txid: string) {
  const order = (await privateCall(sim, 'QueryOrders', { txid, trades: 'true' })).body.result[txid];
  const ids: string[] = order.trades ?? [];
  const trades = ids.length > 0 ? (await privateCall(sim, 'QueryTrades', { txid: ids.join(',') })).body.result : {};
  return { order, ids, trades: ids.map((id) => trades[id]) };
}

describe('orders on the Kraken simulator, through the real adapter', () => {
  it('refuses a buy the quote balance cannot pay, fee included, and a sell without the base', async () => {
    const sim = await startSimulator({ balances: { ZUSD: '501.0000' } });
    const kraken = adapterFor(sim);
    // 0.01 BTC at 50,000 = 500 USD, plus 0.40 % taker fee = 502 > 501.
    await expect(kraken.createOrder(buy('c-1', '0.01'))).rejects.toMatchObject({ kind: 'rejected', code: 'insufficient_funds', exchangeCode: 'EOrder:Insufficient funds' });
    await expect(kraken.createOrder({ ...buy('c-2', '0.01'), side: 'sell' })).rejects.toMatchObject({ exchangeCode: 'EOrder:Insufficient funds' });
    expect(sim.state.orders.size).toBe(0);
    expect(sim.state.balances['ZUSD']).toBe('501.0000');
  });

  it('counts what open limit orders hold: hold_trade in BalanceEx, and the next order is refused', async () => {
    const sim = await startSimulator({ balances: { ZUSD: '1000.0000' } });
    const kraken = adapterFor(sim);
    const first = await kraken.createOrder(buy('c-1', '0.015', '40000.0'));
    expect(first.status).toBe('open');
    // 0.015 × 40,000 = 600 plus the 0.40 % fee it may pay = 602.4 held.
    expect(await kraken.fetchBalances()).toEqual(expect.arrayContaining([{ asset: 'USD', total: '1000', used: '602.4', free: '397.6' }]));
    await expect(kraken.createOrder(buy('c-2', '0.01', '40000.0'))).rejects.toMatchObject({ exchangeCode: 'EOrder:Insufficient funds' });
  });

  it('fills a market buy at the last price plus slippage; QueryOrders trades=true then QueryTrades give price, volume and fee', async () => {
    const sim = await startSimulator({ slippageBps: 10 });
    const placed = await adapterFor(sim).createOrder(buy('c-1', '0.01'));
    expect(placed.exchangeOrderId).toMatch(/^O[A-Z2-7]{5}-[A-Z2-7]{5}-[A-Z2-7]{6}$/);
    const { order, ids, trades } = await fillsOf(sim, placed.exchangeOrderId);
    expect(order).toMatchObject({ status: 'closed', cl_ord_id: 'c-1', vol: '0.01000000', vol_exec: '0.01000000', cost: '500.50000', fee: '2.00200', price: '50050.00000' });
    expect(ids).toHaveLength(1);
    expect(ids[0]).toMatch(/^T[A-Z2-7]{5}-[A-Z2-7]{5}-[A-Z2-7]{6}$/);
    // 50,000 + 10 bps = 50,050; cost 500.5; taker fee 0.40 % = 2.002, in USD.
    expect(trades[0]).toMatchObject({ ordertxid: placed.exchangeOrderId, pair: 'XXBTZUSD', type: 'buy', ordertype: 'market', price: '50050.00000', vol: '0.01000000', cost: '500.50000', fee: '2.00200', maker: false });
    expect(typeof trades[0].time).toBe('number');
    expect(sim.state.balances).toMatchObject({ ZUSD: '9497.4980', XXBT: '0.0100000000' });
  });

  it('fills a market order in slices over the next candles when configured: partial fills, each its own trade', async () => {
    const sim = await startSimulator({ fillSlices: 3 });
    const placed = await adapterFor(sim).createOrder(buy('c-1', '0.03'));
    let seen = await fillsOf(sim, placed.exchangeOrderId);
    expect(seen.order).toMatchObject({ status: 'open', vol_exec: '0.01000000' });
    sim.setPrice('BTC/USD', '51000');
    sim.advance(1);
    seen = await fillsOf(sim, placed.exchangeOrderId);
    expect(seen.order).toMatchObject({ status: 'open', vol_exec: '0.02000000' });
    sim.advance(1);
    seen = await fillsOf(sim, placed.exchangeOrderId);
    expect(seen.order).toMatchObject({ status: 'closed', vol_exec: '0.03000000', cost: '1520.00000', price: '50666.66667' });
    expect(seen.trades.map((t) => [t.price, t.vol])).toEqual([['50000.00000', '0.01000000'], ['51000.00000', '0.01000000'], ['51000.00000', '0.01000000']]);
  });

  it('rests a limit buy below the market and fills it at its limit, as maker, once the price trades through', async () => {
    const sim = await startSimulator();
    const kraken = adapterFor(sim);
    const placed = await kraken.createOrder(buy('c-1', '0.01', '49000.0'));
    expect(placed.status).toBe('open');
    sim.setPrice('BTC/USD', '49500');
    expect((await fillsOf(sim, placed.exchangeOrderId)).order.status).toBe('open');
    sim.setPrice('BTC/USD', '48900');
    const { order, trades } = await fillsOf(sim, placed.exchangeOrderId);
    // Maker fee 0.25 % of 490 = 1.225.
    expect(order).toMatchObject({ status: 'closed', price: '49000.00000', fee: '1.22500' });
    expect(trades[0]).toMatchObject({ price: '49000.00000', maker: true, ordertype: 'limit' });
    expect((await kraken.fetchOpenOrders()).length).toBe(0);
  });

  it('fills a limit that crosses the market at once, at the better market price, as taker', async () => {
    const sim = await startSimulator({ balances: { ZUSD: '0', XXBT: '1' } });
    const placed = await adapterFor(sim).createOrder({ ...buy('c-1', '0.01', '49000.0'), side: 'sell' });
    const { order, trades } = await fillsOf(sim, placed.exchangeOrderId);
    expect(order.status).toBe('closed');
    expect(trades[0]).toMatchObject({ price: '50000.00000', maker: false, fee: '2.00000' });
    expect(sim.state.balances).toMatchObject({ ZUSD: '498.0000', XXBT: '0.9900000000' });
  });

  it('cancels every open order with CancelAll and answers the count; holds are released', async () => {
    const sim = await startSimulator();
    const kraken = adapterFor(sim);
    await kraken.createOrder(buy('c-1', '0.01', '40000.0'));
    await kraken.createOrder(buy('c-2', '0.01', '41000.0'));
    expect(await kraken.cancelAllOrders()).toEqual({ canceled: 2 });
    expect([...sim.state.orders.values()].map((o) => [o.cl_ord_id, o.status, o.reason])).toEqual([['c-1', 'canceled', 'User requested'], ['c-2', 'canceled', 'User requested']]);
    expect(await kraken.cancelAllOrders()).toEqual({ canceled: 0 });
    expect((await privateCall(sim, 'BalanceEx')).body.result.ZUSD).toEqual({ balance: '10000.0000', hold_trade: '0.0000' });
  });

  it('cancels one order by txid (adapter) or by cl_ord_id, and says Unknown order for one already closed', async () => {
    const sim = await startSimulator();
    const kraken = adapterFor(sim);
    const a = await kraken.createOrder(buy('c-1', '0.01', '40000.0'));
    await kraken.createOrder(buy('c-2', '0.01', '40000.0'));
    await kraken.cancelOrder(a.exchangeOrderId);
    expect((await privateCall(sim, 'CancelOrder', { cl_ord_id: 'c-2' })).body).toEqual({ error: [], result: { count: 1 } });
    expect((await privateCall(sim, 'CancelOrder', { txid: a.exchangeOrderId })).body).toEqual({ error: ['EOrder:Unknown order'] });
  });

  it('finds an order by cl_ord_id, open or closed (OpenOrders / ClosedOrders filters)', async () => {
    const sim = await startSimulator();
    const kraken = adapterFor(sim);
    const resting = await kraken.createOrder(buy('rest-1', '0.01', '40000.0'));
    const filled = await kraken.createOrder(buy('fill-1', '0.01'));
    expect(await kraken.fetchOrderByClientId('rest-1', 'BTC/USD')).toMatchObject({ exchangeOrderId: resting.exchangeOrderId, status: 'open' });
    expect(await kraken.fetchOrderByClientId('fill-1', 'BTC/USD')).toMatchObject({ exchangeOrderId: filled.exchangeOrderId, status: 'closed', filledQuantity: '0.01' });
    expect(await kraken.fetchOrderByClientId('none-1', 'BTC/USD')).toBeNull();
    const closed = (await privateCall(sim, 'ClosedOrders', { trades: 'true' })).body.result;
    expect(closed.count).toBe(1);
    expect(closed.closed[filled.exchangeOrderId].trades).toHaveLength(1);
  });

  it('checks an order without placing it when validate=true', async () => {
    const sim = await startSimulator();
    const { body } = await privateCall(sim, 'AddOrder', { pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '45000.0', volume: '0.1', validate: 'true' });
    expect(body).toEqual({ error: [], result: { descr: { order: 'buy 0.10000000 XBTUSD @ limit 45000.0' } } });
    expect(sim.state.orders.size).toBe(0);
  });

  it('refuses bad orders with Kraken\'s errors: minimum, price precision, unknown pair, duplicate open cl_ord_id', async () => {
    const sim = await startSimulator();
    const add = (p: Record<string, string>) => privateCall(sim, 'AddOrder', { pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '45000.0', volume: '0.01', ...p });
    expect((await add({ volume: '0.00001' })).body.error).toEqual(['EOrder:Order minimum not met']);
    expect((await add({ price: '45000.05' })).body.error).toEqual(['EOrder:Invalid price:XBTUSD price can only be specified up to 1 decimals.']);
    expect((await add({ pair: 'DOGEUSD' })).body.error).toEqual(['EQuery:Unknown asset pair']);
    expect((await add({ volume: 'lots' })).body.error).toEqual(['EGeneral:Invalid arguments:volume']);
    expect((await add({ cl_ord_id: 'dup-1' })).body.error).toEqual([]);
    expect((await add({ cl_ord_id: 'dup-1' })).body.error).toEqual(['EOrder:Duplicate order']);
  });

  it('honours AddOrder\'s deadline as Kraken does: past on arrival → refused, nothing placed; unreadable or outside now + 2 s … 60 s → invalid', async () => {
    const clock = new ManualClock('2026-04-01T00:18:00Z');
    const sim = await startSimulator({ clock });
    const add = (deadline: string) => privateCall(sim, 'AddOrder', { pair: 'XBTUSD', type: 'buy', ordertype: 'market', volume: '0.01', deadline });
    expect((await add('2026-04-01T00:17:59Z')).body.error).toEqual(['EService:Deadline elapsed']);
    expect((await add('2026-04-01T00:18:00Z')).body.error).toEqual(['EService:Deadline elapsed']);
    expect((await add('2026-04-01T00:18:01Z')).body.error).toEqual(['EGeneral:Invalid arguments:deadline']);
    expect((await add('2026-04-01T00:19:01Z')).body.error).toEqual(['EGeneral:Invalid arguments:deadline']);
    expect((await add('tomorrow')).body.error).toEqual(['EGeneral:Invalid arguments:deadline']);
    expect((await add('2026-04-01 00:18:30')).body.error).toEqual(['EGeneral:Invalid arguments:deadline']);
    expect(sim.state.orders.size).toBe(0);
    expect((await add('2026-04-01T00:18:45Z')).body.error).toEqual([]);
    expect((await add('2026-04-01T02:19:00+02:00')).body.error).toEqual([]);
    expect(sim.state.orders.size).toBe(2);
  });

  it('the adapter sends the deadline it is given in AddOrder\'s body, on Kraken\'s clock (this host\'s here), in whole seconds', async () => {
    const sim = await startSimulator();
    const before = Date.now();
    const placed = await adapterFor(sim).createOrder({ ...buy('c-dl', '0.01'), sendBy: new Date(Date.now() + 20_000) });
    expect(placed.status).toBe('closed');
    const [call] = sim.calls.filter((c) => c.endpoint === 'AddOrder');
    expect(call!.params['deadline']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    const deadline = Date.parse(call!.params['deadline']!);
    expect(deadline).toBeGreaterThan(before + 20_000 - 1_000);
    expect(deadline).toBeLessThanOrEqual(Date.now() + 20_000);
    await adapterFor(sim).createOrder(buy('c-none', '0.01'));
    expect(sim.calls.filter((c) => c.endpoint === 'AddOrder')[1]!.params).not.toHaveProperty('deadline');
  });

  it('pages TradesHistory 50 at a time, newest first, with start/end honoured', async () => {
    const sim = await startSimulator({ fillSlices: 60, balances: { ZUSD: '100000' } });
    const kraken = adapterFor(sim);
    await kraken.createOrder(buy('c-1', '0.6'));
    sim.advance(59);
    await kraken.createOrder(buy('c-2', '0.6'));
    sim.advance(59);
    expect(sim.state.trades).toHaveLength(120);
    const pages = [];
    let cursor: string | undefined;
    do {
      const page = await kraken.fetchMyTrades(cursor === undefined ? {} : { cursor });
      pages.push(page);
      cursor = page.next;
    } while (cursor !== undefined);
    expect(pages.map((p) => [p.trades.length, p.total])).toEqual([[50, 120], [50, 120], [20, 120]]);
    const ids = pages.flatMap((p) => p.trades.map((t) => t.id));
    expect(new Set(ids).size).toBe(120);
    expect(ids).toEqual([...sim.state.trades].reverse().map((t) => t.txid));
    expect(sim.calls.filter((c) => c.endpoint === 'TradesHistory').map((c) => c.params['ofs'])).toEqual(['0', '50', '100']);
    const middle = sim.state.trades[59]!;
    const since = (await privateCall(sim, 'TradesHistory', { start: middle.txid })).body.result;
    expect(since.count).toBe(60);
  });
});
