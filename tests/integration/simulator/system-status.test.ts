import { describe, expect, it } from 'vitest';
import { adapterFor, control, privateCall, startSimulator } from '../../support/simulator.js';

const market = { clientOrderId: 'c-1', symbol: 'BTC/USD', side: 'buy' as const, type: 'market' as const, quantity: '0.01' };

describe("the simulator's system status", () => {
  it('refuses new orders in cancel_only with Kraken\'s error, and still cancels', async () => {
    const sim = await startSimulator();
    const kraken = adapterFor(sim);
    await kraken.createOrder({ ...market, clientOrderId: 'rest-1', type: 'limit', limitPrice: '40000.0' });
    expect((await control(sim, 'POST', 'status', { status: 'cancel_only' })).json).toEqual({ systemStatus: 'cancel_only' });
    expect(await kraken.fetchSystemStatus()).toBe('cancel_only');
    await expect(kraken.createOrder(market)).rejects.toMatchObject({ kind: 'rejected', code: 'exchange_maintenance', exchangeCode: 'EService:Market in cancel_only mode' });
    expect(await kraken.cancelAllOrders()).toEqual({ canceled: 1 });
    expect(sim.state.trades).toEqual([]);
  });

  it('in post_only takes only post-only limit orders', async () => {
    const sim = await startSimulator({ systemStatus: 'post_only' });
    await expect(adapterFor(sim).createOrder(market)).rejects.toMatchObject({ kind: 'rejected', exchangeCode: 'EService:Market in post_only mode' });
    const post = await privateCall(sim, 'AddOrder', { pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '40000.0', volume: '0.01', oflags: 'post' });
    expect(post.body.error).toEqual([]);
  });

  it('in maintenance answers private calls EService:Unavailable while SystemStatus still says why', async () => {
    const sim = await startSimulator({ systemStatus: 'maintenance' });
    const kraken = adapterFor(sim);
    expect(await kraken.fetchSystemStatus()).toBe('maintenance');
    await expect(kraken.fetchBalances()).rejects.toMatchObject({ kind: 'retryable', code: 'exchange_unavailable', exchangeCode: 'EService:Unavailable' });
  });

  it('names a bad status in the control API', async () => {
    const sim = await startSimulator();
    const res = await control(sim, 'POST', 'status', { status: 'closed' });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(/status/);
    expect(sim.state.systemStatus).toBe('online');
  });
});
