// The engine as a part of the running bot (roles all/worker): builds the market feed the bot was
// started with, takes the engine's advisory lock (on PostgreSQL only one worker trades; the others
// wait on standby and take over when it goes), and runs the loop until the bot stops.
import { hostname } from 'node:os';
import type { AppContext } from '../app/context.js';
import type { Feature } from '../app/feature.js';
import { ADVISORY_LOCKS, takeAdvisoryLock, type HeldLock } from '../db/advisory-lock.js';
import { createMarketFeed, type MarketFeedOptions } from '../market/create-feed.js';
import { sleep } from '../market/sleep.js';
import { startRequestRunner } from '../services/engine-requests/runner.js';
import { setKillHooks } from '../services/kill/runtime.js';
import { Engine } from './engine.js';
import { exitTradeHandler } from './exit-request.js';
import { flattenPositions } from './flatten.js';
import { assertLiveFeed } from './live-feed.js';
import { loadStrategies } from './strategies/config.js';
import type { RiskBreach } from './risk-guard.js';

export interface EngineFeatureOptions {
  /** The kill switch subscribes here: drawdown passed RISK_HARD_DRAWDOWN_PCT. */
  onHardBreach?: (ctx: AppContext, breach: RiskBreach) => void | Promise<void>;
  standbyPollMs?: number;
  market?: MarketFeedOptions;
}

export function engineFeature(opts: EngineFeatureOptions = {}): Feature {
  return {
    name: 'engine',
    roles: ['all', 'worker'],
    async start(ctx, _http, startOpts) {
      // Fail at start, with the file and field named, rather than on the first candle.
      const strategies = loadStrategies(ctx.config).strategies;
      await assertLiveFeed(ctx, startOpts.feed);
      const feed = await createMarketFeed(ctx.config, startOpts.feed, opts.market);
      const engine = new Engine({
        ctx, feed, strategies,
        ...(opts.onHardBreach ? { onHardBreach: (breach: RiskBreach) => opts.onHardBreach!(ctx, breach) } : {}),
      });
      setKillHooks(ctx, { flatten: (c) => flattenPositions(c) });
      const stopping = new AbortController();
      let lock: HeldLock | null = null;
      // Only the worker that trades keeps Kraken's dead man's switch renewed (one key, one process).
      setKillHooks(ctx, { tradingLockHeld: () => lock !== null });
      // Work other processes hand the engine (an operator's exit from web or the CLI), while it trades.
      const runner = startRequestRunner(ctx, { holder: `${hostname()}:${process.pid}`, handlers: { exit_trade: exitTradeHandler(ctx) }, active: () => lock !== null });
      const run = (async () => {
        while (!stopping.signal.aborted) {
          lock = await takeAdvisoryLock(ctx.database, ADVISORY_LOCKS.engine, { wait: false });
          if (lock) break;
          ctx.logger.info('another engine worker holds the trading lock; standing by');
          await sleep(opts.standbyPollMs ?? 5_000, stopping.signal);
        }
        if (stopping.signal.aborted) return;
        await engine.start();
      })().catch((err: unknown) => ctx.logger.error({ err }, 'the engine stopped with an error'));
      return {
        async stop() {
          stopping.abort();
          await engine.stop();
          await run;
          await runner.stop();
          await (lock as HeldLock | null)?.release();
        },
      };
    },
  };
}
