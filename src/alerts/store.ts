// Owns writing alerts into the outbox, in batches: every alert waiting when a write starts goes
// into one transaction (group commit), so an alert storm costs a few statements per batch, not
// per alert. In that transaction (one statement, db/queries/alerts-log-batch.ts): each fingerprint's live group is created or counted (one row per
// fingerprint, locked in fingerprint order so concurrent writers cannot deadlock), every event is
// appended, a Slack sync delivery is queued (one pending per group), and for a severity whose
// policy pages, the escalation timer is started.
import { channel } from 'node:diagnostics_channel';
import type { Db } from '../db/client.js';
import { insertAlertBatch } from '../db/queries/alerts-log-batch.js';
import type { Severity } from './types.js';

export const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

export interface StoredAlert {
  source: string;
  severity: Severity;
  title: string;
  fingerprint: string;
  details: Record<string, unknown>;
  test: boolean;
}

export interface PersistResult {
  groupId: number;
  eventId: number;
  newGroup: boolean;
  severity: Severity;
}

export interface TimedAlert {
  alert: StoredAlert;
  at: Date;
  /** The alert's own key (alert_events.raise_key), from its raise: it is stored at most once. */
  key?: string;
}

/** Persists a batch in one round trip and one commit (db/queries/alerts-log-batch.ts); results in input order. */
export async function persistAlerts(input: { db: Db; batch: TimedAlert[]; slackChannel: string | null }): Promise<PersistResult[]> {
  return insertAlertBatch(input.db, input.batch, input.slackChannel);
}

/** One batch's timing, published on WRITER_BATCHES when someone listens (bench/alerts.ts). */
export interface WriterBatchTiming {
  size: number;
  /** Batches already in flight when this one started (its commit overlaps theirs). */
  overlapping: number;
  /** Each alert's wait from persist() to its batch's start (ms), in batch order. */
  waitedMs: number[];
  /** From the batch's start to its commit answered (ms): its statement and its commit. */
  writeMs: number;
}

/** What a persist time is made of, batch by batch; nothing is measured or kept while nobody subscribes. */
export const WRITER_BATCHES = channel('ctb:alerts:writer-batch');

/**
 * Group-commit writer: alerts that arrive while the event loop is busy go into one batch, and up
 * to `maxInFlight` batches are written at once on separate connections, so a new alert never waits
 * for a whole earlier commit (its fsync) before its own write starts. PostgreSQL flushes the WAL of
 * concurrent commits together. Batches touching the same fingerprints still serialise on the
 * group rows (locked in fingerprint order, so they cannot deadlock); distinct ones overlap.
 * Each alert's promise resolves only when the transaction holding it has committed.
 */
export class AlertWriter {
  #queue: Array<TimedAlert & { resolve(r: PersistResult): void; reject(err: unknown): void; queuedAt: number }> = [];
  #inFlight = 0;
  #scheduled = false;

  constructor(
    private readonly write: (batch: TimedAlert[]) => Promise<PersistResult[]>,
    private readonly opts: { maxBatch?: number; maxInFlight?: number } = {},
  ) {}

  get inFlight(): number {
    return this.#inFlight;
  }

  persist(item: TimedAlert): Promise<PersistResult> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ ...item, resolve, reject, queuedAt: WRITER_BATCHES.hasSubscribers ? performance.now() : 0 });
      this.#schedule();
    });
  }

  /** Starts a batch once the current turn of the event loop is done (alerts raised together share it). */
  #schedule(): void {
    if (this.#scheduled || this.#inFlight >= (this.opts.maxInFlight ?? 4)) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#start();
    });
  }

  #start(): void {
    while (this.#queue.length > 0 && this.#inFlight < (this.opts.maxInFlight ?? 4)) {
      const batch = this.#queue.splice(0, this.opts.maxBatch ?? 500);
      const timed = WRITER_BATCHES.hasSubscribers;
      const startedAt = timed ? performance.now() : 0;
      const overlapping = this.#inFlight;
      this.#inFlight += 1;
      this.write(batch).then(
        (results) => {
          if (timed) {
            const timing: WriterBatchTiming = { size: batch.length, overlapping, waitedMs: batch.map((b) => startedAt - b.queuedAt), writeMs: performance.now() - startedAt };
            WRITER_BATCHES.publish(timing);
          }
          batch.forEach((b, i) => b.resolve(results[i]!));
        },
        (err: unknown) => batch.forEach((b) => b.reject(err)),
      ).finally(() => {
        this.#inFlight -= 1;
        if (this.#queue.length > 0) this.#schedule();
      });
    }
  }
}
