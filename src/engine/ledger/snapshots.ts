// Owns equity snapshots: throttled to one per EQUITY_SNAPSHOT_INTERVAL of market time and written in
// batches, so a year-long replay stays fast; flushed before every order and on stop. The latest
// snapshot's peak is where the risk guard resumes after a restart.
import { and, asc, desc, eq, gte } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { equitySnapshots, type EquitySnapshot } from '../../db/schema/index.js';
import type { FeedKind } from '../../market/types.js';
import type { Mode } from '../../services/bot-state.js';

export interface SnapshotRow {
  mode: Mode;
  feed: FeedKind;
  at: Date;
  equity: string;
  cash: string;
  peakEquity: string;
  drawdownPct: string;
}

const BATCH = 500;

export class SnapshotWriter {
  #pending: SnapshotRow[] = [];
  #lastAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly db: Db, private readonly intervalMs: number) {}

  /**
   * Queues a snapshot if `marketTime` (the candle's close) is an interval past the last one (or
   * `force`); the row, stamped by the caller, is built only then.
   */
  offer(marketTime: Date, build: () => SnapshotRow, force = false): boolean {
    const t = marketTime.getTime();
    if (!force && t - this.#lastAt < this.intervalMs) return false;
    this.#lastAt = t;
    this.#pending.push(build());
    return true;
  }

  get pendingCount(): number {
    return this.#pending.length;
  }

  async flushIfFull(): Promise<void> {
    if (this.#pending.length >= BATCH) await this.flush();
  }

  async flush(): Promise<void> {
    while (this.#pending.length > 0) {
      const batch = this.#pending.slice(0, BATCH);
      await this.db.insert(equitySnapshots).values(batch);
      this.#pending = this.#pending.slice(batch.length);
    }
  }
}

export async function latestSnapshot(db: Db, mode: Mode): Promise<EquitySnapshot | undefined> {
  const rows = await db.select().from(equitySnapshots).where(eq(equitySnapshots.mode, mode)).orderBy(desc(equitySnapshots.at), desc(equitySnapshots.id)).limit(1);
  return rows[0];
}

/** The first snapshot at or after `since` (the day's opening equity for the daily loss limit). */
export async function firstSnapshotSince(db: Db, mode: Mode, since: Date): Promise<EquitySnapshot | undefined> {
  const rows = await db.select().from(equitySnapshots)
    .where(and(eq(equitySnapshots.mode, mode), gte(equitySnapshots.at, since))).orderBy(asc(equitySnapshots.at), asc(equitySnapshots.id)).limit(1);
  return rows[0];
}
