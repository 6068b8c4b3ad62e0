// AddOrder answered with one of Kraken's documented refusals of a new order (its own JSON, HTTP 200),
// its rate limits included, is rejected: no order was placed. The same words from something in between (a 5xx), Kraken's other
// service errors, and the same errors on a cancel stay retryable: what happened is not known.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import type { FaultSpec } from '../../../src/simulator/faults.js';
import { adapterFor, privateCall, startSimulator } from '../../support/simulator.js';

const marketBuy = { clientOrderId: 'refused-1', symbol: 'BTC/USD', side: 'buy' as const, type: 'market' as const, quantity: '0.01' };

describe("AddOrder refused by Kraken's documented service errors", () => {
  it.each([
    ['EService:Unavailable', 'exchange_unavailable', /matching engine or API is offline: nothing was placed/],
    ['EService:Market in cancel_only mode', 'exchange_maintenance', /cancels only: nothing was placed/],
    ['EService:Market in post_only mode', 'exchange_maintenance', /post-only limit orders only: nothing was placed/],
    ['EAPI:Rate limit exceeded', 'rate_limited', /call counter is full .*nothing was placed/],
    ['EOrder:Rate limit exceeded', 'rate_limited', /order rate limit for this pair is reached .*nothing was placed/],
  ])('%s in a 200 is a rejection: no order was placed', async (krakenCode, code, hint) => {
    const sim = await startSimulator();
    const kraken = adapterFor(sim);
    await kraken.loadMarkets();
    sim.faults.add({ endpoint: 'AddOrder', kind: 'error', message: krakenCode });
    const err = await kraken.createOrder(marketBuy).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'rejected', code, exchangeCode: krakenCode, message: `Kraken AddOrder refused: ${krakenCode}; no order was placed.` });
    expect((err as { hint: string }).hint).toMatch(hint);
    expect(sim.state.orders.size).toBe(0);
  });

  it('is a rejection when Kraken is in cancel_only (its system status), not only when a fault says so', async () => {
    const sim = await startSimulator({ systemStatus: 'cancel_only' });
    await expect(adapterFor(sim).createOrder(marketBuy)).rejects.toMatchObject({ kind: 'rejected', exchangeCode: 'EService:Market in cancel_only mode' });
  });

  it("is a rejection when the pair's trading counter is full (Kraken's rate limits on), not only when a fault says so", async () => {
    const sim = await startSimulator({ clock: new ManualClock(), rateLimits: true, tier: 'starter' });
    const kraken = adapterFor(sim);
    await kraken.loadMarkets();
    // Starter: 60 on the pair's counter; every AddOrder counts 1, even one refused for its volume.
    for (let i = 0; i < 60; i++) expect((await privateCall(sim, 'AddOrder', { pair: 'XBTUSD', type: 'buy', ordertype: 'market', volume: '0' })).body.error).not.toEqual([]);
    const err = await kraken.createOrder(marketBuy).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'rejected', code: 'rate_limited', exchangeCode: 'EOrder:Rate limit exceeded' });
    expect(sim.state.orders.size).toBe(0);
  });

  it.each<[string, FaultSpec]>([
    ['EService:Unavailable in a 503', { endpoint: 'AddOrder', kind: 'http_5xx', status: 503, json: true }],
    ['EAPI:Rate limit exceeded in a 503', { endpoint: 'AddOrder', kind: 'http_5xx', status: 503, json: true, message: 'EAPI:Rate limit exceeded' }],
    ['EOrder:Rate limit exceeded in a 502', { endpoint: 'AddOrder', kind: 'http_5xx', status: 502, json: true, message: 'EOrder:Rate limit exceeded' }],
    ['EService:Busy', { endpoint: 'AddOrder', kind: 'error', message: 'EService:Busy' }],
    ['EService:Deadline elapsed', { endpoint: 'AddOrder', kind: 'error', message: 'EService:Deadline elapsed' }],
  ])('leaves the outcome unknown (retryable) for %s', async (_what, fault) => {
    const sim = await startSimulator();
    const kraken = adapterFor(sim);
    await kraken.loadMarkets();
    sim.faults.add(fault);
    await expect(kraken.createOrder(marketBuy)).rejects.toMatchObject({ kind: 'retryable' });
  });

  it('leaves a cancel answered EService:Unavailable retryable (the kill sends it again)', async () => {
    const sim = await startSimulator();
    sim.faults.add({ endpoint: 'CancelAll', kind: 'error', message: 'EService:Unavailable' });
    await expect(adapterFor(sim).cancelAllOrders()).rejects.toMatchObject({ kind: 'retryable', code: 'exchange_unavailable' });
  });
});
