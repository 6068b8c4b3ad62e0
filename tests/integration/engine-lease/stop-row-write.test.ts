// The engine's stop writes "the engine is stopping" into its lease row, then releases the lease (deletes
// the row). The write was not awaited: a slow one went out after the release, matched no row (the row
// never said "stopping"), and outlived the engine's stop. The release now waits for the row's last write,
// bounded (ROW_WRITE_WAIT_MS), so a write that never lands does not hold the release either.
// A running bot on PostgreSQL whose database holds the row's writes back (statement-hooks.ts).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { engineFeature, ROW_WRITE_WAIT_MS } from '../../../src/app/features/engine.js';
import { startBot, type RunningBot } from '../../../src/app/runtime.js';
import { testConfig } from '../../../src/config/env.js';
import type { Database } from '../../../src/db/client.js';
import { readLease } from '../../../src/db/queries/engine-lease.js';
import { silentLogger } from '../../../src/logger.js';
import { waitUntil } from '../../support/bot-process.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { hookedDatabase } from '../../support/statement-hooks.js';
import { writeTradingReplay } from '../../support/trading-replay.js';

const ROW_WRITE = /^update engine_lease set waiting = /;
const RELEASE = /^delete from engine_lease where id = 1 and holder_id = /;

/** While set, each write of the row waits for it before it is sent. */
let hold: (() => Promise<void>) | null = null;
/** What reached the database, in order, with when (performance.now()). */
let seen: Array<{ what: 'write asked' | 'write landed' | 'release asked'; at: number }> = [];
const note = (what: (typeof seen)[number]['what']) => void seen.push({ what, at: performance.now() });

let database: TestDatabase;
let hooked: Database;
let bot: RunningBot | undefined;
beforeAll(async () => {
  database = await createPostgresTestDb();
  hooked = hookedDatabase(database.url, [
    {
      match: ROW_WRITE,
      before: async () => {
        if (!hold) return;
        note('write asked');
        await hold();
      },
      after: () => {
        if (seen.length > 0) note('write landed');
      },
    },
    { match: RELEASE, before: () => note('release asked') },
  ]);
});
afterEach(async () => {
  hold = null;
  await bot?.stop();
  bot = undefined;
});
afterAll(async () => {
  await hooked?.close();
  await database?.close();
});

/** A replay bot on the hooked database (role worker), started. */
async function replayBot(logger = silentLogger()): Promise<RunningBot> {
  const dir = mkdtempSync(join(tmpdir(), 'ctb-stop-row-write-'));
  const { replayFile, strategiesFile } = writeTradingReplay(dir);
  const config = testConfig({
    MARKET_FEED: 'replay', REPLAY_FILE: replayFile, STRATEGIES_FILE: strategiesFile, REPLAY_INTERVAL: '10ms',
    DATA_DIR: join(dir, 'data'), LOG_DIR: join(dir, 'logs'), HOST: '127.0.0.1',
  });
  return startBot({ config, logger, database: hooked, features: [engineFeature({ requestPollMs: 50 })], role: 'worker', feed: 'replay', port: 0 });
}

/** A replay bot on the hooked database, once its engine is past its steps (the row names no step). */
async function tradingBot(): Promise<RunningBot> {
  const started = await replayBot();
  await waitUntil(async () => {
    const { lease } = await readLease(database.db);
    return lease !== null && lease.waitingKind !== 'step';
  }, 60_000, () => 'for the engine to get past its steps');
  seen = [];
  return started;
}

describe("the engine's stop and its lease row's last write", () => {
  it('releases the lease only once the "stopping" write has landed', async () => {
    bot = await tradingBot();
    // A slow write: it lands a while after it was asked, well within the release's wait.
    hold = () => new Promise((resolve) => setTimeout(resolve, ROW_WRITE_WAIT_MS / 2));
    await bot.stop();
    bot = undefined;
    expect(seen.map((s) => s.what)).toEqual(['write asked', 'write landed', 'release asked']);
    expect((await readLease(database.db)).lease).toBeNull();
  }, 120_000);

  it('releases the lease after its bound when the write does not land, and the late write leaves no row', async () => {
    bot = await tradingBot();
    let letGo!: () => void;
    const held = new Promise<void>((resolve) => (letGo = resolve));
    hold = () => held;
    await bot.stop();
    bot = undefined;
    expect(seen.map((s) => s.what)).toEqual(['write asked', 'release asked']);
    const [asked, released] = seen;
    expect(released!.at - asked!.at, 'the release waited for the write up to its bound').toBeGreaterThanOrEqual(ROW_WRITE_WAIT_MS);
    expect((await readLease(database.db)).lease).toBeNull();
    // The write lands after the release: it matches no row (it names its holder) and brings none back.
    letGo();
    await waitUntil(() => seen.length === 3, 10_000, () => 'for the held write to land');
    expect((await readLease(database.db)).lease).toBeNull();
  }, 120_000);

  it("a standby's stop does not wait for its row write: the row is another process's, and it releases none", async () => {
    bot = await tradingBot();
    const lines: Array<{ level: number; msg: string }> = [];
    const standby = await replayBot(pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) }));
    try {
      await waitUntil(() => lines.some((l) => /standing by/.test(l.msg)), 60_000, () => 'for the second bot to stand by');
      const holder = (await readLease(database.db)).lease?.holderId;
      // Its "stopping" write is asked and never lands: before, the stop waited ROW_WRITE_WAIT_MS for it
      // and warned that it released the lease all the same.
      hold = () => new Promise<void>(() => {});
      await standby.stop();
      expect(seen.map((s) => s.what), 'the standby asked its row write').toContain('write asked');
      expect(lines.filter((l) => l.level >= 40 && /lease/.test(l.msg)).map((l) => l.msg)).toEqual([]);
      expect(seen.map((s) => s.what)).not.toContain('release asked');
      hold = null;
      expect((await readLease(database.db)).lease?.holderId, "the holder's row is untouched").toBe(holder);
    } finally {
      hold = null;
    }
  }, 120_000);
});
