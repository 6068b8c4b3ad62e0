// The command log's write is bounded (2 s) so a reply is never held up by a stalled database. What
// the log says at the bound must be true of the database: the row was sent and may still land, so
// "taking over 2 s to write …; the write goes on" (a warning) — and, once the database answers, how it ended.
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { recordCommand } from '../../commands/run-command.js';
import { ManualClock } from '../../src/clock.js';
import { connectPostgres, execute, type Database } from '../../src/db/client.js';
import { silentLogger } from '../../src/logger.js';
import { createPostgresTestDb, type TestDatabase } from '../support/db.js';
import { startStallProxy, type StallProxy } from '../support/stall-proxy.js';

let database: TestDatabase;
let proxy: StallProxy;
let viaProxy: Database;

beforeAll(async () => {
  database = await createPostgresTestDb();
  proxy = await startStallProxy();
  viaProxy = connectPostgres(proxy.urlFor(database.url), { max: 1 });
});
afterEach(() => {
  vi.restoreAllMocks();
});
afterAll(async () => {
  proxy?.set('forward');
  await viaProxy?.close();
  await proxy?.close();
  await database?.close();
});

function recordingLogger() {
  const logger = silentLogger();
  const lines: Array<{ level: 'error' | 'warn'; msg: string }> = [];
  for (const level of ['error', 'warn'] as const) {
    vi.spyOn(logger, level).mockImplementation(((...args: unknown[]) => void lines.push({ level, msg: String(args.find((a) => typeof a === 'string') ?? '') })) as never);
  }
  return { logger, lines };
}

const rowsFor = async (actor: string) => (await execute(database.db, sql`select result from command_log where actor = ${actor}`)).length;

describe('the command log write past its bound', { timeout: 30_000 }, () => {
  it('warns the write is still going on, then that it was written, when the stalled database answers late', async () => {
    proxy.set('forward');
    await execute(viaProxy.db, sql`select 1`); // connected before the stall
    const { logger, lines } = recordingLogger();
    proxy.set('stall');
    const started = Date.now();
    await recordCommand({ db: viaProxy.db, clock: new ManualClock(), logger }, { actor: { id: 'U-late', source: 'slack' }, command: 'pause', args: '', allowed: true, result: 'ok' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
    // A slow write is a warning (the row is still on its way), not an error: only a failed one is.
    expect(lines).toEqual([{ level: 'warn', msg: 'the command log entry is taking over 2 s to write (database busy or stalled); the reply goes out now and the write goes on' }]);
    expect(lines.some((l) => /could not write/.test(l.msg))).toBe(false);

    proxy.set('forward');
    await vi.waitFor(() => expect(lines).toHaveLength(2), { timeout: 10_000 });
    expect(lines[1]).toEqual({ level: 'warn', msg: 'the late command log entry was written' });
    expect(await rowsFor('U-late')).toBe(1); // what the log said last is what the database holds
  });

  it('says it could not write when the database refuses the row', async () => {
    proxy.set('forward');
    const { logger, lines } = recordingLogger();
    await recordCommand({ db: viaProxy.db, clock: new ManualClock(new Date('-010000-01-01T00:00:00Z')), logger }, { actor: { id: 'U-refused', source: 'slack' }, command: 'pause', args: '', allowed: true, result: 'ok' });
    expect(lines).toEqual([{ level: 'error', msg: 'could not write the command log' }]);
    expect(await rowsFor('U-refused')).toBe(0);
  });
});
