// Owns which process exports the database-derived gauges. Every web and worker replica serves
// /metrics, and Prometheus scrapes each one: if all of them exported the ledger, `sum by (book)`
// would count every trade once per replica. So exactly one process exports them — the one holding
// the metrics-exporter advisory lock. It is not tied to the engine: while the engine is dead or hung
// another replica still reports the heartbeat's age (that is what the staleness alert reads). When
// the holder dies its session ends, PostgreSQL frees the lock, and the next replica scraped takes it.
// On the embedded database one process owns the data, so it always exports.
import { ADVISORY_LOCKS, takeAdvisoryLock, type HeldLock } from '../db/advisory-lock.js';
import type { Database } from '../db/client.js';
import type { Logger } from '../logger.js';

/** How long a scrape waits on the lock: a database that does not answer must not hang /metrics. */
const LOCK_WAIT_MS = 2000;

const within = <T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve('timeout'), ms);
    timer.unref?.();
    p.then((v) => { clearTimeout(timer); resolve(v); }, (e: unknown) => { clearTimeout(timer); reject(e); });
  });

export class MetricsExporterRole {
  #held: HeldLock | null = null;
  /** One attempt at the lock at a time; one that outlives a scrape is adopted when it lands. */
  #attempt: Promise<void> | null = null;
  #closed = false;

  constructor(private readonly database: Database, private readonly logger: Logger) {}

  /** True when this process exports the database gauges now; takes the role when it is free. */
  async isExporter(): Promise<boolean> {
    if (this.#closed) return false;
    if (this.#held) {
      const held = await within(this.#held.stillHeld(), LOCK_WAIT_MS).catch(() => 'unknown' as const);
      if (held === true) return true;
      // No answer: keep the lock (it is still ours if the session lives) but claim nothing this scrape.
      if (held !== false) return false;
      // Its session died (database restart, killed connection): the lock went with it, and another
      // replica may hold it now.
      this.#held.forget();
      this.#held = null;
      this.logger.warn('the metrics exporter lock was lost with its database session; trying to take it again');
    }
    this.#attempt ??= takeAdvisoryLock(this.database, ADVISORY_LOCKS.metricsExporter, { wait: false })
      .then(async (lock) => {
        if (this.#closed) await lock?.release();
        else this.#held = lock;
      })
      .catch((err: unknown) => this.logger.warn({ err }, 'could not try the metrics exporter lock'))
      .finally(() => {
        this.#attempt = null;
      });
    await within(this.#attempt, LOCK_WAIT_MS);
    return this.#held !== null;
  }

  /** Gives the role up (on stop), so another replica takes it at its next scrape. */
  async release(): Promise<void> {
    this.#closed = true;
    const held = this.#held;
    this.#held = null;
    await held?.release();
  }
}
