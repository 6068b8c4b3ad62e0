// Owns the one lock around anything that changes orders: the engine's order path, and the kill
// switch's cancel-all. In-process it is a mutex (FIFO); on PostgreSQL it also takes an advisory lock,
// so a kill run from another process (ctb kill) waits for an order in flight and vice versa.
import type { Database } from '../db/client.js';
import { ADVISORY_LOCKS, takeAdvisoryLock } from '../db/advisory-lock.js';

let tail: Promise<unknown> = Promise.resolve();

function withMutex<T>(fn: () => Promise<T>): Promise<T> {
  const run = tail.then(fn, fn);
  tail = run.catch(() => undefined);
  return run;
}

/**
 * Runs `fn` holding the order lock. Not re-entrant: don't call it from inside itself.
 * `crossProcess: false` skips the advisory lock: the engine's paper orders, which touch no real
 * exchange, take only the in-process mutex (halted is still re-read inside it before every order).
 */
export function withOrderLock<T>(ctx: { database: Database }, fn: () => Promise<T>, opts: { crossProcess?: boolean } = {}): Promise<T> {
  return withMutex(async () => {
    const held = opts.crossProcess === false ? null : await takeAdvisoryLock(ctx.database, ADVISORY_LOCKS.orders, { wait: true });
    try {
      return await fn();
    } finally {
      await held?.release();
    }
  });
}
