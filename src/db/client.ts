// Owns opening the database: PostgreSQL through postgres.js when DATABASE_URL is set, else the
// embedded PGlite under DATA_DIR (guarded by a lock; later processes go through the owner's socket).
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import type { SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { AppError } from '../errors.js';
import { databaseUrlProblem } from './database-url.js';
import { readArrayTypesOnce, registerBuiltInArrayTypes } from './postgres-array-types.js';
import { databaseSocket, ownSockets } from './postgres-sockets.js';
import { acquireLock, heldFromAnotherPidNamespace, isOwnLock, lockPath, readLock, refuseSecondBot, releaseLock, type LockInfo } from './pglite-lock.js';
import { initialiseInChild, isInitialised, pgliteDirOf, pgliteStartParams, useBaselineWasmCompiler, useLateWasmTierUp } from './pglite-start.js';
import { copyTemplate } from './pglite-template.js';

// drizzle() is given no schema: its relational layer (db.query) would build every table's relations
// at start, which each command paid before its first statement; queries use the select builder.
export type Db = PgDatabase<PgQueryResultHKT>;
export type DatabaseKind = 'pglite' | 'postgres';

export interface Database {
  db: Db;
  kind: DatabaseKind;
  /** How this process reaches it: directly, or through the running bot's socket. */
  via: 'direct' | 'socket';
  /**
   * `overdueMs` (PostgreSQL): how long connections still open (a query that never ends) are given
   * before they are destroyed; 5 s by default, shorter when the database is known not to answer.
   */
  close(opts?: { overdueMs?: number }): Promise<void>;
}

/** Rows of a raw db.execute(): PGlite returns {rows}, postgres.js an array. */
export function rowsOf<T = Record<string, unknown>>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

export async function execute<T = Record<string, unknown>>(db: Db, query: SQL): Promise<T[]> {
  return rowsOf<T>(await db.execute(query));
}


export interface ConnectOptions {
  max?: number;
  /**
   * The process runs one command and exits (the CLI): its connections are never replaced for age.
   * postgres.js's timer for that (every 30 to 60 minutes) holds the process until the server has
   * closed the socket; without it the process exits once its goodbye has left.
   */
  oneShot?: boolean;
}

/** Each pool connectPostgres opened: its URL, and how to end the probe connections opened beside it (closed with it). */
const pools = new WeakMap<Db, { url: string; probes: Set<() => void> }>();

export interface ProbeConnection {
  /** `select 1` on the probe's connection (opened when needed): whether the database answered. */
  ask(): Promise<boolean>;
  /** Destroys its connection at once (a query waiting on it fails); the next ask opens a fresh one. */
  destroy(): void;
}

/**
 * A connection of its own (not one of the pool's) for asking whether the database answers, which can
 * be destroyed: a query stuck on a dead connection (half-open TCP, a stalled proxy) holds it until
 * the OS gives up, and a pool's connection cannot be destroyed under the pool. Kept open between
 * asks (a fresh connection's start-up costs more than its query), its socket holding no process
 * open; ended when its pool is closed. Null for a database not opened by connectPostgres (the
 * embedded one).
 */
export function probeConnection(db: Db): ProbeConnection | null {
  const pool = pools.get(db);
  if (pool === undefined) return null;
  let client: ReturnType<typeof postgres> | null = null;
  const destroy = () => {
    // end() with no wait destroys the connection at once and fails its query. (A socket destroyed
    // under postgres.js would be connected again for a query still in its start-up.)
    void client?.end({ timeout: 0 }).catch(() => undefined);
    client = null;
  };
  pool.probes.add(destroy);
  return {
    ask() {
      if (client === null) {
        const sockets = ownSockets();
        const socket = (target: Parameters<typeof sockets.socket>[0]) => sockets.socket(target).unref();
        // No timers of postgres.js's own (idle, lifetime): they would hold the process.
        const options = { max: 1, onnotice: () => {}, connect_timeout: 10, fetch_types: false, idle_timeout: 0, max_lifetime: 0, socket };
        client = postgres(pool.url, options as Omit<typeof options, 'socket'>);
      }
      return client`select 1`.then(() => true, () => false);
    },
    destroy,
  };
}

export function connectPostgres(url: string, opts: ConnectOptions = {}): Database {
  const problem = databaseUrlProblem(url);
  if (problem) throw problem;
  const sockets = ownSockets();
  // `socket` is a postgres.js option its type declarations leave out.
  const options = { max: opts.max ?? 10, onnotice: () => {}, connect_timeout: 10, socket: sockets.socket, ...(opts.oneShot ? { max_lifetime: 0 } : {}) };
  const client = postgres(url, options as Omit<typeof options, 'socket'>);
  const db = drizzlePostgres(client) as unknown as Db;
  const probes = new Set<() => void>();
  pools.set(db, { url, probes });
  // After drizzle(), which gives the date and numeric arrays parsers of its own, as postgres.js's read
  // (on the first connection) comes after it too.
  if (opts.oneShot) registerBuiltInArrayTypes(client);
  else readArrayTypesOnce(client);
  return {
    db,
    kind: 'postgres',
    via: 'direct',
    // end() sends each idle connection's Terminate at once (a busy one's when its queries are done)
    // and resolves when the server has closed every socket. This resolves as soon as each Terminate
    // and FIN have left instead, and destroys what is still open after 5 s (a query that never
    // ends), or `overdueMs`. Timed here: end()'s own timer would hold the process until the server closed.
    close: async ({ overdueMs = 5_000 }: { overdueMs?: number } = {}) => {
      for (const end of probes) end();
      const ended = client.end();
      ended.catch(() => undefined); // raced below; it settles on its own once the server has closed
      let timer: NodeJS.Timeout | undefined;
      const overdue = new Promise<'overdue'>((resolve) => {
        timer = setTimeout(() => resolve('overdue'), overdueMs);
      });
      try {
        if ((await Promise.race([ended, sockets.terminated(), overdue])) === 'overdue') sockets.destroy();
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

function socketPathFor(dataDir: string): string {
  const preferred = join(resolve(dataDir), 'pglite.sock');
  if (preferred.length < 100) return preferred;
  const digest = createHash('sha1').update(preferred).digest('hex').slice(0, 12);
  return join(tmpdir(), `ctb-${digest}.sock`);
}

export interface OpenOptions {
  databaseUrl?: string | undefined;
  dataDir: string;
  /** Serve the embedded database to other processes (the bot does; a one-off CLI doesn't); its WebAssembly tiers up late (BOT_WASM_TIERING_FLAG). */
  serve?: boolean;
  /** The `ctb start` role of the serving process, written into the lock so others can name it. */
  role?: string;
  /**
   * The process runs one command and exits (ConnectOptions.oneShot). The embedded database it opens
   * itself runs on V8's baseline WebAssembly compiler only, validating only the functions it calls
   * (pglite-start.ts, ONE_SHOT_WASM_FLAGS).
   */
  oneShot?: boolean;
  /** When serving: how long a client may hold the session idle (PGLITE_IDLE_IN_TRANSACTION; pglite-serve.ts). */
  idleInTransactionMs?: number | undefined;
}

export async function openDatabase(opts: OpenOptions): Promise<Database> {
  if (opts.databaseUrl) return connectPostgres(opts.databaseUrl, { oneShot: opts.oneShot ?? false });
  return openEmbedded(opts.dataDir, opts.serve ?? false, opts.role, opts.idleInTransactionMs, opts.oneShot ?? false);
}

async function openEmbedded(
  dataDir: string, serve: boolean, role: string | undefined, idleInTransactionMs: number | undefined, oneShot: boolean,
): Promise<Database> {
  const owner = readLock(dataDir);
  if (serve) refuseSecondBot(dataDir, owner);
  if (owner && !isOwnLock(owner)) return connectThroughOwner(dataDir, owner);

  const socketPath = serve ? socketPathFor(dataDir) : null;
  if (!acquireLock(dataDir, socketPath, serve ? role : undefined)) {
    const now = readLock(dataDir);
    if (serve) refuseSecondBot(dataDir, now);
    return connectThroughOwner(dataDir, now);
  }
  const pgDir = pgliteDirOf(dataDir);
  mkdirSync(pgDir, { recursive: true });
  // Before PGlite compiles its WebAssembly, which this process alone runs from here on.
  if (oneShot) useBaselineWasmCompiler();
  else if (serve) useLateWasmTierUp();
  // PGlite (and drizzle's driver for it, which imports it) only when the embedded database is opened.
  const [{ PGlite }, { drizzle: drizzlePglite }] = await Promise.all([import('@electric-sql/pglite'), import('drizzle-orm/pglite')]);
  let pg: InstanceType<typeof PGlite>;
  try {
    const startParams = await pgliteStartParams();
    // A fresh directory: a copy of the build's migrated template, or initdb when there is none.
    if (!isInitialised(pgDir) && !copyTemplate(pgDir)) await initialiseInChild(pgDir, startParams);
    pg = await PGlite.create(pgDir, { startParams });
  } catch (err) {
    releaseLock(dataDir);
    throw new AppError('config', 'pglite_open_failed', `Could not open the embedded database in ${dataDir}/pglite.`, {
      hint: 'Check the directory is writable and not damaged, or set DATABASE_URL to use PostgreSQL.',
      cause: err,
    });
  }
  let server: { stop(): Promise<void> } | undefined;
  if (socketPath) {
    const { rmSync } = await import('node:fs');
    rmSync(socketPath, { force: true });
    const { createPgliteSocketServer } = await import('./pglite-serve.js');
    const s = createPgliteSocketServer({ pg, path: socketPath, maxConnections: 16, ...(idleInTransactionMs === undefined ? {} : { idleInTransactionMs }) });
    await s.start();
    server = s;
  }
  return {
    db: drizzlePglite(pg) as unknown as Db,
    kind: 'pglite',
    via: 'direct',
    close: async () => {
      await server?.stop();
      await pg.close();
      releaseLock(dataDir);
    },
  };
}

function connectThroughOwner(dataDir: string, owner: LockInfo | null): Database {
  const socketPath = owner?.socketPath ?? null;
  if (owner !== null && !socketPath && heldFromAnotherPidNamespace(owner)) {
    // Its pid cannot be checked from here: it may have died with its container.
    throw new AppError('conflict', 'pglite_busy', `The embedded database in ${dataDir} is held from another pid namespace (a container beside this one, or this one before a restart) by pid ${owner.pid}, which does not share it.`, {
      hint: `Whether it still runs cannot be seen from here: wait for it there, or, if nothing runs there, remove ${lockPath(dataDir)}.`,
    });
  }
  if (!socketPath) {
    throw new AppError('conflict', 'pglite_busy', owner === null
      ? `The embedded database in ${dataDir} was in use by another ctb process that does not share it.`
      : `The embedded database is in use by another ctb process (pid ${owner.pid}) that does not share it.`, {
      hint: 'Wait for it to finish, or run the bot (npm start) and use ctb while it runs.',
    });
  }
  // The owner's socket speaks the PostgreSQL protocol; postgres.js connects to a unix socket by path.
  // Its sockets are made here only so that their errors are marked as the database's (postgres-sockets.ts).
  const options = { path: socketPath, username: 'postgres', database: 'postgres', max: 1, onnotice: () => {}, connect_timeout: 10, socket: (target: { path?: string | false }) => databaseSocket().connect(target.path as string) };
  const client = postgres(options as Omit<typeof options, 'socket'>);
  readArrayTypesOnce(client);
  return {
    db: drizzlePostgres(client) as unknown as Db,
    kind: 'pglite',
    via: 'socket',
    close: () => client.end({ timeout: 5 }),
  };
}
