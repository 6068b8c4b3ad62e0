// Owns equity snapshots: throttled to one per EQUITY_SNAPSHOT_INTERVAL of market time (one per candle
// in a replay) and written in batches, one prepared statement each, so a year-long replay stays fast;
// flushed by housekeeping, on a risk breach and on stop. The latest snapshot's peak is where the risk
// guard resumes after a restart. A full batch is written while the engine goes on (one write at a
// time): nothing in the engine reads snapshots back while it runs, and rows not yet committed were
// already at risk in a crash while they waited in memory for their batch to fill. Housekeeping,
// a breach and stop still wait until every row queued so far is committed.
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
  /** The batch being written without the engine waiting for it, if any. */
  #writing: Promise<void> | null = null;
  /** Why that write failed (its rows are queued again): thrown by the next flushIfFull or flush. */
  #failure: { err: unknown } | null = null;

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

  /**
   * Starts writing a full batch and returns without waiting for it, unless a write is already under
   * way (the rows wait for the next call). Throws a failed earlier write's error once; its rows stay
   * queued, in order, for the next write.
   */
  flushIfFull(): void {
    this.#throwFailure();
    if (this.#pending.length < BATCH || this.#writing) return;
    const batch = this.#pending.splice(0, BATCH);
    this.#writing = insertSnapshots(this.db, batch).catch((err: unknown) => {
      this.#pending = batch.concat(this.#pending);
      this.#failure = { err };
    }).finally(() => {
      this.#writing = null;
    });
  }

  /** Writes every queued row, after the write under way: resolves once all are committed. */
  async flush(): Promise<void> {
    await this.#writing;
    this.#throwFailure();
    while (this.#pending.length > 0) {
      const batch = this.#pending.slice(0, BATCH);
      await insertSnapshots(this.db, batch);
      this.#pending = this.#pending.slice(batch.length);
    }
  }

  #throwFailure(): void {
    const failure = this.#failure;
    if (!failure) return;
    this.#failure = null;
    throw failure.err;
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
