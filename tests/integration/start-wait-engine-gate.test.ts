// The engine is started before the start's last steps (a part after it, the banner's reads). When the
// database goes away there and the start waits for it (src/app/wait-for-database.ts), the engine must
// not trade until the start is over: the candles it reads meanwhile place no order. Through startBot,
// as `ctb start` runs it, on a fast replay: a part after the engine fails as a lost database does
// (new connections closed without an answer) until the test lets it start.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { count } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineFeature } from '../../src/app/features/engine.js';
import type { AppContext } from '../../src/app/context.js';
import type { Feature } from '../../src/app/feature.js';
import { startBot, type RunningBot } from '../../src/app/runtime.js';
import { testConfig } from '../../src/config/env.js';
import { NotPostgresError } from '../../src/db/postgres-sockets.js';
import { orderIntents } from '../../src/db/schema/index.js';
import { readReplayFile } from '../../src/market/replay-file.js';
import { SAMPLE_REPLAY_FILE } from '../../src/market/create-feed.js';
import { silentLogger } from '../../src/logger.js';
import { createPostgresTestDb, type TestDatabase } from '../support/db.js';
import { waitUntil } from '../support/bot-process.js';

let database: TestDatabase;
let bot: RunningBot | undefined;
let dir: string;
beforeAll(async () => {
  database = await createPostgresTestDb();
  dir = mkdtempSync(join(tmpdir(), 'ctb-start-gate-'));
});
afterAll(async () => {
  await bot?.stop();
  await database?.close();
  rmSync(dir, { recursive: true, force: true });
});

const intents = async () => (await database.db.select({ n: count() }).from(orderIntents))[0]!.n;

describe('the engine while the start waits for the database', () => {
  it('places no order until the start is over, then trades', { timeout: 180_000 }, async () => {
    let cut = true;
    let ctx: AppContext | undefined;
    // A part started after the engine, whose start the database cut (as postgres-sockets.ts reports a
    // server that closes new connections without answering) until the test lets it through.
    const cutPart: Feature = {
      name: 'cut',
      roles: ['all'],
      async start(partCtx) {
        ctx = partCtx;
        if (cut) throw new NotPostgresError('127.0.0.1', 5432, null);
      },
    };
    const candles = readReplayFile(SAMPLE_REPLAY_FILE);
    const starting = startBot({
      config: testConfig({ DATABASE_URL: database.url, HOST: '127.0.0.1', MARKET_FEED: 'replay', REPLAY_INTERVAL: '2ms', DATA_DIR: join(dir, 'data'), LOG_DIR: join(dir, 'logs') }),
      role: 'all', feed: 'replay', port: 0, logger: silentLogger(), database, features: [engineFeature(), cutPart],
    });
    // A third of the replay read while the start waits: in it the sample's strategy trades (it does, below, once the start is over).
    const third = candles[Math.floor(candles.length / 3)]!;
    await waitUntil(() => (ctx?.prices.lastCandle(third.symbol)?.openTime.getTime() ?? 0) >= third.openTime.getTime(), 120_000, () => 'the engine reading a third of the replay');
    expect(await intents()).toBe(0);

    cut = false;
    bot = await starting;
    await waitUntil(async () => (await intents()) > 0, 120_000, () => 'an order once the start is over');
  });
});
