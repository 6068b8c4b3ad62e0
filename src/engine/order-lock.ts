// Owns the one lock around anything that changes orders: the engine's order path, and the kill
// switch's cancel-all. In-process it is a mutex (FIFO); on PostgreSQL it also takes an advisory lock,
// so a kill run from another process (ctb kill) waits for an order in flight and vice versa. Work
// that runs again on its own later (self-heal's resync) takes it only when free, and never queues.
import type { Database } from '../db/client.js';
import { ADVISORY_LOCKS, takeAdvisoryLock } from '../db/advisory-lock.js';

let tail: Promise<unknown> = Promise.resolve();
/** Who holds the in-process mutex or waits for it: the try form takes it only when nobody does. */
let holders = 0;

function withMutex<T>(fn: () => Promise<T>): Promise<T> {
  holders += 1;
  const run = tail.then(fn, fn);
  const done = () => {
    holders -= 1;
  };
  tail = run.then(done, done);
  return run;
}

/** What the order lock is given: the database (its advisory lock), and who hears of each wait for it. */
export interface OrderLockDeps {
  database: Database;
  /**
   * Told each time withOrderLock is asked for, before it waits: a test sees a waiter the moment it
   * asks, where one behind a holder that does not let go would wait unseen. Unset in the app.
   */
  orderLockAsked?: () => void;
}

/**
 * Runs `fn` holding the order lock. Not re-entrant: don't call it from inside itself.
 * `crossProcess: false` skips the advisory lock: the engine's paper orders, which touch no real
 * exchange, take only the in-process mutex (halted is still re-read inside it before every order).
 */
export function withOrderLock<T>(ctx: OrderLockDeps, fn: () => Promise<T>, opts: { crossProcess?: boolean } = {}): Promise<T> {
  ctx.orderLockAsked?.();
  return withMutex(async () => {
    const held = opts.crossProcess === false ? null : await takeAdvisoryLock(ctx.database, ADVISORY_LOCKS.orders, { wait: true });
    try {
      return await fn();
    } finally {
      await held?.release();
    }
  });
}

/**
 * Runs `fn` holding the order lock if it is free now — nobody in this process holds or waits for it,
 * nor (unless `crossProcess: false`) another process holds it — else returns `{ taken: false }` at
 * once, leaving nothing queued: for work that is tried again later, and must not wait behind an order
 * in flight (self-heal, whose later checks would never run).
 */
export async function tryOrderLock<T>(
  ctx: { database: Database }, fn: () => Promise<T>, opts: { crossProcess?: boolean } = {},
): Promise<{ taken: true; value: T } | { taken: false }> {
  if (holders > 0) return { taken: false };
  return withMutex(async () => {
    const held = opts.crossProcess === false ? null : await takeAdvisoryLock(ctx.database, ADVISORY_LOCKS.orders, { wait: false });
    if (opts.crossProcess !== false && held === null) return { taken: false };
    try {
      return { taken: true, value: await fn() };
    } finally {
      await held?.release();
    }
  });
}
