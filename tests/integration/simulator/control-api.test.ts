import { describe, expect, it } from 'vitest';
import { adapterFor, control, privateCall, startSimulator } from '../../support/simulator.js';

describe("the simulator's control API (/_sim/)", () => {
  it('sets balances by common asset names, and refuses an unknown asset or amount by name', async () => {
    const sim = await startSimulator();
    expect((await control(sim, 'POST', 'balances', { USD: '250.5', BTC: '0.1' })).json.balances).toMatchObject({ ZUSD: '250.5000', XXBT: '0.1000000000' });
    expect((await privateCall(sim, 'Balance')).body.result).toMatchObject({ ZUSD: '250.5000', XXBT: '0.1000000000' });
    const unknown = await control(sim, 'POST', 'balances', { DOGE: '1' });
    expect([unknown.status, unknown.json.error]).toEqual([400, expect.stringMatching(/Unknown asset "DOGE"/)]);
    const amount = await control(sim, 'POST', 'balances', { USD: '-5' });
    expect([amount.status, amount.json.error]).toEqual([400, expect.stringMatching(/expected a decimal amount/)]);
  });

  it('resets to the starting account: orders, trades and faults gone, status online', async () => {
    const sim = await startSimulator({ balances: { ZUSD: '5000' } });
    await adapterFor(sim).createOrder({ clientOrderId: 'r-1', symbol: 'BTC/USD', side: 'buy', type: 'market', quantity: '0.01' });
    await control(sim, 'POST', 'faults', { endpoint: 'AddOrder', kind: 'reset', times: 5 });
    await control(sim, 'POST', 'status', { status: 'cancel_only' });
    const after = (await control(sim, 'POST', 'reset', {})).json;
    expect(after).toMatchObject({ systemStatus: 'online', orders: { open: 0, total: 0 }, trades: 0, faults: [] });
    expect(after.balances.ZUSD).toEqual({ balance: '5000', hold_trade: '0.0000' });
  });

  it('shows state, orders, trades and calls — never a key or a nonce', async () => {
    const sim = await startSimulator();
    await adapterFor(sim).createOrder({ clientOrderId: 's-1', symbol: 'BTC/USD', side: 'buy', type: 'market', quantity: '0.01' });
    const state = (await control(sim, 'GET', 'state')).json;
    expect(state).toMatchObject({ prices: { 'BTC/USD': { pair: 'XXBTZUSD', price: '50000.0', mode: 'fixed' } }, orders: { open: 0, total: 1 }, trades: 1 });
    expect((await control(sim, 'GET', 'orders')).json.orders[0]).toMatchObject({ cl_ord_id: 's-1', status: 'closed' });
    expect((await control(sim, 'GET', 'trades')).json.trades).toHaveLength(1);
    const calls = JSON.stringify((await control(sim, 'GET', 'calls?endpoint=AddOrder')).json);
    expect(calls).toContain('"cl_ord_id":"s-1"');
    expect(calls).not.toContain('nonce');
    expect(JSON.stringify(state)).not.toContain(sim.keys.secret!);
  });

  it('steps the market on request and names bad requests and unknown routes', async () => {
    const sim = await startSimulator();
    const before = sim.ctx.path.closedCandles;
    expect((await control(sim, 'POST', 'advance', { candles: 3 })).json.candlesClosed).toBe(before + 3);
    const bad = await control(sim, 'POST', 'advance', { candles: 0 });
    expect([bad.status, bad.json.error]).toEqual([400, expect.stringMatching(/candles/)]);
    const notJson = await fetch(`${sim.url}/_sim/advance`, { method: 'POST', body: 'ten' });
    expect([notJson.status, ((await notJson.json()) as { error: string }).error]).toEqual([400, expect.stringMatching(/not JSON/)]);
    const missing = await control(sim, 'GET', 'nothing');
    expect([missing.status, missing.json.routes.length > 5]).toEqual([404, true]);
  });
});
