// Owns PostgreSQL session-level advisory locks, held on a reserved connection of the pool: every
// order-changing section takes ORDERS (so a kill from another process never interleaves with an
// order). On the embedded database one process owns the data directory, so there is nothing to lock.
// Which process runs the engine is not decided here but by the engine lease (a row that names its
// holder: src/services/engine-lease), which holds whatever the connection layout.
import type { Sql } from 'postgres';
import type { Database } from './client.js';

export const ADVISORY_LOCKS = { orders: 727_101, metricsExporter: 727_102, migrations: 727_103 } as const;

export interface HeldLock {
  release(): Promise<void>;
  /**
   * Whether the lock's session still holds it, asked on another connection of the pool: false once
   * released or once that session died (database restart, killed backend). Throws when the
   * database cannot answer (then nobody knows).
   */
  stillHeld(): Promise<boolean>;
  /**
   * Drops a lock whose session died (stillHeld said false) without touching its connection: the pool
   * took that connection back when it closed, and a query sent on it crashes postgres.js.
   */
  forget(): void;
}

const NOOP: HeldLock = { release: async () => {}, stillHeld: async () => true, forget: () => {} };

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
  let pid: number;
  try {
    if (opts.wait) {
      const rows = await conn<{ pid: number }[]>`select pg_advisory_lock(${key}), pg_backend_pid() as pid`;
      pid = rows[0]!.pid;
    } else {
      const rows = await conn<{ ok: boolean; pid: number }[]>`select pg_try_advisory_lock(${key}) as ok, pg_backend_pid() as pid`;
      if (!rows[0]?.ok) {
        conn.release();
        return null;
      }
      pid = rows[0].pid;
    }
  } catch (err) {
    conn.release();
    throw err;
  }
  let released = false;
  return {
    async stillHeld() {
      if (released) return false;
      // A bigint key shows in pg_locks as classid (high 32 bits), objid (low 32 bits), objsubid 1.
      const rows = await client<{ held: boolean }[]>`
        select exists (select 1 from pg_locks where locktype = 'advisory' and granted and objsubid = 1
          and classid::bigint = ${Math.floor(key / 2 ** 32)} and objid::bigint = ${key % 2 ** 32} and pid = ${pid}) as held`;
      return rows[0]?.held === true;
    },
    forget() {
      released = true;
    },
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
