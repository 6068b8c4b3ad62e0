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
  /**
   * Ends the lock's session from another connection of the pool when that session still holds the
   * lock (the same backend: its pid and start time), so the server frees the lock; the lock's own
   * connection is not touched (the pool takes it back when its socket closes). For a lock whose
   * session nobody could ask about: an unlock sent on a connection that may be dead is not safe.
   * Resolves once the lock is the session's no more (true when a session was ended); throws when the
   * database cannot answer.
   */
  endSession(): Promise<boolean>;
}

/**
 * The server sessions (pid and start time) this process took an advisory lock on and has not seen let
 * go of it: released, ended, or found gone. After a lost connection the server keeps such a session —
 * and its locks — until it finds the connection dead; a wait for the lock then waits for this process's
 * own earlier session, not another process (lockHolder says which).
 */
const ownSessions = new Set<string>();
const sessionKey = (pid: number, started: string) => `${pid}@${started}`;

export interface LockHolder {
  pid: number;
  started: string;
  /** A session this process opened that never let go of the lock (see ownSessions). */
  ours: boolean;
  applicationName: string | null;
  clientAddr: string | null;
}

/** Who holds `key` now (one read of pg_locks), or null: nobody, or the embedded database. */
export async function lockHolder(database: Database, key: number): Promise<LockHolder | null> {
  const client = clientOf(database);
  if (!client) return null;
  const rows = await client<Array<{ pid: number; started: string; app: string | null; addr: string | null }>>`
    select l.pid, a.backend_start::text as started, nullif(a.application_name, '') as app, a.client_addr::text as addr
    from pg_locks l join pg_stat_activity a on a.pid = l.pid
    where l.locktype = 'advisory' and l.granted and l.objsubid = 1
      and l.classid::bigint = ${Math.floor(key / 2 ** 32)} and l.objid::bigint = ${key % 2 ** 32}
      and l.database = (select oid from pg_database where datname = current_database())
    limit 1`;
  const row = rows[0];
  if (!row) return null;
  return { pid: row.pid, started: row.started, ours: ownSessions.has(sessionKey(row.pid, row.started)), applicationName: row.app, clientAddr: row.addr };
}

const NOOP: HeldLock = { release: async () => {}, stillHeld: async () => true, forget: () => {}, endSession: async () => false };

/** How long endSession waits for the ended session's backend to exit (and its locks to go). */
const END_SESSION_WAIT_MS = 2_000;

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
  let started: string;
  // The backend's start time with its pid: a pid alone may be another backend's after a restart.
  try {
    if (opts.wait) {
      const rows = await conn<{ pid: number; started: string }[]>`select pg_advisory_lock(${key}), pg_backend_pid() as pid, (select backend_start::text from pg_stat_activity where pid = pg_backend_pid()) as started`;
      ({ pid, started } = rows[0]!);
    } else {
      const rows = await conn<{ ok: boolean; pid: number; started: string }[]>`select pg_try_advisory_lock(${key}) as ok, pg_backend_pid() as pid, (select backend_start::text from pg_stat_activity where pid = pg_backend_pid()) as started`;
      if (!rows[0]?.ok) {
        conn.release();
        return null;
      }
      ({ pid, started } = rows[0]);
    }
  } catch (err) {
    conn.release();
    throw err;
  }
  let released = false;
  const session = sessionKey(pid, started);
  ownSessions.add(session);
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
      ownSessions.delete(session);
    },
    async endSession() {
      if (released) return false;
      const rows = await client<{ ended: boolean }[]>`
        select pg_terminate_backend(l.pid, ${END_SESSION_WAIT_MS}::bigint) as ended
        from pg_locks l join pg_stat_activity a on a.pid = l.pid
        where l.locktype = 'advisory' and l.granted and l.objsubid = 1
          and l.classid::bigint = ${Math.floor(key / 2 ** 32)} and l.objid::bigint = ${key % 2 ** 32}
          and l.pid = ${pid} and a.backend_start::text = ${started}`;
      // Not ended within the wait: the lock may be held still, so it is not dropped.
      if (rows[0] && !rows[0].ended) throw new Error(`the server process ${pid} holding lock ${key} did not end within ${END_SESSION_WAIT_MS} ms`);
      released = true;
      ownSessions.delete(session);
      return rows[0] !== undefined;
    },
    async release() {
      if (released) return;
      released = true;
      try {
        await conn`select pg_advisory_unlock(${key})`;
        // Not before: an unlock that failed (its connection lost) may leave the server holding it.
        ownSessions.delete(session);
      } finally {
        conn.release();
      }
    },
  };
}
