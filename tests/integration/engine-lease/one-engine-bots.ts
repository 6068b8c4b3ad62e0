// What the one-engine test files share (one-engine-embedded, -workers, -takeover: one file each, so the
// three long multi-process runs go side by side): the shipped `ctb start` as child processes killed
// after each test, the orders each one logged, and a replay environment that trades.
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { startBotProcess, type BotProcess } from '../../support/bot-process.js';
import { writeTradingReplay } from '../../support/trading-replay.js';

const running: BotProcess[] = [];
/** The engine logs each order it sends at info level (event "order"): who traded is in whose output. */
export const orders = (b: BotProcess) => (b.output().match(/"event":"order"[^\n]*"symbol":"BTC\/USD"/g) ?? []).length;

/** Every bot started with `bot()` is killed (-9) after each test of the file that calls this. */
export function killBotsAfterEach(): void {
  afterEach(() => {
    for (const bot of running.splice(0)) bot.kill('SIGKILL');
  });
}

/**
 * A bot that trades at once and goes on trading (the one-engine files: who trades is what they judge).
 * `idle`: for a bot whose trading no test looks at (one that holds the lease, records its policy,
 * takes a kill): a short replay (two round trips, 76 candles) played one candle an hour. Parsing the
 * 38,000 candles of the long one cost each bot's start about a CPU-second, and trading at 20 ms a
 * candle kept it and the database busy for as long as it ran.
 */
export function baseEnv(dir: string, extra: Record<string, string> = {}, opts: { idle?: boolean } = {}): Record<string, string> {
  // Long enough (about 12 minutes at 20 ms a candle) that the first bot still trades however slowly the second starts.
  const { replayFile, strategiesFile } = writeTradingReplay(dir, { roundTrips: opts.idle ? 2 : 1000 });
  return {
    PATH: process.env.PATH ?? '', HOME: dir, MARKET_FEED: 'replay', REPLAY_FILE: replayFile, STRATEGIES_FILE: strategiesFile,
    REPLAY_INTERVAL: opts.idle ? '1h' : '20ms', PORT: '0', HOST: '127.0.0.1', DATA_DIR: join(dir, 'data'), LOG_DIR: join(dir, 'logs'), LOG_LEVEL: 'info',
    // The replay trades several times a minute: the pre-trade gate's order-rate budget (20 a minute by
    // default) would refuse it and back it off for up to a minute, and who trades could not be seen.
    RISK_MAX_ORDERS_PER_MINUTE: '1000',
    // Each round trip of the replay loses a little: on a loaded machine the first bot runs long enough
    // to pass the 3 % daily-loss default, and the risk guard (rightly) pauses entries for the one that
    // takes over — which then never trades. The guard is tested on its own; here it is out of the way.
    RISK_DAILY_LOSS_PCT: '100', RISK_MAX_DRAWDOWN_PCT: '100', RISK_HARD_DRAWDOWN_PCT: '100', ...extra,
  };
}

export function bot(args: string[], env: Record<string, string>, cwd: string): BotProcess {
  const b = startBotProcess(args, env, cwd);
  running.push(b);
  return b;
}
