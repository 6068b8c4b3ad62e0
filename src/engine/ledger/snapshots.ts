// Owns equity snapshots: throttled to one per EQUITY_SNAPSHOT_INTERVAL of market time (one per candle
// in a replay) and written in batches, one prepared statement each, so a year-long replay stays fast;
// flushed by housekeeping, on a risk breach and on stop. The latest snapshot's peak is where the risk
// guard resumes after a restart.
import { and, asc, desc, eq, gte, sql } from 'drizzle-orm';
import { asyncCommitCte } from '../../db/async-commit.js';
import { executePrepared } from '../../db/prepared.js';
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

const BATCH = 2000;

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
      await insertSnapshots(this.db, batch);
      this.#pending = this.#pending.slice(batch.length);
    }
  }
}

/**
 * One statement for a batch: the rows as one JSON parameter (the statement text never changes, so
 * it is prepared once), instead of seven parameters a row. A paper-only batch commits without
 * waiting for the WAL flush, like the paper ledger beside it (db/async-commit.ts).
 */
async function insertSnapshots(db: Db, rows: SnapshotRow[]): Promise<void> {
  const json = JSON.stringify(rows.map((r) => [r.mode, r.feed, r.at.toISOString(), r.equity, r.cash, r.peakEquity, r.drawdownPct]));
  const paper = rows.every((r) => r.mode === 'paper');
  await executePrepared(db, sql`
    with ${paper ? sql`${asyncCommitCte},` : sql``} r as (select value as v from jsonb_array_elements(${json}::jsonb)),
    w as (insert into ${equitySnapshots} (mode, feed, at, equity, cash, peak_equity, drawdown_pct)
      select v->>0, v->>1, (v->>2)::timestamptz, (v->>3)::numeric, (v->>4)::numeric, (v->>5)::numeric, (v->>6)::numeric from r returning 1)
    select count(*)::int as n ${paper ? sql`, (select async_commit from s)` : sql``} from w`);
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
