// AddOrder's deadline on Kraken's clock (kraken-time.ts, kraken-exchange.ts): the offset of Kraken's
// public Time from this host's clock moves the deadline, a large offset is said at warn, a Time that
// fails or hangs leaves the deadline on this host's clock (said once), a deadline refusal has the
// clock read again, and an order with less than SEND_MIN_LEFT_MS left of its deadline as written
// (whole seconds, rounded down) is not sent. The simulator over HTTP, through the real adapter.
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Clock } from '../../../src/clock.js';
import { testConfig } from '../../../src/config/env.js';
import { KrakenExchange } from '../../../src/exchange/kraken/kraken-exchange.js';
import { publicCounterOfProcess } from '../../../src/exchange/kraken/rate-limiter.js';
import { TIME_WAIT_MS } from '../../../src/exchange/kraken/kraken-time.js';
import { NOT_SENT_LATE, SEND_MIN_LEFT_MS } from '../../../src/exchange/send-by.js';
import type { KrakenSimulator } from '../../../src/simulator/simulator.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';
import { startSimulator } from '../../support/simulator.js';

const buy = (clientOrderId: string, sendInMs = 20_000) =>
  ({ clientOrderId, symbol: 'BTC/USD', side: 'buy' as const, type: 'market' as const, quantity: '0.01', sendByMono: performance.now() + sendInMs });

/** The adapter over `sim`, its warnings kept. */
function adapter(sim: KrakenSimulator, enableRateLimit = false) {
  const warnings: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line.trim()) warnings.push((JSON.parse(line) as { msg: string }).msg);
      cb();
    },
  });
  const config = testConfig({ KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: sim.url });
  return { kraken: new KrakenExchange(config, { logger: pino({ level: 'warn' }, sink), armed: true, enableRateLimit }), warnings };
}

const deadlines = (sim: KrakenSimulator) => sim.calls.filter((c) => c.endpoint === 'AddOrder').map((c) => Date.parse(c.params['deadline']!));
const timeCalls = (sim: KrakenSimulator) => sim.calls.filter((c) => c.endpoint === 'Time').length;
const skewed = (offsetMs: number): Clock => ({ now: () => new Date(Date.now() + offsetMs) });

