// Owns opening the database: PostgreSQL through postgres.js when DATABASE_URL is set, else the
// embedded PGlite under DATA_DIR (guarded by a lock; later processes go through the owner's socket).
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { Socket } from 'node:net';
import type { SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { AppError } from '../errors.js';
import * as schema from './schema/index.js';
import { databaseUrlProblem } from './database-url.js';
import { acquireLock, readLock, refuseSecondBot, releaseLock } from './pglite-lock.js';
import { initialiseInChild, isInitialised, pgliteStartParams } from './pglite-start.js';
import { copyTemplate } from './pglite-template.js';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;
export type DatabaseKind = 'pglite' | 'postgres';

export interface Database {
  db: Db;
  kind: DatabaseKind;
  /** How this process reaches it: directly, or through the running bot's socket. */
  via: 'direct' | 'socket';
  close(): Promise<void>;
}

/** Rows of a raw db.execute(): PGlite returns {rows}, postgres.js an array. */
export function rowsOf<T = Record<string, unknown>>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

export async function execute<T = Record<string, unknown>>(db: Db, query: SQL): Promise<T[]> {
  return rowsOf<T>(await db.execute(query));
}

/**
 * postgres.js reads the server's array types (a query over pg_type) on each new connection, though
 * what it reads belongs to the client: its parsers and serializers are shared by all its connections.
 * Once one connection has read them, the client's later connections skip that query. A cold command
 * whose statements run side by side opens several connections at once (ctb stats: five), and each
 * paid a round trip, and the server a catalogue scan, before its first statement. A connection that
 * starts before the first read has finished still reads them, as before.
 */
function readArrayTypesOnce(client: postgres.Sql): void {
  const options = client.options as unknown as { fetch_types?: unknown; shared?: { typeArrayMap?: Record<string, number> } };
  const read = options.shared?.typeArrayMap;
  if (options.fetch_types !== true || typeof read !== 'object' || read === null) return; // not the postgres.js this was written for: as it is
  Object.defineProperty(options, 'fetch_types', { configurable: true, enumerable: true, get: () => Object.keys(read).length === 0 });
}

interface SocketTarget {
  host: string[];
  port: number[];
  path?: string | false;
}

/**
 * postgres.js's sockets, made here as postgres.js makes them (the configured hosts in turn, or the
 * Unix socket's path; postgres.js writes its start-up message once connected), so that closing
 * the client can end when every connection's Terminate message and FIN have left, rather than when
 * the server has closed its end too: a backend exiting takes the server a few milliseconds, which
 * every `ctb` command waited for before it could exit. The server reads Terminate before the end
 * of the stream, so it sees an orderly goodbye; the socket goes on closing without holding the
 * process.
 */
function ownSockets(): { socket: (target: SocketTarget) => Socket; terminated(): Promise<void>; destroy(): void } {
  const open = new Set<Socket>();
  let next = 0;
  return {
    socket(target) {
      const s = new Socket();
      open.add(s);
      s.once('close', () => open.delete(s));
      if (target.path) return s.connect(target.path);
      const i = next++ % Math.max(target.port.length, 1);
      const host = target.host[i] ?? 'localhost';
      const port = target.port[i] ?? 5432;
      // postgres.js names the host for TLS and errors from these, as on its own sockets.
      Object.assign(s, { host, port });
      return s.connect(port, host);
    },
    destroy() {
      for (const s of open) s.destroy();
    },
    async terminated() {
      await Promise.all(
        [...open].map((s) => {
          if (s.destroyed || s.writableFinished) return s.unref();
          return new Promise<void>((resolve) => {
            const done = () => {
              s.off('finish', done).off('close', done);
              s.unref();
              resolve();
            };
            s.once('finish', done).once('close', done);
          });
        }),
      );
    },
  };
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

export function connectPostgres(url: string, opts: ConnectOptions = {}): Database {
  const problem = databaseUrlProblem(url);
  if (problem) throw problem;
  const sockets = ownSockets();
  // `socket` is a postgres.js option its type declarations leave out.
  const options = { max: opts.max ?? 10, onnotice: () => {}, connect_timeout: 10, socket: sockets.socket, ...(opts.oneShot ? { max_lifetime: 0 } : {}) };
  const client = postgres(url, options as Omit<typeof options, 'socket'>);
  readArrayTypesOnce(client);
  return {
    db: drizzlePostgres(client, { schema }) as unknown as Db,
    kind: 'postgres',
    via: 'direct',
    // end() sends each idle connection's Terminate at once (a busy one's when its queries are done)
    // and resolves when the server has closed every socket. This resolves as soon as each Terminate
    // and FIN have left instead, and destroys what is still open after 5 s (a query that never
    // ends). The 5 s are timed here: end()'s own timer would hold the process until the server closed.
    close: async () => {
      const ended = client.end();
      ended.catch(() => undefined); // raced below; it settles on its own once the server has closed
      let timer: NodeJS.Timeout | undefined;
      const overdue = new Promise<'overdue'>((resolve) => {
        timer = setTimeout(() => resolve('overdue'), 5_000);
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
  /** Serve the embedded database to other processes (the bot does; a one-off CLI doesn't). */
  serve?: boolean;
  /** The `ctb start` role of the serving process, written into the lock so others can name it. */
  role?: string;
  /** The process runs one command and exits (ConnectOptions.oneShot). */
  oneShot?: boolean;
}

export async function openDatabase(opts: OpenOptions): Promise<Database> {
  if (opts.databaseUrl) return connectPostgres(opts.databaseUrl, { oneShot: opts.oneShot ?? false });
  return openEmbedded(opts.dataDir, opts.serve ?? false, opts.role);
}

async function openEmbedded(dataDir: string, serve: boolean, role: string | undefined): Promise<Database> {
  const owner = readLock(dataDir);
  if (serve) refuseSecondBot(dataDir, owner);
  if (owner && owner.pid !== process.pid) return connectThroughOwner(owner.socketPath, owner.pid);

  const socketPath = serve ? socketPathFor(dataDir) : null;
  if (!acquireLock(dataDir, socketPath, serve ? role : undefined)) {
    const now = readLock(dataDir);
    if (serve) refuseSecondBot(dataDir, now);
    return connectThroughOwner(now?.socketPath ?? null, now?.pid ?? 0);
  }
  const pgDir = join(dataDir, 'pglite');
  mkdirSync(pgDir, { recursive: true });
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
    const s = createPgliteSocketServer({ pg, path: socketPath, maxConnections: 16 });
    await s.start();
    server = s;
  }
  return {
    db: drizzlePglite(pg, { schema }) as unknown as Db,
    kind: 'pglite',
    via: 'direct',
    close: async () => {
      await server?.stop();
      await pg.close();
      releaseLock(dataDir);
    },
  };
}

function connectThroughOwner(socketPath: string | null, pid: number): Database {
  if (!socketPath) {
    throw new AppError('conflict', 'pglite_busy', `The embedded database is in use by another ctb process (pid ${pid}) that does not share it.`, {
      hint: 'Wait for it to finish, or run the bot (npm start) and use ctb while it runs.',
    });
  }
  // The owner's socket speaks the PostgreSQL protocol; postgres.js connects to a unix socket by path.
  const client = postgres({ path: socketPath, username: 'postgres', database: 'postgres', max: 1, onnotice: () => {}, connect_timeout: 10 });
  readArrayTypesOnce(client);
  return {
    db: drizzlePostgres(client, { schema }) as unknown as Db,
    kind: 'pglite',
    via: 'socket',
    close: () => client.end({ timeout: 5 }),
  };
}
