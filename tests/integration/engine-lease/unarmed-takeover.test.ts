// An engine started without IS_LIVE (the shipped `ctb start`, a real process) that takes over from a dead
// armed one trading live withdraws the live approval and, as an armed takeover does, holds the dead
// engine's live work for reconciliation: halted and blocked, never just paper.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { execute } from '../../../src/db/client.js';
import { waitUntil } from '../../support/bot-process.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';
import { startSteppedKraken, type SteppedKraken } from '../../support/stepped-kraken.js';
import { baseEnv, bot, killBotsAfterEach } from './one-engine-bots.js';

killBotsAfterEach();

describe('an unarmed engine taking over from a dead armed one', () => {
  let database: TestDatabase | undefined;
  let kraken: SteppedKraken | undefined;
  afterAll(async () => {
    await kraken?.close();
    await database?.close();
  });

  it('withdraws the live approval and starts halted, blocked for reconciliation of the dead engine’s live work', async () => {
    database = await createPostgresTestDb();
    kraken = await startSteppedKraken();
    await database.db.execute(sql`insert into bot_state (id, mode) values (1, 'live') on conflict (id) do update set mode = 'live'`);
    const state = async () => (await execute<{ mode: string; halted: boolean; halted_by: string | null; reconciliation_blocked: boolean; reconciled_through: string | null; reconciliation_details: Record<string, unknown> | null }>(
      database!.db, sql`select mode, halted, halted_by, reconciliation_blocked, reconciled_through, reconciliation_details from bot_state where id = 1`))[0]!;
    const dir = mkdtempSync(join(tmpdir(), 'ctb-unarmed-takeover-'));
    for (const d of ['a', 'b']) mkdirSync(join(dir, d));
    const common = { DATABASE_URL: database.url, ENGINE_LEASE_TTL: '4s', KRAKEN_API_URL: kraken.url, KRAKEN_RATE_LIMIT: 'false', MARKET_FEED: 'kraken', MARKET_POLL_INTERVAL: '100ms', RECONCILE_PROBE_INTERVAL: '1s', LOG_LEVEL: 'debug' };
    const a = bot(['start', '--role', 'worker'], baseEnv(join(dir, 'a'), { ...common, IS_LIVE: 'true', KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET }), dir);
    await a.waitFor(/engine lease taken: this process runs the engine/, 120_000);
    await waitUntil(async () => (await state()).reconciled_through !== null, 60_000, () => `for A's first reconciliation:\n${a.output().slice(-3000)}`);
    expect(await state()).toMatchObject({ mode: 'live', halted: false });

    const b = bot(['start', '--role', 'worker'], baseEnv(join(dir, 'b'), { ...common, IS_LIVE: 'false' }), dir);
    await b.waitFor(/standing by/, 120_000);
    a.kill('SIGKILL');
    await a.exited;
    await waitUntil(async () => (await state()).mode === 'paper', 60_000, () => `for B to take over and withdraw:\n${b.output().slice(-3000)}`);
    const s = await state();
    expect(s).toMatchObject({ mode: 'paper', halted: true, halted_by: 'system:reconciliation', reconciliation_blocked: true });
    expect(s.reconciliation_details).toMatchObject({ cause: 'takeover', pending: true, takenOverFrom: expect.stringMatching(new RegExp(`:${a.pid}:`)) });
    b.kill('SIGTERM');
    expect(await b.exited).toBe(0);
  }, 300_000);
});
