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
import { databaseUrlProblem } from './database-url.js';
import { acquireLock, readLock, refuseSecondBot, releaseLock } from './pglite-lock.js';
import { initialiseInChild, isInitialised, pgliteStartParams } from './pglite-start.js';
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

/**
 * PostgreSQL's built-in types that have an array type, as [type, its array type] OIDs: what
 * postgres.js's pg_type read finds for them (their OIDs are fixed: the same on every server). Types a
 * database makes (enums, domains, a table's row type) get OIDs of their own; this project makes no
 * enum or domain, and sends and reads no array of a row type.
 */
// prettier-ignore
const BUILT_IN_ARRAY_TYPES: ReadonlyArray<readonly [number, number]> = [
  [16, 1000], [17, 1001], [18, 1002], [19, 1003], [20, 1016], [21, 1005], [22, 1006], [23, 1007], [24, 1008], [25, 1009],
  [26, 1028], [27, 1010], [28, 1011], [29, 1012], [30, 1013], [114, 199], [142, 143], [600, 1017], [601, 1018], [602, 1019],
  [603, 1020], [604, 1027], [628, 629], [650, 651], [700, 1021], [701, 1022], [718, 719], [774, 775], [790, 791], [829, 1040],
  [869, 1041], [1033, 1034], [1042, 1014], [1043, 1015], [1082, 1182], [1083, 1183], [1114, 1115], [1184, 1185], [1186, 1187],
  [1266, 1270], [1560, 1561], [1562, 1563], [1700, 1231], [1790, 2201], [2202, 2207], [2203, 2208], [2204, 2209], [2205, 2210],
  [2206, 2211], [2275, 1263], [2950, 2951], [2970, 2949], [3220, 3221], [3614, 3643], [3615, 3645], [3642, 3644], [3734, 3735],
  [3769, 3770], [3802, 3807], [3904, 3905], [3906, 3907], [3908, 3909], [3910, 3911], [3912, 3913], [3926, 3927], [4072, 4073],
  [4089, 4090], [4096, 4097], [4191, 4192], [4451, 6150], [4532, 6151], [4533, 6152], [4534, 6153], [4535, 6155], [4536, 6157],
  [5038, 5039], [5069, 271],
];

type TypeParser = ((text: string) => unknown) & { array?: boolean };
type TypeSerializer = (value: unknown) => unknown;
interface ClientTypeOptions {
  fetch_types?: unknown;
  parsers?: Record<number, TypeParser | undefined>;
  serializers?: Record<number, TypeSerializer | undefined>;
  transform?: { undefined?: unknown };
  shared?: { typeArrayMap?: Record<string, number> };
}

/**
 * A client whose process runs one command: the built-in array types are registered as postgres.js
 * registers them once it has read pg_type (its addArrayType: the array's parser over the element's,
 * its serializer over the element's, the element's array type for sql.array()), and no connection
 * reads pg_type. That read held the command's first statement for a round trip and a catalogue scan
 * (and each connection that opened before it had finished read them too). Types the database makes
 * have no entry: an array of one would be read as its text and could not be sent, so a process that
 * needs one must read the types (a client that is not one-shot still does, once).
 */
function registerBuiltInArrayTypes(client: postgres.Sql): void {
  const options = client.options as unknown as ClientTypeOptions;
  const { parsers, serializers } = options;
  const map = options.shared?.typeArrayMap;
  if (options.fetch_types !== true || !parsers || !serializers || typeof map !== 'object' || map === null) return; // not the postgres.js this was written for: as it is
  for (const [oid, typarray] of BUILT_IN_ARRAY_TYPES) {
    if (parsers[typarray] && serializers[typarray]) continue;
    const parser = parsers[oid];
    map[oid] = typarray;
    parsers[typarray] = Object.assign((text: string) => parseArray(text, parser, typarray), { array: true });
    serializers[typarray] = (value: unknown) => serializeArray(value, serializers[oid], options, typarray);
  }
  options.fetch_types = false;
}

// postgres.js's arrayParser and arraySerializer (src/types.js, 3.4.9), which it does not export; a
// test compares them with postgres.js's own for every type above.
function parseArray(text: string, parser: TypeParser | undefined, typarray: number): unknown[] {
  return parseArrayLevel({ i: 0, last: 0, quoted: false, str: '', char: '', prev: '' }, text, parser, typarray);
}

interface ArrayParseState {
  i: number;
  last: number;
  quoted: boolean;
  str: string;
  char: string;
  prev: string;
}

function parseArrayLevel(s: ArrayParseState, x: string, parser: TypeParser | undefined, typarray: number): unknown[] {
  const xs: unknown[] = [];
  const delimiter = typarray === 1020 ? ';' : ','; // box[] alone is delimited by ';'
  const value = (v: string) => (parser ? parser(v) : v);
  for (; s.i < x.length; s.i++) {
    s.char = x[s.i]!;
    if (s.quoted) {
      if (s.char === '\\') {
        s.str += x[++s.i];
      } else if (s.char === '"') {
        xs.push(value(s.str));
        s.str = '';
        s.quoted = x[s.i + 1] === '"';
        s.last = s.i + 2;
      } else {
        s.str += s.char;
      }
    } else if (s.char === '"') {
      s.quoted = true;
    } else if (s.char === '{') {
      s.last = ++s.i;
      xs.push(parseArrayLevel(s, x, parser, typarray));
    } else if (s.char === '}') {
      s.quoted = false;
      if (s.last < s.i) xs.push(value(x.slice(s.last, s.i)));
      s.last = s.i + 1;
      break;
    } else if (s.char === delimiter && s.prev !== '}' && s.prev !== '"') {
      xs.push(value(x.slice(s.last, s.i)));
      s.last = s.i + 1;
    }
    s.prev = s.char;
  }
  if (s.last < s.i) xs.push(value(x.slice(s.last, s.i + 1)));
  return xs;
}

function serializeArray(xs: unknown, serializer: TypeSerializer | undefined, options: ClientTypeOptions, typarray: number): unknown {
  if (!Array.isArray(xs)) return xs;
  if (!xs.length) return '{}';
  const delimiter = typarray === 1020 ? ';' : ',';
  const first: unknown = xs[0];
  if (Array.isArray(first) && !(first as { type?: unknown }).type) {
    return '{' + xs.map((x: unknown) => serializeArray(x, serializer, options, typarray)).join(delimiter) + '}';
  }
  const element = (input: unknown): string => {
    let x = input;
    if (x === undefined) {
      x = options.transform?.undefined;
      if (x === undefined) throw Object.assign(new Error('UNDEFINED_VALUE: Undefined values are not allowed'), { code: 'UNDEFINED_VALUE' });
    }
    if (x === null) return 'null';
    const v = x as { type?: unknown; value?: unknown };
    const text = (serializer ? serializer(v.type ? v.value : x) : '' + (x as string)) as string;
    return '"' + text.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
  };
  return '{' + xs.map(element).join(delimiter) + '}';
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
  const db = drizzlePostgres(client) as unknown as Db;
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
    db: drizzlePostgres(client) as unknown as Db,
    kind: 'pglite',
    via: 'socket',
    close: () => client.end({ timeout: 5 }),
  };
}
