// An engine process for tests of work handed to it: an Engine that trades the given candles, then
// idles with its heartbeat (as a worker does), and the engine-request runner the bot starts beside it
// (with what it does after each request: features/engine.ts), and the sweep that tells exits' unshown
// outcomes (features/exits.ts), on a shorter period.
import { ALONE_BY_CONSTRUCTION } from '../../src/engine/ledger/intent-lease.js';
import type { Database } from '../../src/db/client.js';
import { Engine } from '../../src/engine/engine.js';
import { PacedFeed } from '../../src/market/paced-feed.js';
import { exitTradeHandler } from '../../src/engine/exit-request.js';
import { startRequestRunner, type RequestRunner } from '../../src/services/engine-requests/runner.js';
import { engineRequestFollowUp } from '../../src/services/engine-requests/handlers.js';
import { tellUnshownExits } from '../../src/services/exits/tell-exit.js';
import type { StrategyDefinition } from '../../src/engine/strategies/config.js';
import { candlesFrom, engineContext, maCross, type EngineTestContext } from './engine.js';

export interface IdleEngine {
  t: EngineTestContext;
  engine: Engine;
  runner: RequestRunner;
  /** Starts the request runner again (after a test stopped it to keep a request pending). */
  restartRunner(): void;
  /** Runs its sweep of unshown exit answers once, now: how many it told. */
  sweepExits(): Promise<number>;
  /** Stops its periodic sweep (every 200 ms), once the one running, if any, has finished. */
  stopSweep(): Promise<void>;
  /** Resolves once the feed is played and the engine idles (every candle handled). */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

export interface IdleEngineOptions {
  strategies?: StrategyDefinition[];
  env?: Record<string, string>;
  /** How long its sweep and its runner's follow-up leave an unshown exit answer to the requester (default the shipped grace). */
  exitShownGraceMs?: number;
}

export async function startIdleEngine(database: Database, closes: number[], opts: IdleEngineOptions = {}): Promise<IdleEngine> {
  const t = await engineContext(database, opts.env ?? {});
  // What tells unshown exits: the process's context, with the test's grace when it gives one.
  const tells = opts.exitShownGraceMs === undefined ? t.ctx : { ...t.ctx, exitShownGraceMs: opts.exitShownGraceMs };
  const feed = new PacedFeed('kraken', candlesFrom(closes), 0);
  // Its idle heartbeat and state read every 100 ms, its runner's poll every 60: a tenth and a quarter of
  // the shipped periods, so a test waits little, without two queries every 20 ms for as long as it runs.
  const engine = new Engine({ lease: ALONE_BY_CONSTRUCTION, ctx: t.ctx, feed, strategies: opts.strategies ?? [maCross()], marketClock: t.clock, housekeepingMs: 100 });
  const running = engine.start();
  let sweeping: Promise<unknown> = Promise.resolve();
  const sweep = setInterval(() => {
    sweeping = tellUnshownExits(tells).catch(() => undefined);
  }, 200);
  const startRunner = () => startRequestRunner(t.ctx, { holder: `test-worker-${Math.random().toString(36).slice(2, 8)}`, handlers: { exit_trade: exitTradeHandler(t.ctx) }, onFinished: engineRequestFollowUp(tells), pollMs: 60 });
  const idle: IdleEngine = {
    t, engine, runner: startRunner(),
    restartRunner() {
      idle.runner = startRunner();
    },
    sweepExits: () => tellUnshownExits(tells),
    async stopSweep() {
      clearInterval(sweep);
      await sweeping;
    },
    async settled() {
      for (let i = 0; i < 500 && (feed.remaining > 0 || engine.counts.candles < closes.length); i++) await new Promise((r) => setTimeout(r, 10));
    },
    async stop() {
      await idle.stopSweep();
      await idle.runner.stop();
      await engine.stop();
      await running.catch(() => undefined);
      await t.ctx.close();
    },
  };
  return idle;
}
