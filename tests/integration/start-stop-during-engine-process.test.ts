// An operator's (or systemd's) stop while `ctb start` is starting its part "engine": the part's start
// under way is waited for, and what it started stopped, before the database is closed. It used to be
// left running: "stopped after SIGTERM in 3 ms" was logged, and then its engine lease loop went on
// against the closed database ("could not try the engine lease; retrying", write CONNECTION_ENDED)
// until the start's 10 s bound ended the process. The engine part is held at a known point of its
// start by the git process it runs there (held-git.ts), so the stop comes during it, every run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { execute } from '../../src/db/client.js';
import { startBotProcess, type BotProcess } from '../support/bot-process.js';
import { createPostgresTestDb, type TestDatabase } from '../support/db.js';
import { freePort } from '../support/free-port.js';
import { holdGit, type HeldGit } from '../support/held-git.js';

/** Well under the start's 10 s bound (src/cli/commands/start.ts), which is how the stop used to end. */
const PROMPT_EXIT_MS = 5_000;

const cleanups: Array<() => Promise<unknown> | void> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('ctb start stopped while it starts its part "engine"', () => {
  it('exits at once, logs nothing after "stopped", and never holds the engine lease', { timeout: 180_000 }, async () => {
    const database: TestDatabase = await createPostgresTestDb();
    cleanups.push(() => database.close());
    const git: HeldGit = await holdGit();
    cleanups.push(() => git.close());
    const dir = mkdtempSync(join(tmpdir(), 'ctb-stop-engine-start-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const bot: BotProcess = startBotProcess(['start'], {
      PATH: git.path, HOME: dir, DATABASE_URL: database.url, MARKET_FEED: 'replay', PORT: String(await freePort()), HOST: '127.0.0.1',
      DATA_DIR: join(dir, 'data'), LOG_DIR: join(dir, 'logs'), LOG_LEVEL: 'info',
    }, dir);
    cleanups.push(async () => {
      bot.kill('SIGKILL');
      await bot.exited.catch(() => undefined);
    });

    // The engine part's start reads the release (`git describe`): held there until the stop is under way.
    const args = await Promise.race([git.called, bot.exited.then((code) => {
      throw new Error(`ctb start exited ${code} before its engine part ran git:\n${bot.output().slice(-3000)}`);
    })]);
    expect(args).toMatch(/^describe /);
    bot.kill('SIGTERM');
    const signalledAt = Date.now();
    await bot.waitFor(/"msg":"stopping"/);
    git.release();

    const exit = await Promise.race([
      bot.exited,
      new Promise<string>((resolve) => setTimeout(() => resolve(`still running ${PROMPT_EXIT_MS} ms after SIGTERM`), PROMPT_EXIT_MS).unref()),
    ]);
    const output = bot.output();
    expect(exit, output.slice(-3000)).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(PROMPT_EXIT_MS);
    expect(output).toMatch(/"msg":"stopped after SIGTERM in \d+ ms: stopped during the start, at the part \\"engine\\""/);
    // Nothing warned or failed after "stopped" (the lease loop's retries against the closed database did).
    const afterStopped = output.slice(output.indexOf('stopped after SIGTERM in'));
    expect(afterStopped.split('\n').filter((line) => /"level":(40|50|60)/.test(line))).toEqual([]);
    expect(output).not.toContain('could not try the engine lease');
    // The stop came before the engine's loop asked for the lease: it never took it, and no row is left.
    expect(output).not.toContain('engine lease taken');
    expect(await execute(database.db, sql`select holder_id from engine_lease`)).toEqual([]);
  });
});
