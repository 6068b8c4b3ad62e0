// Fixtures for engine tests on the live path: an armed context (IS_LIVE=true, Kraken keys, bot_state
// live) whose Kraken adapter talks to a Kraken that fills, and an engine over a market-priced feed.
import type { Database } from '../../src/db/client.js';
import { Engine, type EngineOptions } from '../../src/engine/engine.js';
import type { StrategyDefinition } from '../../src/engine/strategies/config.js';
import type { Candle } from '../../src/exchange/types.js';
import { PacedFeed } from '../../src/market/paced-feed.js';
import type { FeedKind } from '../../src/market/types.js';
import { updateBotState } from '../../src/services/bot-state.js';
import { engineContext, type EngineTestContext } from './engine.js';
import type { FillingKraken } from './filling-kraken.js';
import { TEST_API_KEY, TEST_API_SECRET } from './kraken-test-keys.js';

export async function liveContext(database: Database, kraken: FillingKraken, env: Record<string, string> = {}): Promise<EngineTestContext> {
  const t = await engineContext(database, {
    IS_LIVE: 'true', KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url, KRAKEN_RATE_LIMIT: 'false', ...env,
  });
  await updateBotState(database.db, t.clock, { mode: 'live' });
  return t;
}

export function liveEngine(t: EngineTestContext, candles: Candle[], strategies: StrategyDefinition[], opts: Omit<Partial<EngineOptions>, 'feed'> & { feed?: FeedKind; paceMs?: number } = {}): Engine {
  const { feed, paceMs, ...rest } = opts;
  return new Engine({
    ctx: t.ctx, feed: new PacedFeed(feed ?? 'kraken', candles, paceMs ?? 20), strategies, marketClock: t.clock,
    stopWhenFeedEnds: true, housekeepingMs: 0, fillFollowMs: 50, ...rest,
  });
}
