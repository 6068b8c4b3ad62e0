// A table held locked by another session, as on a stalled or busy database: every statement that
// needs a lock the held mode conflicts with waits until it is let go. Two forms: around a function
// (whileTableLocked), or held until the test releases it (holdTableLock), for a test that lets go
// halfway through and then checks what the waiters did.
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import type { Db } from '../../src/db/client.js';

/** PostgreSQL's table lock modes (`lock table … in <mode> mode`). */
export type TableLockMode =
  | 'access share' | 'row share' | 'row exclusive' | 'share update exclusive'
  | 'share' | 'share row exclusive' | 'exclusive' | 'access exclusive';

export interface TableLockOptions {
  /** Default `access exclusive`: even reads wait. `exclusive` lets plain reads through and holds writes. */
  mode?: TableLockMode;
}

export interface HeldTableLock {
  /** Lets the lock go (its transaction ends) and closes the session; safe to call more than once. */
  release(): Promise<void>;
}

/**
 * Takes `table` locked in another session and holds it until `release()`; resolves once it is held.
 * `on`: a URL (a session of its own, closed on release), or a pool the test already has (one of its
 * connections holds the lock, in a transaction).
 */
export async function holdTableLock(on: string | Db, table: string, opts: TableLockOptions = {}): Promise<HeldTableLock> {
  const locker = typeof on === 'string' ? postgres(on, { max: 1, onnotice: () => {}, connect_timeout: 2 }) : null;
  let letGo!: () => void;
  const held = new Promise<void>((resolve) => (letGo = resolve));
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  const statement = `lock table ${table} in ${opts.mode ?? 'access exclusive'} mode`;
  const hold = async (run: () => Promise<unknown>) => {
    await run();
    locked();
    await held;
  };
  const lock: Promise<unknown> = locker
    ? locker.begin((tx) => hold(() => tx.unsafe(statement)))
    : (on as Db).transaction((tx) => hold(() => tx.execute(sql.raw(statement))));
  let released: Promise<void> | undefined;
  const release = () => {
    released ??= (async () => {
      letGo();
      await lock.catch(() => {});
      await locker?.end({ timeout: 1 });
    })();
    return released;
  };
  try {
    await Promise.race([isLocked, lock]);
  } catch (err) {
    await release();
    throw err;
  }
  return { release };
}

/**
 * Runs `fn` while another session holds `table` locked (access exclusive unless `mode` says): every
 * statement that conflicts with the mode waits. The lock is let go when `fn` settles, whatever it did.
 */
export async function whileTableLocked<T>(on: string | Db, table: string, fn: () => Promise<T>, opts: TableLockOptions = {}): Promise<T> {
  const lock = await holdTableLock(on, table, opts);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
