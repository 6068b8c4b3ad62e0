import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { adapterFor, privateCall, startSimulator } from '../../support/simulator.js';

const limitBuy = (id: string) => ({ clientOrderId: id, symbol: 'BTC/USD', side: 'buy' as const, type: 'limit' as const, quantity: '0.01', limitPrice: '40000.0' });

describe("the simulator's dead man's switch (CancelAllOrdersAfter)", () => {
  it('cancels every open order on its own when the timer runs out, with no request to wake it', async () => {
    const sim = await startSimulator();
    const kraken = adapterFor(sim);
    await kraken.createOrder(limitBuy('c-1'));
    await kraken.createOrder(limitBuy('c-2'));
    await kraken.cancelAllOrdersAfter(1000);
    expect(sim.state.deadMan).toMatchObject({ timeoutSeconds: 1 });
    const callsBefore = sim.calls.length;
    await new Promise((r) => setTimeout(r, 1300));
    expect(sim.calls.length).toBe(callsBefore); // nobody asked: the simulator's own timer did it
    expect([...sim.state.orders.values()].map((o) => o.status)).toEqual(['canceled', 'canceled']);
    expect(sim.state.deadMan).toEqual({ timeoutSeconds: 0, triggerAt: null });
  });

  it('answers currentTime and triggerTime like Kraken, is pushed back by a renewal and disarmed by timeout 0', async () => {
    const clock = new ManualClock('2026-01-05T12:00:00Z');
    const sim = await startSimulator({ clock });
    await adapterFor(sim).createOrder(limitBuy('c-1'));
    const armed = await privateCall(sim, 'CancelAllOrdersAfter', { timeout: '60' });
    expect(armed.body.result).toEqual({ currentTime: '2026-01-05T12:00:00Z', triggerTime: '2026-01-05T12:01:00Z' });
    clock.advance(50_000);
    await privateCall(sim, 'CancelAllOrdersAfter', { timeout: '60' }); // renewed: now due at 12:01:50
    clock.advance(30_000);
    sim.sweep();
    expect(sim.state.orders.size).toBe(1);
    expect([...sim.state.orders.values()][0]!.status).toBe('open');
    const disarmed = await privateCall(sim, 'CancelAllOrdersAfter', { timeout: '0' });
    expect(disarmed.body.result).toEqual({ currentTime: '2026-01-05T12:01:20Z', triggerTime: '0' });
    clock.advance(3_600_000);
    sim.sweep();
    expect([...sim.state.orders.values()][0]!.status).toBe('open');
  });

  it('fires once the clock passes the trigger, even when the only thing that runs is the sweep', async () => {
    const clock = new ManualClock('2026-01-05T12:00:00Z');
    const sim = await startSimulator({ clock });
    await adapterFor(sim).createOrder(limitBuy('c-1'));
    await privateCall(sim, 'CancelAllOrdersAfter', { timeout: '30' });
    clock.advance(29_999);
    sim.sweep();
    expect([...sim.state.orders.values()][0]!.status).toBe('open');
    clock.advance(1);
    sim.sweep();
    expect([...sim.state.orders.values()][0]).toMatchObject({ status: 'canceled', reason: 'Dead man switch' });
  });

  it('refuses a timeout that is not a whole number of seconds up to a day', async () => {
    const sim = await startSimulator();
    expect((await privateCall(sim, 'CancelAllOrdersAfter', { timeout: '86401' })).body.error).toEqual(['EGeneral:Invalid arguments:timeout']);
    expect((await privateCall(sim, 'CancelAllOrdersAfter', { timeout: '1.5' })).body.error).toEqual(['EGeneral:Invalid arguments:timeout']);
  });
});
