// A process armed for live refuses to start its engine on a replay feed while the bot is live: a
// clear error at start, before any feed or order exists. Paper on a replay still starts.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot } from '../../src/app/runtime.js';
import { ManualClock } from '../../src/clock.js';
import { testConfig } from '../../src/config/env.js';
import { engineFeature } from '../../src/app/features/engine.js';
import { silentLogger } from '../../src/logger.js';
import { updateBotState } from '../../src/services/bot-state.js';
import { createPostgresTestDb, type TestDatabase } from '../support/db.js';
import { startLiveKraken, type LiveKraken } from '../support/live-engine.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../support/kraken-test-keys.js';

describe('starting an armed engine on a replay feed', () => {
  let database: TestDatabase;
  let kraken: LiveKraken;
  beforeAll(async () => {
    database = await createPostgresTestDb();
    kraken = await startLiveKraken();
  });
  afterAll(async () => {
    await kraken.sim.close();
    await database.close();
  });

  const start = () => startBot({
    config: testConfig({
      IS_LIVE: 'true', KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.sim.url, KRAKEN_RATE_LIMIT: 'false',
      LOG_DIR: join(tmpdir(), 'ctb-test-logs'), REPLAY_INTERVAL: '1s',
    }),
    logger: silentLogger(), clock: new ManualClock('2026-01-05T00:00:00Z'), database, role: 'worker', feed: 'replay', port: 0, features: [engineFeature()],
  });

  it('refuses to start while the bot is live, naming the feed and how to fix it', async () => {
    await updateBotState(database.db, { now: () => new Date('2026-01-05T00:00:00Z') }, { mode: 'live' });
    const err = await start().catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'config', code: 'live_needs_market_feed' });
    expect((err as Error).message).toMatch(/armed \(IS_LIVE=true\) and the bot is in live mode, but it was started on the replay feed/);
    expect((err as { hint: string }).hint).toMatch(/--feed kraken/);
    expect(kraken.addOrders()).toHaveLength(0);
  });

  it('starts on the replay feed while the bot is in paper', async () => {
    await updateBotState(database.db, { now: () => new Date('2026-01-05T00:00:00Z') }, { mode: 'paper' });
    const bot = await start();
    await bot.stop();
  });
});

describe('starting an armed engine with a pair Kraken does not list', () => {
  let database: TestDatabase;
  let kraken: LiveKraken;
  beforeAll(async () => {
    database = await createPostgresTestDb();
    kraken = await startLiveKraken();
  });
  afterAll(async () => {
    await kraken.sim.close();
    await database.close();
  });

  const start = (pairs: string) => startBot({
    config: testConfig({
      IS_LIVE: 'true', KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.sim.url, KRAKEN_RATE_LIMIT: 'false',
      LOG_DIR: join(tmpdir(), 'ctb-test-logs'), REPLAY_INTERVAL: '1s', TRADING_PAIRS: pairs,
    }),
    logger: silentLogger(), clock: new ManualClock('2026-01-05T00:00:00Z'), database, role: 'worker', feed: 'replay', port: 0, features: [engineFeature()],
  });

  it("refuses to start, naming the pair and the closest pairs Kraken's AssetPairs list", async () => {
    const err = await start('BTC/USD,ETH/USDT').catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'config', code: 'pair_not_on_kraken' });
    expect((err as Error).message).toBe('Kraken does not list the pair ETH/USDT (Did you mean ETH/USD?) in TRADING_PAIRS: this process is armed for live (IS_LIVE=true) and would trade it on Kraken.');
    expect((err as { hint: string }).hint).toContain('Set TRADING_PAIRS');
    expect(kraken.addOrders()).toHaveLength(0);
  });

  it('starts when Kraken lists every pair', async () => {
    const bot = await start('BTC/USD');
    await bot.stop();
  });
});
