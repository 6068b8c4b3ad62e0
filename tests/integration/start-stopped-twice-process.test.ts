// `ctb start` sent SIGTERM and then SIGINT, back to back, once it runs (an operator's Ctrl-C after a
// supervisor's stop). Each signal used to stop the bot again: the second stop closed the database under
// the first, still stopping the engine ("could not release the engine lease; it goes stale and a
// standby takes over", the lease row left held), and "stopped after SIGINT" was logged before the bot
// had stopped. The second signal is said, and the one stop goes on.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { execute } from '../../src/db/client.js';
import { createPostgresTestDb, type TestDatabase } from '../support/db.js';
import { baseEnv, bot, killBotsAfterEach } from './engine-lease/one-engine-bots.js';

killBotsAfterEach();
const cleanups: Array<() => Promise<unknown> | void> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('ctb start stopped by SIGTERM then SIGINT', () => {
  it.each(['postgres', 'pglite'] as const)('stops once (%s): the engine lease released, one "stopped" line, no error', { timeout: 240_000 }, async (kind) => {
    const dir = mkdtempSync(join(tmpdir(), 'ctb-stopped-twice-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    let database: TestDatabase | undefined;
    if (kind === 'postgres') {
      database = await createPostgresTestDb();
      cleanups.push(() => database!.close());
    }
    // The first candle a second in, not an hour: the start banner waits (up to 5 s) for the engine's first pass.
    const b = bot(['start'], baseEnv(dir, { REPLAY_INTERVAL: '1s', ...(database ? { DATABASE_URL: database.url } : {}) }, { idle: true }), dir);
    await b.waitFor(/ctb running on port/, 120_000);
    await b.waitFor(/engine lease taken/);

    b.kill('SIGTERM');
    b.kill('SIGINT');
    expect(await b.exited).toBe(0);

    const output = b.output();
    // Sent back to back, either may be taken first (two signals pending at once are delivered lowest first).
    const [first, second] = output.includes('"signal":"SIGINT","msg":"stopping"') ? ['SIGINT', 'SIGTERM'] : ['SIGTERM', 'SIGINT'];
    const said = (pattern: RegExp) => output.split('\n').filter((line) => pattern.test(line)).length;
    expect(said(/"msg":"stopping"/)).toBe(1);
    // The second is said when it comes while the stop is under way; a stop that ended first (23 ms on
    // PGlite, seen) has nothing left to say of it: the process is exiting 0 either way.
    expect(said(new RegExp(`"msg":"${second} while stopping after ${first}: the stop under way goes on"`))).toBeLessThanOrEqual(1);
    expect(said(/"msg":"stopped after/)).toBe(1);
    expect(output).toMatch(new RegExp(`"msg":"stopped after ${first} in \\d+ ms"`));
    expect(output).toContain('engine lease released');
    // (Not every warning: a write of what the engine waits on, still in flight at the release, is a race of its own.)
    expect(output).not.toContain('could not release the engine lease');
    expect(output.split('\n').filter((line) => /"level":(50|60)/.test(line))).toEqual([]);
    if (database) expect(await execute(database.db, sql`select holder_id from engine_lease`)).toEqual([]);
  });
});
