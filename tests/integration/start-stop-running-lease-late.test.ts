// A running `ctb start` (a child process) on PostgreSQL whose engine's stop is left behind (its lease
// row's writes wait on a lock another session holds) and then ends after all: the release it was
// waiting on lands once the lock is let go, before the database closes. The "stopped" line and the
// exit's (2 s later) said "the engine lease was not released" from the part's name alone, while the row
// was gone; they now say what the lease row is as each line is written.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, expect, it } from 'vitest';
import { execute } from '../../src/db/client.js';
import { readLease } from '../../src/db/queries/engine-lease.js';
import { createPostgresTestDb, type TestDatabase } from '../support/db.js';
import { startBotProcess, waitUntil, type BotProcess } from '../support/bot-process.js';
import { freePort } from '../support/free-port.js';
import { holdTableLock, type HeldTableLock } from '../support/table-lock.js';

const TOKEN = 'kill-token-0123456789abcdef-XYZ';

let database: TestDatabase | undefined;
let bot: BotProcess | undefined;
let lock: HeldTableLock | undefined;
let dir: string | undefined;
afterAll(async () => {
  if (bot && bot.proc.exitCode === null) bot.kill('SIGKILL');
  await bot?.exited.catch(() => undefined);
  await lock?.release();
  await database?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Whether a statement on the lease row that says `what` waits on a lock in the bot's database. */
async function waitingOnLock(what: string): Promise<boolean> {
  const rows = await execute<{ n: number }>(database!.db, sql`select count(*)::int as n from pg_stat_activity
    where datname = current_database() and wait_event_type = 'Lock' and query like ${`%${what}%`}`);
  return Number(rows[0]?.n) > 0;
}

it("says the engine lease was released when the engine's stop, left behind, released it before the exit", { timeout: 180_000 }, async () => {
  database = await createPostgresTestDb();
  dir = mkdtempSync(join(tmpdir(), 'ctb-stop-lease-late-'));
  const port = await freePort();
  bot = startBotProcess(['start'], {
    PATH: process.env.PATH ?? '', HOME: dir, DATABASE_URL: database.url, MARKET_FEED: 'replay', PORT: String(port), HOST: '127.0.0.1',
    DATA_DIR: join(dir, 'data'), LOG_DIR: join(dir, 'logs'), LOG_LEVEL: 'info', KILL_HTTP_TOKEN: TOKEN,
    // Renewed every second, each renewal given 3 s: one waiting on the lock when the stop comes has given
    // up well before the engine's stop is left behind (5 s), so by then the release's delete waits too.
    ENGINE_LEASE_TTL: '3s',
  }, dir);
  await bot.waitFor(/"banner":\{/, 120_000);
  await waitUntil(async () => (await readLease(database!.db)).lease !== null, 30_000, () => 'for the engine to hold its lease');
  // Writes to the lease row wait (plain reads pass): its renewal, its "stopping", its release.
  lock = await holdTableLock(database.url, 'engine_lease', { mode: 'exclusive' });
  await waitUntil(() => waitingOnLock('update engine_lease set heartbeat_at'), 30_000, () => 'for a renewal to wait on the lock');
  bot.kill('SIGTERM');
  await waitUntil(() => waitingOnLock('delete from engine_lease'), 30_000, () => `for the release to wait on the lock:\n${bot!.output().slice(-3000)}`);
  await waitUntil(() => /the part \\"engine\\" had not stopped after \d+ ms/.test(bot!.output()), 30_000, () => bot!.output().slice(-3000), 10);
  // Let go at once: the parts after the engine stop and the database closes (within 1 s) right after.
  await lock.release();
  expect(await bot.exited, bot.output().slice(-3000)).toBe(0);
  expect((await readLease(database.db)).lease, 'the engine\'s late stop released the lease').toBeNull();
  const lines = bot.output().trim().split('\n');
  const stopped = lines.find((l) => l.includes('stopped after SIGTERM in')) ?? '';
  const last = lines.at(-1) ?? '';
  expect(stopped).toMatch(/left behind: engine\b[^"]*; the engine lease was released once its stop ended\)/);
  expect(stopped).toContain('"engineLease":"released"');
  expect(last).toMatch(/"event":"exit_with_handles_open"[^\n]*\(left behind: engine\b[^"]*; the engine lease was released once its stop ended\)/);
  expect(bot.output()).not.toContain('the engine lease was not released');
});