describe('AddOrder\'s deadline on Kraken\'s clock', () => {
  afterEach(() => vi.restoreAllMocks());

  it.each([30_000, -30_000])(
    'this host\'s clock %d ms off Kraken\'s when read, then stepped right (NTP) before the order: the deadline is still the fence + 20 s on Kraken\'s clock',
    async (stepMs) => {
      const realNow = Date.now.bind(Date);
      // The simulator (Kraken) keeps the true time; only this host's wall clock is stepped.
      const sim = await startSimulator({ clock: { now: () => new Date(realNow()) }, balances: { ZUSD: '100000' } });
      try {
        const wall = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + stepMs);
        const { kraken } = adapter(sim);
        await kraken.loadMarkets();
        // Kraken's clock read while this host's is off (the order itself too late to send: no private call, no nonce).
        await expect(kraken.createOrder({ ...buy('c-step-read'), sendByMono: performance.now() })).rejects.toMatchObject({ code: NOT_SENT_LATE });
        expect(timeCalls(sim)).toBe(1);
        wall.mockImplementation(realNow); // the host's clock fixed
        const fence = realNow();
        expect((await kraken.createOrder(buy('c-step-order'))).status).toBe('closed');
        expect(timeCalls(sim)).toBe(1);
        const [deadline] = deadlines(sim);
        expect(deadline! - fence).toBeGreaterThan(20_000 - 2_000);
        expect(deadline! - fence).toBeLessThanOrEqual(20_000 + 2_000);
      } finally {
        await sim.close();
      }
    },
  );

  it('Kraken\'s Time not answering: of several orders (a kill\'s flatten of 3 positions), only the first waits for it, and it is said once', async () => {
    const sim = await startSimulator({ balances: { ZUSD: '100000' } });
    const release = sim.hold('Time');
    try {
      const { kraken, warnings } = adapter(sim);
      await kraken.loadMarkets();
      const started = performance.now();
      for (const id of ['c-many-1', 'c-many-2', 'c-many-3']) expect((await kraken.createOrder(buy(id))).status).toBe('closed');
      // One bound paid, not three (the orders themselves take milliseconds on the simulator).
      expect(performance.now() - started).toBeLessThan(2 * TIME_WAIT_MS);
      expect(deadlines(sim)).toHaveLength(3);
      expect(warnings.filter((w) => w.startsWith('Kraken\'s Time'))).toHaveLength(1);
    } finally {
      release();
      await sim.close();
    }
  });

  it('a host 25 s behind Kraken: the deadline is moved onto Kraken\'s clock, and the offset is said once at warn, naming the fix', async () => {
    const sim = await startSimulator({ clock: skewed(25_000), balances: { ZUSD: '100000' } });
    const { kraken, warnings } = adapter(sim);
    const before = Date.now();
    expect((await kraken.createOrder(buy('c-skew-1'))).status).toBe('closed');
    expect((await kraken.createOrder(buy('c-skew-2'))).status).toBe('closed');
    for (const deadline of deadlines(sim)) {
      expect(deadline).toBeGreaterThan(before + 25_000 + 20_000 - 2_500);
      expect(deadline).toBeLessThanOrEqual(Date.now() + 25_000 + 20_000 + 1_000);
    }
    expect(timeCalls(sim)).toBe(1);
    const said = warnings.filter((w) => w.includes('NTP'));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/^this host's clock is 25 s behind Kraken's \(expected within 5 s\): fix the host's clock \(NTP\)/);
  });

  it('Kraken\'s Time failing: the order goes with the deadline on this host\'s clock, said once at warn', async () => {
    const sim = await startSimulator({ balances: { ZUSD: '100000' } });
    sim.faults.add({ endpoint: 'Time', kind: 'error', message: 'EService:Unavailable', times: 5 });
    const { kraken, warnings } = adapter(sim);
    const before = Date.now();
    expect((await kraken.createOrder(buy('c-notime-1'))).status).toBe('closed');
    expect((await kraken.createOrder(buy('c-notime-2'))).status).toBe('closed');
    for (const deadline of deadlines(sim)) {
      expect(deadline).toBeGreaterThan(before + 20_000 - 1_000);
      expect(deadline).toBeLessThanOrEqual(Date.now() + 20_000);
    }
    const said = warnings.filter((w) => w.startsWith('Kraken\'s Time'));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/^Kraken's Time answered with errors \(EService:Unavailable\): not used: AddOrder's deadline is written on this host's clock/);
  });

  it('our own public rate counter busy (a feed poll burst): Kraken\'s Time not yet asked is not said as Kraken not answering', async () => {
    const sim = await startSimulator({ balances: { ZUSD: '100000' } });
    try {
      const { kraken, warnings } = adapter(sim, true);
      await kraken.loadMarkets();
      // Calls of this process's public counter just taken (a feed's OHLC polls): Time queues behind them past the bound.
      const counter = publicCounterOfProcess();
      for (let i = 0; i < 4; i++) void counter.take(1);
      expect((await kraken.createOrder(buy('c-counter-busy'))).status).toBe('closed');
      const said = warnings.filter((w) => w.startsWith('Kraken\'s Time'));
      expect(said).toHaveLength(1);
      expect(said[0]).toMatch(new RegExp(`^Kraken's Time was not asked within ${TIME_WAIT_MS} ms \\(our own rate limit on Kraken's public calls held the request\\): `
        + `AddOrder's deadline is written on this host's clock`));
      // The reading, once let through, is timed from when it left: our queue does not make it "slow", so it is not tried again.
      while (timeCalls(sim) === 0) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 2_000));
      expect(timeCalls(sim)).toBe(1);
      expect(warnings.filter((w) => w.includes('to answer'))).toEqual([]);
    } finally {
      await sim.close();
    }
  });

  it('Kraken\'s Time not answering: the order waits for it no longer than the bound, then goes on this host\'s clock', async () => {
    const sim = await startSimulator({ balances: { ZUSD: '100000' } });
    const release = sim.hold('Time');
    try {
      const { kraken, warnings } = adapter(sim);
      const placed = await kraken.createOrder(buy('c-held-time'));
      expect(placed.status).toBe('closed');
      expect(deadlines(sim)).toHaveLength(1);
      expect(warnings).toContainEqual(expect.stringMatching(new RegExp(`^Kraken's Time did not answer within ${TIME_WAIT_MS} ms: AddOrder's deadline is written on this host's clock`)));
    } finally {
      release();
    }
  });

  it('Kraken refusing a deadline has its clock read again before the next order', async () => {
    const sim = await startSimulator({ balances: { ZUSD: '100000' } });
    const { kraken } = adapter(sim);
    sim.faults.add({ endpoint: 'AddOrder', kind: 'error', message: 'EGeneral:Invalid arguments:deadline' });
    await expect(kraken.createOrder(buy('c-refused'))).rejects.toMatchObject({ kind: 'rejected' });
    expect(timeCalls(sim)).toBe(1);
    expect((await kraken.createOrder(buy('c-after'))).status).toBe('closed');
    expect(timeCalls(sim)).toBe(2);
  });

  it('less than SEND_MIN_LEFT_MS left of the deadline as written (rounded down to the second): not sent, said so', async () => {
    const sim = await startSimulator({ balances: { ZUSD: '100000' } });
    const { kraken } = adapter(sim);
    await kraken.loadMarkets();
    await kraken.createOrder(buy('c-warm')); // Kraken's clock read, so nothing waits below
    // 3.5 s left, at a moment whose rounding down takes at least 0.6 s of it: 2.9 s or less is written.
    const rounding = () => (Date.now() + SEND_MIN_LEFT_MS + 500) % 1000;
    while (rounding() < 600 || rounding() > 850) await new Promise((r) => setTimeout(r, 5));
    const sent = deadlines(sim).length;
    await expect(kraken.createOrder(buy('c-late', SEND_MIN_LEFT_MS + 500))).rejects.toMatchObject({
      kind: 'rejected', code: NOT_SENT_LATE, message: expect.stringMatching(/^not sent: Kraken had to receive the order by .* \(less than 3 s\) was left .*; nothing was placed$/),
    });
    expect(deadlines(sim)).toHaveLength(sent);
  });
});
