// Owns equity snapshots: throttled to one per EQUITY_SNAPSHOT_INTERVAL of market time (one per candle
// in a replay) and written in batches, one prepared statement each, so a year-long replay stays fast;
// flushed by housekeeping, on a risk breach and on stop. The latest snapshot's peak is where the risk
// guard resumes after a restart. A full batch is written while the engine goes on (one write at a
// time): nothing in the engine reads snapshots back while it runs, and rows not yet committed were
// already at risk in a crash while they waited in memory for their batch to fill. Housekeeping
// starts writing what is queued the same way (it waits only when the writes have fallen two batches
// behind); a breach, a mode change and stop still wait until every row queued so far is committed.
import type { Db } from '../../db/client.js';
import { insertSnapshots, SnapshotColumns, type SnapshotRow } from '../../db/queries/ledger-snapshots.js';

export type { SnapshotRow };

const BATCH = 2000;
/** A batch is of one book (SnapshotColumns.take): one of paper rows commits asynchronously. */
const isPaper = (batch: SnapshotColumns): boolean => batch.mode[0] !== 'live';
/** Rows queued at which housekeeping waits for the writes to catch up instead of starting one. */
const BEHIND = 2 * BATCH;

export class SnapshotWriter {
  /** Rows waiting, column by column (a replay queues one per candle). */
  #pending = new SnapshotColumns();
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
    if (!force && !this.due(marketTime)) return false;
    this.#lastAt = marketTime.getTime();
    const row = build();
    this.#pending.push(row);
    return true;
  }

  /** Whether a snapshot at `marketTime` would be taken (an interval past the last one). */
  due(marketTime: Date): boolean {
    return marketTime.getTime() - this.#lastAt >= this.intervalMs;
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
    this.#startWrite();
  }

  /**
   * Housekeeping's write: the rows queued so far start on their way without the engine waiting for
   * them (after the write under way, if any: then they wait for the next call). Once two batches or
   * more are queued, the database is slower than the feed: it waits until every row is committed,
   * as flush does, so the queue does not grow without end. Throws a failed earlier write's error once.
   */
  async writeBehind(): Promise<void> {
    if (this.#pending.length >= BEHIND) return this.flush();
    this.#throwFailure();
    if (this.#pending.length > 0 && !this.#writing) this.#startWrite();
  }

  /** Writes the next batch (at most BATCH rows, of one book) in the background, one write at a time. */
  #startWrite(): void {
    const batch = this.#pending.take(BATCH);
    this.#writing = insertSnapshots(this.db, batch, isPaper(batch)).catch((err: unknown) => {
      this.#pending.putBack(batch);
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
      const batch = this.#pending.take(BATCH);
      try {
        await insertSnapshots(this.db, batch, isPaper(batch));
      } catch (err) {
        this.#pending.putBack(batch);
        throw err;
      }
    }
  }

  #throwFailure(): void {
    const failure = this.#failure;
    if (!failure) return;
    this.#failure = null;
    throw failure.err;
  }
}
