// `ctb start` reads and checks the strategies file once, before anything else, and the bot trades
// what was checked: startBot given the checked files neither reads nor checks the file again (an
// edit after the check is not half-seen), and which roles read it is the engine feature's own list.
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineFeature } from '../../src/app/features/engine.js';
import { startBot, type RunningBot } from '../../src/app/runtime.js';
import { checkStartFiles } from '../../src/app/start-checks.js';
import { testConfig } from '../../src/config/env.js';
import { execute } from '../../src/db/client.js';
import { healthFeature } from '../../src/http/health.js';
import { silentLogger } from '../../src/logger.js';
import { waitUntil } from '../support/bot-process.js';
import { createPostgresTestDb, type TestDatabase } from '../support/db.js';
import { writeTradingReplay } from '../support/trading-replay.js';

let database: TestDatabase;
let bot: RunningBot | undefined;
beforeAll(async () => {
  database = await createPostgresTestDb();
});
afterAll(async () => {
  await bot?.stop();
  await database?.close();
});

describe('the strategies file at a start', { timeout: 90_000 }, () => {
  it('is checked for exactly the roles that run the engine', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctb-start-files-'));
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{ "strategies": [');
    const config = testConfig({ STRATEGIES_FILE: broken });
    for (const role of ['all', 'web', 'worker'] as const) {
      if (engineFeature().roles.includes(role)) expect(() => checkStartFiles(config, role), role).toThrow(expect.objectContaining({ kind: 'config' }));
      else expect(checkStartFiles(config, role)).toEqual({});
    }
  });

  it('is not read again by startBot when the start checked it: the engine trades what was checked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctb-start-files-'));
    const { replayFile, strategiesFile } = writeTradingReplay(dir);
    const config = testConfig({
      MARKET_FEED: 'replay', REPLAY_FILE: replayFile, STRATEGIES_FILE: strategiesFile, REPLAY_INTERVAL: '10ms',
      DATA_DIR: join(dir, 'data'), LOG_DIR: join(dir, 'logs'), HOST: '127.0.0.1',
    });
    const files = checkStartFiles(config, 'worker');
    expect(files.strategies?.config.strategies.length).toBeGreaterThan(0);
    // Broken after the check: a second read would refuse the start.
    writeFileSync(strategiesFile, '{ "strategies": [');
    bot = await startBot({ config, logger: silentLogger(), database, features: [healthFeature, engineFeature()], role: 'worker', feed: 'replay', port: 0, files });
    const intents = async () => Number((await execute<{ n: number }>(database.db, sql`select count(*)::int as n from order_intents`))[0]!.n);
    await waitUntil(async () => (await intents()) > 0, 60_000, () => 'for the bot to trade the checked strategies');
  });
});
