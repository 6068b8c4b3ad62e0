// Owns the watchdog_clocks rows: the self-heal watchdog's clocks of exchange work, read when a process
// starts doing that work (it holds the engine lease) and replaced as a whole when they change. Only the
// lease's holder writes them: a write names the holder it is made for, and is not made once another
// process holds the lease (a holder that lost it mid-pass must not put back what the new one cleared).
import { and, eq, getTableColumns, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { engineLease, watchdogClocks, type WatchdogClock } from '../schema/index.js';

export type { WatchdogClock };

/** A row, with how long ago it was confirmed on the database's clock (the one confirmed_at is written on). */
export type WatchdogClockRead = WatchdogClock & { confirmedAgoMs: number };

export async function readWatchdogClocks(db: Db): Promise<WatchdogClockRead[]> {
  return db.select({
    ...getTableColumns(watchdogClocks),
    confirmedAgoMs: sql<number>`(extract(epoch from (now() - ${watchdogClocks.confirmedAt})) * 1000)::float8`.mapWith(Number),
  }).from(watchdogClocks);
}

export interface WatchdogClocksWrite {
  rows: Array<Pick<WatchdogClock, 'clock' | 'at' | 'begunBy'>>;
  writtenBy: string;
  /** The engine lease's holder id this write is for; undefined in a process that runs no lease (it is the only engine). */
  holderId: string | undefined;
}

/** Replaces every row with `rows` (none: the work is done); false, writing nothing, when `holderId` does not hold the lease. */
export async function replaceWatchdogClocks(db: Db, write: WatchdogClocksWrite): Promise<boolean> {
  return db.transaction(async (tx) => {
    if (write.holderId !== undefined) {
      // Held for the transaction: a take-over of the lease waits until this write is in (or out).
      const held = await tx.select({ id: engineLease.id }).from(engineLease).where(and(eq(engineLease.id, 1), eq(engineLease.holderId, write.holderId))).for('share');
      if (held.length === 0) return false;
    }
    await tx.delete(watchdogClocks);
    if (write.rows.length > 0) {
      // Confirmed on the database's clock: whichever host reads them next judges their age on it, not on
      // its own clock, which may be minutes off the writer's.
      await tx.insert(watchdogClocks).values(write.rows.map((r) => ({ ...r, writtenBy: write.writtenBy, confirmedAt: sql`now()` })));
    }
    return true;
  });
}
