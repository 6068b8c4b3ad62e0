// Owns PostgreSQL session-level advisory locks, held on a reserved connection of the pool: the engine
// worker holds ENGINE for its lifetime (only one engine trades against one database), and every
// order-changing section takes ORDERS (so a kill from another process never interleaves with an
// order). On the embedded database one process owns the data directory, so there is nothing to lock.
import type { Sql } from 'postgres';
import type { Database } from './client.js';

export const ADVISORY_LOCKS = { engine: 727_100, orders: 727_101 } as const;

export interface HeldLock {
  release(): Promise<void>;
}

const NOOP: HeldLock = { release: async () => {} };

function clientOf(database: Database): Sql | undefined {
  if (database.kind !== 'postgres') return undefined;
  const client = (database.db as unknown as { $client?: Sql }).$client;
  return client && typeof client.reserve === 'function' ? client : undefined;
}

/**
 * Takes `key`: waits for it when `wait`, else returns null if another session holds it.
 * A no-op holder on the embedded database.
 */
export async function takeAdvisoryLock(database: Database, key: number, opts: { wait: boolean }): Promise<HeldLock | null> {
  const client = clientOf(database);
  if (!client) return NOOP;
  const conn = await client.reserve();
  try {
    if (opts.wait) {
      await conn`select pg_advisory_lock(${key})`;
    } else {
      const rows = await conn<{ ok: boolean }[]>`select pg_try_advisory_lock(${key}) as ok`;
      if (!rows[0]?.ok) {
        conn.release();
        return null;
      }
    }
  } catch (err) {
    conn.release();
    throw err;
  }
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      try {
        await conn`select pg_advisory_unlock(${key})`;
      } finally {
        conn.release();
      }
    },
  };
}
