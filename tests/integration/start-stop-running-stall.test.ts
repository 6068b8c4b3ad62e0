// A running `ctb start` (a child process) on PostgreSQL whose database connections went dead (a TCP
// proxy that never forwards the connections open again, new ones pass: half-open TCP, a frozen
// network path): SIGTERM then said "stopping" and the process never exited — a part's stop waited on
// a dead connection, unbounded, and a standby waited for the stale heartbeat. The running bot's stop
// is bounded as the start's is: a part that does not stop in its wait is left behind, the database
// is closed within a bound, and the process exits 0 with a last line that names what was left.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { createPostgresTestDb, type TestDatabase } from '../support/db.js';
import { startBotProcess, waitUntil, type BotProcess } from '../support/bot-process.js';
import { freePort } from '../support/free-port.js';
import { startStallProxy, type StallProxy } from '../support/stall-proxy.js';

const TOKEN = 'kill-token-0123456789abcdef-XYZ';
/** How soon after SIGTERM the process must have exited. */
const EXIT_BOUND_MS = 25_000;

let database: TestDatabase | undefined;
let proxy: StallProxy | undefined;
let bot: BotProcess | undefined;
let dir: string | undefined;
afterAll(async () => {
  if (bot && bot.proc.exitCode === null) bot.kill('SIGKILL');
  await bot?.exited.catch(() => undefined);
  await proxy?.close();
  await database?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('a running bot whose database connections went dead exits 0 on SIGTERM within a bound, naming the parts left behind', { timeout: 180_000 }, async () => {
  database = await createPostgresTestDb();
  proxy = await startStallProxy();
  dir = mkdtempSync(join(tmpdir(), 'ctb-stop-running-stall-'));
  const port = await freePort();
  bot = startBotProcess(['start'], {
    PATH: process.env.PATH ?? '', HOME: dir, DATABASE_URL: proxy.urlFor(database.url), MARKET_FEED: 'replay', PORT: String(port), HOST: '127.0.0.1',
    DATA_DIR: join(dir, 'data'), LOG_DIR: join(dir, 'logs'), LOG_LEVEL: 'info', KILL_HTTP_TOKEN: TOKEN,
    // The lease is renewed every TTL/3: with 3 s, a renewal is under way when the database stalls (it
    // waits for ever on its dead connection, and the engine's stop waits for it to release the lease).
    ENGINE_LEASE_TTL: '3s',
  }, dir);
  await bot.waitFor(/"banner":\{/, 120_000);
  // The database stalls: every query under way waits, and the pool opens connections up to its 10
  // (connections that the stall holds too). Then those stay dead for good and new ones pass: a query
  // waits for a connection until one opened during the stall gives up (10 s after it was opened).
  proxy.set('stall');
  await waitUntil(() => proxy!.connections >= 10, 60_000, () => bot!.output().slice(-3000));
  proxy.deadenOpen();
  proxy.set('forward');
  const asked = Date.now();
  bot.kill('SIGTERM');
  // Before, no exit: the stop waited on the dead connections for as long as they lasted (60 s+). A part's
  // stop is given 5 s, those after the first left behind 1 s each, the database's close 1 s, and what is
  // still open 2 s: well under 30 s, a process manager's usual grace before SIGKILL.
  let bound: NodeJS.Timeout | undefined;
  const exit = await Promise.race([
    bot.exited,
    new Promise((resolve) => (bound = setTimeout(() => resolve(`still running ${EXIT_BOUND_MS} ms after SIGTERM`), EXIT_BOUND_MS))),
  ]).finally(() => clearTimeout(bound));
  expect(exit, bot.output().slice(-3000)).toBe(0);
  const tookMs = Date.now() - asked;
  const lines = bot.output().trim().split('\n');
  const last = lines.at(-1) ?? '';
  const stopped = lines.find((l) => l.includes('stopped after SIGTERM in')) ?? '';
  expect(tookMs).toBeLessThan(EXIT_BOUND_MS);
  expect(stopped).toMatch(/stopped after SIGTERM in \d+ ms \(left behind: [a-z-]+(, [a-z-]+)*/);
  expect(stopped).toMatch(/left behind: engine\b[^"]*; the engine lease was not released: a standby takes over once it goes stale\)/);
  // The last line is the exit's (a dead socket is still open), and it names the parts left behind too.
  expect(last).toMatch(/"event":"exit_with_handles_open"[^\n]*still open \(left behind: engine\b/);
});
