// The running bot (engine feature, worker role) carries out exits other processes hand it: a
// `ctb exit --yes` from another terminal closes a position the bot's engine opened on the replay.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type RunningBot } from '../../../src/app/runtime.js';
import { runCli } from '../../../src/cli/program.js';
import { testConfig } from '../../../src/config/env.js';
import { alertEvents, engineRequests, trades } from '../../../src/db/schema/index.js';
import { waitForEngineRequest } from '../../../src/services/engine-requests/store.js';
import { engineFeature } from '../../../src/app/features/engine.js';
import { silentLogger } from '../../../src/logger.js';
import { recordingIo } from '../../support/cli-io.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { maCross } from '../../support/engine.js';

let database: TestDatabase;
let bot: RunningBot;

beforeAll(async () => {
  database = await createPostgresTestDb();
  const dir = mkdtempSync(join(tmpdir(), 'ctb-exit-bot-'));
  const strategiesFile = join(dir, 'strategies.json');
  // Averages that cross every few dozen candles: positions open and stay open for a second or more.
  writeFileSync(strategiesFile, JSON.stringify({ strategies: [maCross({ params: { fastPeriod: 5, slowPeriod: 30, signalWindow: 2 }, limits: { minConfidence: 0.000001, minVolume24hQuote: 1 } })] }));
  const config = testConfig({ STRATEGIES_FILE: strategiesFile, REPLAY_INTERVAL: '50ms', TRADING_PAIRS: 'BTC/USD', DATA_DIR: join(dir, 'data'), LOG_DIR: join(dir, 'logs'), EQUITY_SNAPSHOT_INTERVAL: '1h' });
  bot = await startBot({ config, role: 'worker', feed: 'replay', port: 0, logger: silentLogger(), database, features: [engineFeature({ standbyPollMs: 50 })] });
}, 120_000);
afterAll(async () => {
  await bot?.stop();
  await database?.close();
});

describe('exit handed to the running bot', () => {
  it('a CLI exit is taken by the worker’s request runner and closes the trade through its engine', async () => {
    // The strategy may close a trade itself between our look and our exit ("not open in the
    // engine's book" — true, and said so): try the next open one, a few times.
    let done: { id: number; out: string } | null = null;
    const until = Date.now() + 40_000;
    for (let attempts = 0; attempts < 10 && !done && Date.now() < until;) {
      const [open] = await database.db.select({ id: trades.id }).from(trades).where(eq(trades.status, 'open'));
      if (!open) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      attempts += 1;
      const io = recordingIo({ DATABASE_URL: database.url });
      const code = await runCli(['exit', String(open.id), '--yes'], io);
      if (code === 0) done = { id: open.id, out: io.out() };
      else expect(`${io.out()}${io.err()}`).toMatch(/not open in the engine's paper book|is already closed/);
    }
    expect(done).not.toBeNull();
    expect(done!.out).toMatch(new RegExp(`\\): DONE\\n  #${done!.id} closed: sold`));
    // The last one written: earlier tries that found their trade already closed failed, and a row
    // updated after it (an answer marked shown) may come back after it unless ordered.
    const requests = await database.db.select().from(engineRequests).orderBy(asc(engineRequests.id));
    expect(requests.at(-1)).toMatchObject({ kind: 'exit_trade', status: 'done', claimedBy: expect.stringMatching(/:\d+:[0-9a-f]{8}$/) }); // the engine lease's holder id (host:pid:start)
    expect((await database.db.select().from(trades).where(eq(trades.id, done!.id)))[0]!.status).toBe('closed');
  });

  it('an exit that waited past EXIT_REQUEST_TTL is refused by the bot, nothing sold, and the alert channel hears it', async () => {
    // Confirmed an hour ago (the database's clock), its requester gone: the bot's engine just took the lease.
    const writtenAt = new Date(Date.now() - 3_600_000).toISOString();
    const [row] = await database.db.insert(engineRequests).values({
      kind: 'exit_trade', requestedBy: 'cli:gone', requestedAt: new Date(writtenAt), params: { target: 'all', mode: 'paper', tradeIds: [1], writtenAt, waitMs: 30_000 },
    }).returning();
    const done = await waitForEngineRequest(database.db, row!.id, { timeoutMs: 20_000 });
    expect(done).toMatchObject({ status: 'failed', result: { expired: true, summary: expect.stringMatching(/^Expired: not carried out — it waited 1h/) } });
    let told: Array<typeof alertEvents.$inferSelect> = [];
    for (let i = 0; i < 200 && told.length === 0; i++) {
      told = (await database.db.select().from(alertEvents)).filter((e) => e.title.includes(`request #${row!.id}: expired`));
      if (told.length === 0) await new Promise((r) => setTimeout(r, 50));
    }
    expect(told).toEqual([expect.objectContaining({ source: 'engine', severity: 'warning', title: expect.stringContaining('asked by cli:gone') })]);
  });
});
