// The watchdog_clocks rows (migration 0035) on both database kinds: replaced as a whole, emptied when
// nothing is owed, and written only for the process that holds the engine lease.
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../../src/db/client.js';
import { databaseNow } from '../../../src/db/queries/database-clock.js';
import { readWatchdogClocks, replaceWatchdogClocks } from '../../../src/db/queries/watchdog-clocks.js';
import { engineLease } from '../../../src/db/schema/index.js';
import { createTestDb, type DbKind } from '../../support/db.js';

describe.each<DbKind>(['postgres', 'pglite'])('watchdog clocks on %s', (kind) => {
  let database: Database | undefined;
  afterEach(async () => {
    await database?.close();
    database = undefined;
  });

  it('replaces the rows as a whole for the lease holder, writes nothing for another process, and empties them', async () => {
    database = await createTestDb(kind);
    const { db } = database;
    const at = new Date('2026-03-02T10:00:00Z');
    const later = new Date('2026-03-02T10:05:00Z');
    await db.insert(engineLease).values({ holderId: 'w:1:aa', host: 'w', pid: 1, role: 'worker', feed: 'kraken', armed: true, hasKrakenKeys: true, acquiredAt: at, heartbeatAt: at });
    const rows = [{ clock: 'deferred:reconcile_owed', at, begunBy: 'w:0' }, { clock: 'raised:reconcile_owed:failed', at: later, begunBy: 'w:1' }];

    expect(await replaceWatchdogClocks(db, { rows, writtenBy: 'w:1', holderId: 'w:1:aa' })).toBe(true);
    const read = await readWatchdogClocks(db);
    expect(read.sort((a, b) => a.clock.localeCompare(b.clock))).toEqual(rows.map((r) => ({ ...r, writtenBy: 'w:1', confirmedAt: expect.any(Date), confirmedAgoMs: expect.any(Number) })));

    expect(await replaceWatchdogClocks(db, { rows: [], writtenBy: 'x:2', holderId: 'x:2:bb' })).toBe(false);
    expect(await readWatchdogClocks(db)).toHaveLength(2);

    expect(await replaceWatchdogClocks(db, { rows: rows.slice(1), writtenBy: 'w:1', holderId: 'w:1:aa' })).toBe(true);
    expect(await readWatchdogClocks(db)).toEqual([expect.objectContaining({ clock: 'raised:reconcile_owed:failed' })]);
    // No lease kept (a process that is the only engine): written as it is.
    expect(await replaceWatchdogClocks(db, { rows: [], writtenBy: 'w:1', holderId: undefined })).toBe(true);
    expect(await readWatchdogClocks(db)).toEqual([]);
  }, 60_000);

  it("stamps confirmed_at with the database's now(), and reads how long ago on that clock", async () => {
    database = await createTestDb(kind);
    const { db } = database;
    const at = new Date('2020-01-01T00:00:00Z');
    expect(await replaceWatchdogClocks(db, { rows: [{ clock: 'deferred:reconcile_owed', at, begunBy: 'w:1' }], writtenBy: 'w:1', holderId: undefined })).toBe(true);
    const [fresh] = await readWatchdogClocks(db);
    const now = await databaseNow(db);
    expect(Math.abs(fresh!.confirmedAt.getTime() - now.getTime())).toBeLessThan(60_000);
    expect(fresh!.confirmedAgoMs).toBeLessThan(60_000);
    await db.execute(sql`update watchdog_clocks set confirmed_at = now() - interval '20 minutes'`);
    const [old] = await readWatchdogClocks(db);
    expect(old!.confirmedAgoMs).toBeGreaterThanOrEqual(20 * 60_000);
    expect(old!.confirmedAgoMs).toBeLessThan(21 * 60_000);
  }, 60_000);
});
