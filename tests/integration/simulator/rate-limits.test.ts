import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { adapterFor, control, privateCall, startSimulator } from '../../support/simulator.js';

const order = (p: Record<string, string> = {}) => ({ pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '40000.0', volume: '0.001', ...p });

describe("the simulator's rate counters, as Kraken documents them", () => {
  it('limits REST calls per key by the tier (starter: 15, -0.33/s), trade history counting 2', async () => {
    const clock = new ManualClock();
    const sim = await startSimulator({ clock, rateLimits: true, tier: 'starter' });
    for (let i = 0; i < 13; i++) expect((await privateCall(sim, 'BalanceEx')).body.error).toEqual([]);
    expect((await privateCall(sim, 'TradesHistory')).body.error).toEqual([]); // 13 + 2 = 15
    expect((await privateCall(sim, 'BalanceEx')).body).toEqual({ error: ['EAPI:Rate limit exceeded'] });
    await expect(adapterFor(sim).fetchBalances()).rejects.toMatchObject({ kind: 'retryable', code: 'rate_limited', exchangeCode: 'EAPI:Rate limit exceeded' });
    clock.advance(3_100); // 3.1 s × 0.33 ≈ 1.02 decayed: room for one call
    expect((await privateCall(sim, 'BalanceEx')).body.error).toEqual([]);
    expect((await privateCall(sim, 'BalanceEx')).body.error).toEqual(['EAPI:Rate limit exceeded']);
  });

  it('charges AddOrder +1 and a cancel by the order\'s age (8 under 5 s) on the per-pair trading counter; CancelAll is never refused', async () => {
    const clock = new ManualClock();
    const sim = await startSimulator({ clock, rateLimits: true, tier: 'starter' });
    for (let i = 0; i < 6; i++) {
      const placed = await privateCall(sim, 'AddOrder', order());
      expect((await privateCall(sim, 'CancelOrder', { txid: placed.body.result.txid[0] })).body.error).toEqual([]);
    }
    // 6 × (1 + 8) = 54; six more orders reach the starter threshold of 60.
    for (let i = 0; i < 6; i++) expect((await privateCall(sim, 'AddOrder', order())).body.error).toEqual([]);
    expect((await privateCall(sim, 'AddOrder', order())).body).toEqual({ error: ['EOrder:Rate limit exceeded'] });
    const open = [...sim.state.orders.values()].find((o) => o.status === 'open')!;
    expect((await privateCall(sim, 'CancelOrder', { txid: open.txid })).body).toEqual({ error: ['EOrder:Rate limit exceeded'] });
    // Another pair has its own counter.
    expect((await privateCall(sim, 'AddOrder', order({ pair: 'ETHUSD', price: '2000.00', volume: '0.01' }))).body.error).toEqual([]);
    expect((await privateCall(sim, 'CancelAll')).body).toEqual({ error: [], result: { count: 7 } });
    clock.advance(120_000); // starter decays 1 a second
    expect((await privateCall(sim, 'AddOrder', order())).body.error).toEqual([]);
  });

  it('charges less for cancelling an order that rested longer (1 between 90 s and 300 s, nothing after)', async () => {
    const clock = new ManualClock();
    const sim = await startSimulator({ clock, rateLimits: true, tier: 'starter' });
    const placed = await privateCall(sim, 'AddOrder', order());
    clock.advance(100_000);
    await privateCall(sim, 'CancelOrder', { txid: placed.body.result.txid[0] });
    expect((await control(sim, 'GET', 'state')).json.rateLimits.counters.trading).toEqual({ XXBTZUSD: 1 });
  });

  it('lets everything through with rate limits off, and the control API turns them on', async () => {
    const sim = await startSimulator({ rateLimits: false, tier: 'starter' });
    for (let i = 0; i < 30; i++) expect((await privateCall(sim, 'BalanceEx')).body.error).toEqual([]);
    expect((await control(sim, 'POST', 'rate-limits', { enabled: true })).json).toEqual({ enabled: true, tier: 'starter' });
    for (let i = 0; i < 15; i++) await privateCall(sim, 'BalanceEx');
    expect((await privateCall(sim, 'BalanceEx')).body.error).toEqual(['EAPI:Rate limit exceeded']);
  });
});
