// Kraken's clock (kraken-time.ts, kraken-time-answer.ts): a live engine reads it at its start, so its
// first order finds a reading and waits for none (that wait stays as the fallback); and an answer of
// Time that cannot be right — Kraken's errors, a unixtime missing or negative, a unixtime and an
// rfc1123 apart — is not read: AddOrder's deadline goes on this host's clock as when Time fails, said
// at warn once per fault. The simulator over HTTP through the real adapter, Time answered in Kraken's
// recorded format by a stand-in in front of it; the engine's start on PostgreSQL. Kraken's JSON error in
// another status than 200 is no answer of Kraken's (ccxt-client.ts httpStatusOf): said as a failed call.
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/clock.js';
import { testConfig } from '../../../src/config/env.js';
import { KrakenExchange } from '../../../src/exchange/kraken/kraken-exchange.js';
import { KrakenTime, TIME_RETRY_MS, TIME_WAIT_MS } from '../../../src/exchange/kraken/kraken-time.js';
import type { TimeAnswer } from '../../../src/exchange/kraken/kraken-time-answer.js';
import type { KrakenSimulator } from '../../../src/simulator/simulator.js';
import { krakenRfc1123, time as recordedTime } from '../../support/kraken-recordings.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';
import { timeAnswersBefore } from '../../support/kraken-time-answers.js';
import { liveContext, liveEngine, useLiveKraken } from '../../support/live-engine.js';
import { startSimulator } from '../../support/simulator.js';

const buy = (clientOrderId: string) =>
  ({ clientOrderId, symbol: 'BTC/USD', side: 'buy' as const, type: 'market' as const, quantity: '0.01', sendByMono: performance.now() + 20_000 });

/** A logger whose warnings are kept (their messages). */
function warningsKept() {
  const warnings: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line.trim()) warnings.push((JSON.parse(line) as { msg: string }).msg);
      cb();
    },
  });
  return { logger: pino({ level: 'warn' }, sink), warnings };
}

/** The real adapter over `url` (the simulator, or Time's stand-in in front of it), its warnings kept. */
function adapter(url: string) {
  const { logger, warnings } = warningsKept();
  const config = testConfig({ KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: url });
  return { kraken: new KrakenExchange(config, { logger, armed: true, enableRateLimit: false }), warnings };
}

const deadlines = (sim: KrakenSimulator) => sim.calls.filter((c) => c.endpoint === 'AddOrder').map((c) => Date.parse(c.params['deadline']!));
const timeCalls = (sim: KrakenSimulator) => sim.calls.filter((c) => c.endpoint === 'Time').length;
const skewed = (offsetMs: number): Clock => ({ now: () => new Date(Date.now() + offsetMs) });
const seconds = (ms: number) => Math.floor(ms / 1000);
/** Kraken's recorded Time answer, three years on (2026-07-05): its format, at a time a reading may have. */
const current = { ...recordedTime, result: { unixtime: recordedTime.result.unixtime + 94_608_000, rfc1123: krakenRfc1123((recordedTime.result.unixtime + 94_608_000) * 1000) } };

