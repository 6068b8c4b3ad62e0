import { ALONE_BY_CONSTRUCTION } from '../../src/engine/ledger/intent-lease.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execute } from '../../src/db/client.js';
import { trades } from '../../src/db/schema/index.js';
import { Engine } from '../../src/engine/engine.js';
import { runCli } from '../../src/cli/program.js';
import type { CliIo } from '../../src/cli/io.js';
import { PacedFeed } from '../../src/market/paced-feed.js';
import { createPostgresTestDb, type TestDatabase } from '../support/db.js';
import { candlesFrom, engineContext, maCross, roundTripCloses } from '../support/engine.js';

function captureIo(env: Record<string, string>): CliIo & { out: () => string } {
  let out = '';
  return {
    env: { LOG_LEVEL: 'error', LOG_DIR: join(tmpdir(), 'ctb-test-logs'), ...env },
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (out += s) },
    cwd: '/nonexistent-so-no-dotenv',
    out: () => out,
  };
}

describe('ctb validate-trades', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createPostgresTestDb();
    const { ctx, clock } = await engineContext(database);
    // Two round trips: two closed trades made by the engine.
    const closes = [...roundTripCloses(), ...roundTripCloses(60_300)];
    await new Engine({ lease: ALONE_BY_CONSTRUCTION, ctx, feed: new PacedFeed('replay', candlesFrom(closes), 0), strategies: [maCross()], marketClock: clock, stopWhenFeedEnds: true }).start();
    await ctx.close();
  });
  afterAll(async () => {
    await database?.close();
  });

  it('exits 0 when every closed trade the engine made is consistent', async () => {
    const io = captureIo({ DATABASE_URL: database.url });
    expect(await runCli(['validate-trades', '--json'], io)).toBe(0);
    const result = JSON.parse(io.out());
    expect(result).toMatchObject({ ok: true, offending: [] });
    expect(result.checked).toBeGreaterThanOrEqual(2);
  });

  it('exits 1 and names each offending trade with what is wrong', async () => {
    const [first, second] = await database.db.select().from(trades).where(eq(trades.status, 'closed')).orderBy(trades.id);
    await database.db.update(trades).set({ realizedPnl: sql`${trades.realizedPnl} + 1`, capitalBuffer: '-5' }).where(eq(trades.id, first!.id));
    await database.db.update(trades).set({ exitAt: new Date(second!.entryAt.getTime() - 60_000) }).where(eq(trades.id, second!.id));
    const io = captureIo({ DATABASE_URL: database.url });
    expect(await runCli(['validate-trades'], io)).toBe(1);
    const text = io.out();
    expect(text).toContain(`trade #${first!.id}`);
    expect(text).toMatch(/realized PnL .* does not match/);
    expect(text).toMatch(/capital_buffer is negative \(-5\)/);
    expect(text).toContain(`trade #${second!.id}`);
    expect(text).toMatch(/exit \(.*\) is before entry/);
  });

  it('flags a closed trade whose exit fills were lost', async () => {
    await execute(database.db, sql`delete from fills where intent_id = (select exit_intent_id from trades where status = 'closed' order by id limit 1)`);
    const io = captureIo({ DATABASE_URL: database.url });
    expect(await runCli(['validate-trades', '--json'], io)).toBe(1);
    expect(JSON.parse(io.out()).offending[0].problems).toContain('no fills are recorded for the exit order');
  });

  it('rejects unexpected arguments as a usage error (exit 2)', async () => {
    const io = captureIo({ DATABASE_URL: database.url });
    expect(await runCli(['validate-trades', '--bogus'], io)).toBe(2);
  });
});
