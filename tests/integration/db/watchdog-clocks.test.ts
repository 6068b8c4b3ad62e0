// The watchdog_clocks rows (migration 0035) on both database kinds: replaced as a whole, emptied when
// nothing is owed, and written only for the process that holds the engine lease.
import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../../src/db/client.js';
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
    const confirmedAt = new Date('2026-03-02T10:05:00Z');
    await db.insert(engineLease).values({ holderId: 'w:1:aa', host: 'w', pid: 1, role: 'worker', feed: 'kraken', armed: true, hasKrakenKeys: true, acquiredAt: at, heartbeatAt: at });
    const rows = [{ clock: 'deferred:reconcile_owed', at, begunBy: 'w:0' }, { clock: 'raised:reconcile_owed:failed', at: confirmedAt, begunBy: 'w:1' }];

    expect(await replaceWatchdogClocks(db, { rows, writtenBy: 'w:1', confirmedAt, holderId: 'w:1:aa' })).toBe(true);
    const read = await readWatchdogClocks(db);
    expect(read.sort((a, b) => a.clock.localeCompare(b.clock))).toEqual(rows.map((r) => ({ ...r, writtenBy: 'w:1', confirmedAt })));

    expect(await replaceWatchdogClocks(db, { rows: [], writtenBy: 'x:2', confirmedAt, holderId: 'x:2:bb' })).toBe(false);
    expect(await readWatchdogClocks(db)).toHaveLength(2);

    expect(await replaceWatchdogClocks(db, { rows: rows.slice(1), writtenBy: 'w:1', confirmedAt, holderId: 'w:1:aa' })).toBe(true);
    expect(await readWatchdogClocks(db)).toEqual([expect.objectContaining({ clock: 'raised:reconcile_owed:failed' })]);
    // No lease kept (a process that is the only engine): written as it is.
    expect(await replaceWatchdogClocks(db, { rows: [], writtenBy: 'w:1', confirmedAt, holderId: undefined })).toBe(true);
    expect(await readWatchdogClocks(db)).toEqual([]);
  }, 60_000);
});
