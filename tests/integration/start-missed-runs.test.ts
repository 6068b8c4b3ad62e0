// A bot starting on a loaded machine: the start's own work (the database, the engine's first
// reconciliation and warm-up) holds the event loop, and node-cron finds the jobs' runs of those
// seconds missed. startBot counts as the start until its parts have started, so those runs are said
// as the start's doing, at info — not "missed execution! Possible blocking IO" warnings. A stall
// once the bot runs is still warned (tests/integration/jobs-cron-logger.test.ts).
import { ALONE_BY_CONSTRUCTION } from '../../src/engine/ledger/intent-lease.js';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Feature } from '../../src/app/feature.js';
import { startBot, type RunningBot } from '../../src/app/runtime.js';
import { testConfig } from '../../src/config/env.js';
import { Engine } from '../../src/engine/engine.js';
import type { MarketFeed, MarketTick } from '../../src/market/types.js';
import { sleep } from '../../src/market/sleep.js';
import { createPgliteTestDb } from '../support/db.js';
import { engineContext, maCross } from '../support/engine.js';

let bot: RunningBot | undefined;
afterEach(async () => {
  await bot?.stop();
  bot = undefined;
});

/**
 * How long each stall holds the event loop. node-cron calls a run of the every-second job missed once it
 * is a whole second late (the gap to the next run), so any hold of 2 s or more misses at least one run,
 * whenever in the second it starts and however loaded the machine (a hold only ever lasts longer).
 */
const HOLD_MS = 2_500;

describe('jobs scheduled while the bot starts', { timeout: 60_000 }, () => {
  const block = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  const collect = () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    return { lines, logger };
  };
  const settle = async (lines: Array<Record<string, unknown>>, count: number) => {
    const until = Date.now() + 20_000;
    while (lines.filter((l) => l['job'] === 'every-second' && l['source'] === 'node-cron').length < count && Date.now() < until) await sleep(100);
    await sleep(500);
  };

  it('count the engine’s warm-up as the start (its first feed pass), and a stall after it as a stall', async () => {
    const { lines, logger } = collect();
    const t = await engineContext(await createPgliteTestDb(), {}, { logger });
    const start = t.ctx.jobs.holdStart();
    t.ctx.jobs.register({ name: 'every-second', schedule: '* * * * * *', trades: false, run: async () => undefined });
    let passes = 0;
    let stallNow!: () => void;
    const stall = new Promise<void>((r) => (stallNow = r));
    // The first pass (the warm-up history) holds the event loop; the second waits to be told, then stalls.
    const feed: MarketFeed = {
      kind: 'replay',
      async next(signal): Promise<MarketTick[] | null> {
        passes += 1;
        if (passes === 1) block(HOLD_MS);
        else if (passes === 2) {
          await stall;
          block(HOLD_MS);
        } else await sleep(60_000, signal);
        return [];
      },
    };
    let startedCalls = 0;
    const engine = new Engine({ lease: ALONE_BY_CONSTRUCTION, ctx: t.ctx, feed, strategies: [maCross()], marketClock: t.clock, onStarted: () => { startedCalls += 1; start(); } });
    void engine.start();
    try {
      await settle(lines, 1);
      expect(startedCalls).toBe(1);
      const warmup = lines.filter((l) => l['source'] === 'node-cron');
      expect(warmup.length).toBeGreaterThan(0);
      expect(warmup.every((l) => l['level'] === 30 && l['startDelayed'] === true), JSON.stringify(warmup)).toBe(true);
      const seen = warmup.length;
      stallNow();
      await settle(lines, seen + 1);
      const after = lines.filter((l) => l['source'] === 'node-cron').slice(seen);
      expect(after.length).toBeGreaterThan(0);
      expect(after.every((l) => l['level'] === 40 && /missed execution/.test(String(l['msg']))), JSON.stringify(after)).toBe(true);
      expect(startedCalls).toBe(1);
    } finally {
      stallNow();
      await engine.stop();
      await t.ctx.close();
    }
  });

  it('report the runs missed while the bot was starting at info, as such, with no warning', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const jobs: Feature = {
      name: 'a-job', roles: ['all'],
      async start(ctx) {
        ctx.jobs.register({ name: 'every-second', schedule: '* * * * * *', trades: false, run: async () => undefined });
      },
    };
    // A part whose start holds the event loop (as a migration or a first reconciliation does on a
    // loaded machine), blocking the thread without spinning a core.
    const slowStart: Feature = {
      name: 'slow-start', roles: ['all'],
      async start() {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, HOLD_MS);
      },
    };
    const database = await createPgliteTestDb();
    bot = await startBot({ config: testConfig({ HOST: '127.0.0.1' }), logger, database, features: [jobs, slowStart], role: 'all', feed: 'replay', port: 0 });
    // node-cron tells the missed runs when it runs again.
    const until = Date.now() + 20_000;
    while (!lines.some((l) => l['job'] === 'every-second' && l['source'] === 'node-cron') && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 500));
    const cron = lines.filter((l) => l['source'] === 'node-cron');
    expect(cron.filter((l) => Number(l['level']) >= 40), 'no warning for a run the start held back').toEqual([]);
    expect(cron.length).toBeGreaterThan(0);
    expect(cron.every((l) => l['level'] === 30 && l['startDelayed'] === true && /missed while the bot was starting;/.test(String(l['msg'])))).toBe(true);
  });
});