/** Resolves once `seen`, or fails naming `what` after `ms` (an event that never comes). */
async function within(ms: number, what: string, seen: () => boolean): Promise<void> {
  const until = performance.now() + ms;
  while (!seen()) {
    if (performance.now() > until) throw new Error(`not seen within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("an answer of Kraken's Time that cannot be right is not read: the order goes on this host's clock, said once at warn", () => {
  it.each([
    {
      name: 'a unixtime an hour off its own rfc1123',
      body: (now: number) => ({ error: [], result: { unixtime: seconds(now) + 3600, rfc1123: krakenRfc1123(now) } }),
      said: /^Kraken's Time answered unixtime \d+ \(\S+\) and rfc1123 "[^"]+", 3600 s apart \(expected within 1 s\): not used: AddOrder's deadline is written on this host's clock/,
    },
    {
      name: 'a negative unixtime',
      body: () => ({ error: [], result: { unixtime: -1, rfc1123: 'Wed, 31 Dec 69 23:59:59 +0000' } }),
      said: /^Kraken's Time answered unixtime -1 \(expected whole seconds since 1970, not negative\): not used: AddOrder's deadline is written on this host's clock/,
    },
    {
      name: 'no unixtime',
      body: (now: number) => ({ error: [], result: { rfc1123: krakenRfc1123(now) } }),
      said: /^Kraken's Time answered unixtime none \(expected whole seconds since 1970, not negative\): not used: /,
    },
    {
      name: "Kraken's errors beside a result",
      body: (now: number) => ({ error: ['EService:Busy'], result: { unixtime: seconds(now) + 3600, rfc1123: krakenRfc1123(now + 3_600_000) } }),
      said: /^Kraken's Time answered with errors \(EService:Busy\): not used: AddOrder's deadline is written on this host's clock/,
    },
  ])('$name', async ({ body, said }) => {
    const sim = await startSimulator({ balances: { ZUSD: '100000' } });
    const time = await timeAnswersBefore(sim);
    try {
      time.answer(body);
      const { kraken, warnings } = adapter(time.url);
      const before = Date.now();
      expect((await kraken.createOrder(buy('c-bad-time-1'))).status).toBe('closed');
      expect((await kraken.createOrder(buy('c-bad-time-2'))).status).toBe('closed');
      for (const deadline of deadlines(sim)) {
        expect(deadline).toBeGreaterThan(before + 20_000 - 1_000);
        expect(deadline).toBeLessThanOrEqual(Date.now() + 20_000);
      }
      expect(time.answered).toBe(1);
      const told = warnings.filter((w) => w.startsWith("Kraken's Time"));
      expect(told).toHaveLength(1);
      expect(told[0]).toMatch(said);
    } finally {
      await time.close();
    }
  });

  it('the answer as Kraken documents it is read', async () => {
    const { logger, warnings } = warningsKept();
    const mono = 0;
    // Kraken's documented answer (2023) moved to a time past TIME_FLOOR_UNIXTIME, in its format.
    const at = current.result.unixtime * 1000 + 500;
    const clock = new KrakenTime({ logger, read: async () => current, mono: () => mono, wall: () => at });
    expect(await clock.reading()).toEqual({ krakenMs: at, monoMs: 0 });
    expect(warnings).toEqual([]);
  });

  it('each fault is said once, another fault said too, and again after a reading was used', async () => {
    const { logger, warnings } = warningsKept();
    let mono = 0;
    const now = current.result.unixtime * 1000;
    const apart: TimeAnswer = { error: [], result: { ...current.result, unixtime: current.result.unixtime + 60 } };
    const negative: TimeAnswer = { error: [], result: { ...current.result, unixtime: -5 } };
    const answers = [apart, apart, negative, negative, current, apart];
    const clock = new KrakenTime({ logger, read: async () => answers.shift()!, mono: () => mono, wall: () => now });
    for (let i = 0; i < 6; i++) {
      if (i > 0) mono += TIME_RETRY_MS * 20; // past the retry after a refused answer, and past the refresh after a used one
      await clock.reading();
    }
    // The last reading is not waited for (one is known): its outcome, once done.
    await clock.prime();
    expect(answers).toEqual([]);
    expect(warnings.map((w) => /^Kraken's Time answered (unixtime -5|unixtime \d+ \(\S+\) and rfc1123 "[^"]+", 60 s apart)/.exec(w)?.[1] ?? w)).toEqual([
      expect.stringMatching(/60 s apart$/), 'unixtime -5', expect.stringMatching(/60 s apart$/),
    ]);
  });
});

describe("a failed call of Time is said as such, not as Kraken's answer", () => {
  it.each([
    { name: "Kraken's JSON error in an HTTP 503: a failed call, with its status", status: 503 as number | undefined,
      said: /^Kraken's Time could not be read \(HTTP 503, not Kraken's own answer; its body said EService:Unavailable\): AddOrder's deadline is written on this host's clock/ },
    { name: "Kraken's JSON error in an HTTP 200: Kraken's answer", status: undefined,
      said: /^Kraken's Time answered with errors \(EService:Unavailable\): not used: AddOrder's deadline is written on this host's clock/ },
  ])('$name', async ({ status, said }) => {
    const sim = await startSimulator({ balances: { ZUSD: '100000' } });
    sim.faults.add(status === undefined
      ? { endpoint: 'Time', kind: 'error', message: 'EService:Unavailable' }
      : { endpoint: 'Time', kind: 'http_5xx', status, json: true });
    const { kraken, warnings } = adapter(sim.url);
    await kraken.prepareOrders();
    expect(timeCalls(sim)).toBe(1);
    const told = warnings.filter((w) => w.startsWith("Kraken's Time"));
    expect(told).toHaveLength(1);
    expect(told[0]).toMatch(said);
  });
});

describe("a live engine's start reads Kraken's clock", () => {
  it('the adapter, readied for orders, has read it: the first order waits for no reading and is on Kraken\'s clock', async () => {
    const sim = await startSimulator({ clock: skewed(25_000), balances: { ZUSD: '100000' } });
    const { kraken } = adapter(sim.url);
    await kraken.prepareOrders();
    expect(timeCalls(sim)).toBe(1);
    const release = sim.hold('Time');
    try {
      const before = Date.now();
      const started = performance.now();
      expect((await kraken.createOrder(buy('c-primed'))).status).toBe('closed');
      expect(performance.now() - started).toBeLessThan(TIME_WAIT_MS);
      expect(timeCalls(sim)).toBe(1);
      const [deadline] = deadlines(sim);
      expect(deadline).toBeGreaterThan(before + 25_000 + 20_000 - 2_500);
      expect(deadline).toBeLessThanOrEqual(Date.now() + 25_000 + 20_000 + 1_000);
    } finally {
      release();
    }
  });

  describe('the engine', () => {
    const bed = useLiveKraken();
    it('asks Kraken\'s Time as it prepares in live mode, before any order', async () => {
      const t = await liveContext(bed.database, bed.kraken);
      try {
        const engine = liveEngine(t, bed.kraken, [], []);
        await engine.prepare();
        await within(10_000, "the engine's start asking Kraken's Time", () => timeCalls(bed.kraken.sim) > 0);
        expect(bed.kraken.addOrders()).toEqual([]);
      } finally {
        await t.ctx.close();
      }
    });
  });
});
