// The start banner says what this process is: a worker that stands by behind another process's
// engine does not trade, and says so — whose engine trades, and when it would take over — instead
// of the bot's "trading active"; the one that took the lease says it trades. A web process runs no
// engine: it says it does not trade, and names the process whose engine does, read from the lease.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { engineFeature } from '../../../src/app/features/engine.js';
import { startBot, type RunningBot } from '../../../src/app/runtime.js';
import { testConfig } from '../../../src/config/env.js';
import { acquireLease } from '../../../src/db/queries/engine-lease.js';
import { createLogger } from '../../../src/logger.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { writeTradingReplay } from '../../support/trading-replay.js';

let database: TestDatabase;
let bot: RunningBot | undefined;

beforeAll(async () => {
  database = await createPostgresTestDb();
}, 120_000);
afterEach(async () => {
  await bot?.stop();
  bot = undefined;
  await database.db.execute(sql`delete from engine_lease`);
});
afterAll(async () => {
  await database?.close();
});

/** Starts a worker on the replay (or a web process) and returns its banner line (message and fields). */
async function startWorker(role: 'worker' | 'web' = 'worker'): Promise<{ msg: string; banner: Record<string, unknown> }> {
  const dir = mkdtempSync(join(tmpdir(), 'ctb-worker-banner-'));
  const { replayFile, strategiesFile } = writeTradingReplay(dir);
  const config = testConfig({
    MARKET_FEED: 'replay', REPLAY_FILE: replayFile, STRATEGIES_FILE: strategiesFile, REPLAY_INTERVAL: '10ms', ENGINE_LEASE_TTL: '30s',
    DATA_DIR: join(dir, 'data'), LOG_DIR: join(dir, 'logs'), HOST: '127.0.0.1', LOG_LEVEL: 'info',
  });
  const lines: Array<{ msg: string; banner?: Record<string, unknown> }> = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  const logger = createLogger({ config, stdout: false, files: false, destination: sink, destinationLevel: 'info' });
  bot = await startBot({ config, logger, database, features: role === 'web' ? [] : [engineFeature({ standbyPollMs: 100 })], role, feed: 'replay', port: 0 });
  const line = lines.find((l) => l.msg.startsWith('ctb running on port'));
  expect(line).toBeDefined();
  return { msg: line!.msg, banner: line!.banner! };
}

describe('the start banner of a worker', () => {
  it('behind another process holding the engine lease: says it stands by, not that it trades', async () => {
    // Another worker's engine holds a fresh lease.
    await acquireLease(database.db, { holderId: 'bot-a:4242:00000000', host: 'bot-a', pid: 4242, role: 'worker', feed: 'kraken', armed: false, hasKrakenKeys: false }, 30_000);
    const { msg, banner } = await startWorker();
    expect(msg).toMatch(/^ {2}mode {6}paper \(IS_LIVE is not set: no order can reach Kraken\), STANDBY: not trading here \(the engine runs in bot-a:4242 \(worker\); trading active there\), role worker$/m);
    expect(msg).toContain('  standby   this process takes the engine over if bot-a:4242 (worker) stops renewing its lease for 30s (ENGINE_LEASE_TTL), or at once if its process is gone on this host');
    expect(msg).not.toMatch(/, trading active,/);
    expect(banner).toMatchObject({ tradingState: 'active', engine: 'standby behind bot-a:4242 (worker)' });
  }, 120_000);

  it('that took the engine lease: says it trades', async () => {
    const { msg, banner } = await startWorker();
    expect(msg).toMatch(/^ {2}mode {6}paper .*, trading active, role worker$/m);
    expect(msg).not.toMatch(/standby|STANDBY/);
    expect(banner).toMatchObject({ tradingState: 'active', engine: 'this process' });
  }, 120_000);
});

describe('the start banner of a web process', () => {
  it('says it does not trade, and whose engine does: the lease holder read from the database', async () => {
    await acquireLease(database.db, { holderId: 'bot-a:4242:00000000', host: 'bot-a', pid: 4242, role: 'worker', feed: 'kraken', armed: false, hasKrakenKeys: false }, 30_000);
    const { msg, banner } = await startWorker('web');
    expect(msg).toMatch(/^ {2}mode {6}paper .*, not trading here: this process serves Slack and HTTP and runs no engine, role web$/m);
    expect(msg).not.toMatch(/trading active,/);
    expect(msg).toMatch(/^ {2}engine {4}runs in bot-a:4242 \(worker\), heartbeat \d+s ago: trading active there$/m);
    expect(banner).toMatchObject({ engine: 'none in this process', engineHolder: { state: 'running', holderId: 'bot-a:4242:00000000' } });
  }, 120_000);

  it('with no engine running: says nothing trades until a worker takes the lease', async () => {
    const { msg } = await startWorker('web');
    expect(msg).toContain('  engine    none running: nothing trades until a worker (`ctb start --role worker`) takes the engine lease');
  }, 120_000);
});
