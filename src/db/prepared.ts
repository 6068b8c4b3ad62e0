// Owns running a hot statement as a named prepared statement. drizzle's db.execute() sends SQL
// unprepared: postgres.js does it in two round trips (describe, then bind/execute), PGlite parses,
// describes and plans it on every call, and PostgreSQL (native or in WASM) parses and plans it every
// time. A statement whose text never changes can instead be parsed once per connection (per PGlite
// session) and sent in one round trip (one call into PGlite), its plan kept by PostgreSQL. Inside a
// PGlite transaction, or on anything else, it runs as a plain execute.
import { Column, Name, noopEncoder, Param, SQL, StringChunk, Table } from 'drizzle-orm';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import type { PGlite } from '@electric-sql/pglite';
import { execute, type Db } from './client.js';

interface PostgresJsLike {
  unsafe(text: string, params: unknown[], opts: { prepare: boolean }): Promise<Iterable<unknown>> & {
    /** Hands each row to `each` as the driver reads it off the wire, instead of collecting them. */
    forEach(each: (row: unknown) => void): Promise<unknown>;
  };
  /** The pool's options (a pool's client has them; a transaction's has not). */
  options?: object;
}
interface DialectLike {
  sqlToQuery(query: SQL): { sql: string; params: unknown[] };
}

/** The postgres.js client behind a drizzle db or transaction (a transaction's is its reserved connection). */
function postgresJsOf(db: Db): PostgresJsLike | null {
  const client = (db as unknown as { session?: { client?: unknown } }).session?.client;
  const isPostgresJs = typeof client === 'function' && typeof (client as { unsafe?: unknown }).unsafe === 'function';
  return isPostgresJs ? (client as unknown as PostgresJsLike) : null;
}

/** What of PGlite's instance this file uses: its session's mutexes, its protocol calls and its type maps. */
type PgliteLike = Pick<PGlite, 'execProtocolStream' | 'runExclusive' | 'syncToFs' | 'serializers' | 'parsers'> & {
  _runExclusiveTransaction<T>(fn: () => Promise<T>): Promise<T>;
};

/** The PGlite instance itself behind a drizzle db (not a transaction's handle: that runs inside the instance's lock). */
function pgliteOf(db: Db): PgliteLike | null {
  const client = (db as unknown as { session?: { client?: unknown } }).session?.client as Partial<PgliteLike> | undefined;
  const ok = typeof client === 'object' && client !== null && typeof client.execProtocolStream === 'function'
    && typeof client.runExclusive === 'function' && typeof client._runExclusiveTransaction === 'function' && typeof client.syncToFs === 'function';
  return ok ? (client as PgliteLike) : null;
}

/**
 * Like execute(), prepared on postgres.js (also inside a transaction) and on a PGlite instance. Only
 * for statements whose text is the same every call (values as parameters, never spliced in).
 */
export async function executePrepared<T = Record<string, unknown>>(db: Db, query: SQL): Promise<T[]> {
  const dialect = (db as unknown as { dialect?: DialectLike }).dialect;
  if (dialect && preparable(db)) {
    const { sql, params } = queryOf(dialect, query);
    return executePreparedText<T>(db, sql, params);
  }
  return execute<T>(db, query);
}

/**
 * Whether executePreparedText can run on `db`: a postgres.js client (a pool's or a transaction's) or
 * a PGlite instance, not a PGlite transaction's handle.
 */
export function preparable(db: Db): boolean {
  return postgresJsOf(db) !== null || pgliteOf(db) !== null;
}

/**
 * A statement already rendered (`$1`, `$2` … as PostgreSQL's dialect renders them, with its
 * parameters), run as executePrepared runs one, for a hot statement whose text is built once and
 * kept: its parameters are all that is made per run. Only where `preparable(db)`.
 */
export async function executePreparedText<T = Record<string, unknown>>(db: Db, text: string, params: unknown[]): Promise<T[]> {
  const client = postgresJsOf(db);
  if (client) return Array.from(await client.unsafe(replanned(client.options ?? inTransactions, text), params, { prepare: true })) as T[];
  const pg = pgliteOf(db);
  if (pg) return executePreparedPglite<T>(pg, replanned(pg, text), params);
  throw new Error('executePreparedText needs a postgres.js client or a PGlite instance (see preparable)');
}

/**
 * Like executePrepared, but hands each row to `each` instead of returning them: on postgres.js as the
 * driver reads it off the wire, so a caller that turns every row into something else keeps only what
 * it makes (the driver's rows die young instead of surviving, and being copied by the collector, until
 * the last one has arrived); elsewhere once the statement has run.
 */
export async function forEachPrepared<T = Record<string, unknown>>(db: Db, query: SQL, each: (row: T) => void): Promise<void> {
  const dialect = (db as unknown as { dialect?: DialectLike }).dialect;
  const client = postgresJsOf(db);
  if (client && dialect) {
    const { sql, params } = queryOf(dialect, query);
    await client.unsafe(replanned(client.options ?? inTransactions, sql), params, { prepare: true }).forEach(each as (row: unknown) => void);
    return;
  }
  for (const row of await executePrepared<T>(db, query)) each(row);
}

/**
 * Per database (a postgres.js pool, a PGlite instance): runs of each statement text. A postgres.js
 * transaction's client does not lead back to its pool, so statements run in transactions are counted
 * together for the process.
 */
const runs = new WeakMap<object, Map<string, Runs>>();
/** A statement text's runs on one database, and the text it is prepared under now (kept: a hot statement's text is not made anew per run). */
interface Runs {
  n: number;
  generation: number;
  text: string;
}
const inTransactions = {};
/** A statement is prepared anew at this many runs, and again each time its runs double. */
export const FIRST_REPLAN = 256;

/**
 * The text to prepare `text` under now on the database `scope`: itself, then — from FIRST_REPLAN runs
 * there on, and anew each time its runs double — itself with a comment naming the generation, which
 * is a new statement to the server, planned on the tables as they are. PostgreSQL keeps a prepared
 * statement's generic plan, made after its first few runs, until something invalidates it (an
 * ANALYZE, which autovacuum runs only a minute or more later and PGlite never): a replay that starts
 * on empty tables otherwise scans the whole of order_intents at every order with the plan it made
 * when there were five, so an order got slower the more were written (a year's replay: 1 ms a
 * statement at the start, 8 ms at the end). Runs are counted per database, not per process: a
 * process that opens a second, empty database (a bench's next round, a test) would otherwise plan
 * there on empty tables and keep that plan until the count it reached on the first one doubled.
 */
export function replanned(scope: object, text: string): string {
  let counts = runs.get(scope);
  if (!counts) runs.set(scope, (counts = new Map()));
  let r = counts.get(text);
  if (!r) counts.set(text, (r = { n: 0, generation: 0, text }));
  const n = ++r.n;
  if (n < FIRST_REPLAN) return text;
  const generation = Math.floor(Math.log2(n / FIRST_REPLAN)) + 1;
  if (generation !== r.generation) {
    r.generation = generation;
    r.text = `${text}\n-- plan ${generation}`;
  }
  return r.text;
}

/** The statement's text and parameters, as the dialect's sqlToQuery gives them. */
export function queryOf(dialect: DialectLike, query: SQL): { sql: string; params: unknown[] } {
  return plainQuery(query) ?? dialect.sqlToQuery(query);
}

/**
 * The text and parameters of a statement made only of sql`` text, nested sql``, tables, names, lists
 * schema-named columns and plain values (strings, numbers, booleans, bigints, nulls) — what the
 * engine's hot statements are made of — exactly as PostgreSQL's dialect renders it (`$1`, `$2` … in
 * order; a list as `(a, b)`; a table as its quoted name, a column qualified by it), in one pass: the dialect's general renderer tests every
 * part against every kind it knows and builds an object for each, which cost a replay more per order
 * than building the statement itself. An untyped sql.param() of such a value or of an array (the
 * statements that write several rows at once, as arrays to unnest) is a parameter as the dialect
 * makes it. Anything else in it (a cased column, a typed parameter, a placeholder, a subquery,
 * inlined parameters, an object): null, and the dialect renders it.
 */
export function plainQuery(query: SQL): { sql: string; params: unknown[] } | null {
  const out: Rendered = { text: '', params: [] };
  return render([query], out) ? { sql: out.text, params: out.params } : null;
}

/** What render adds to: the statement's text so far (built by concatenation, which V8 keeps as a rope until read) and its parameters. */
interface Rendered {
  text: string;
  params: unknown[];
}

const TABLE_SCHEMA = Symbol.for('drizzle:Schema');
const TABLE_NAME = Symbol.for('drizzle:Name');
const TABLE_IS_ALIAS = Symbol.for('drizzle:IsAlias');
const quoteName = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** A value the dialect passes to the driver as it is: null, a primitive, or an array (of anything: the driver serializes it). */
const isPlainParam = (value: unknown): boolean => value === null || typeof value !== 'object' || Array.isArray(value);

function render(chunks: readonly unknown[], out: Rendered): boolean {
  const { params } = out;
  for (const chunk of chunks) {
    if (chunk === undefined) continue;
    if (chunk === null || typeof chunk === 'string' || typeof chunk === 'number' || typeof chunk === 'boolean' || typeof chunk === 'bigint') {
      params.push(chunk);
      out.text += `$${params.length}`;
      continue;
    }
    if (typeof chunk !== 'object') return false;
    const kind = Object.getPrototypeOf(chunk) as unknown;
    if (kind === StringChunk.prototype) {
      for (const part of (chunk as StringChunk).value) out.text += part;
    } else if (kind === SQL.prototype) {
      if ((chunk as unknown as { shouldInlineParams: boolean }).shouldInlineParams || !render((chunk as SQL).queryChunks, out)) return false;
    } else if (kind === Param.prototype && (chunk as Param).encoder === noopEncoder && isPlainParam((chunk as Param).value)) {
      params.push((chunk as Param).value);
      out.text += `$${params.length}`;
    } else if (kind === Name.prototype) {
      out.text += quoteName((chunk as Name).value);
    } else if (Array.isArray(chunk)) {
      out.text += '(';
      for (let i = 0; i < chunk.length; i++) {
        if (i > 0) out.text += ', ';
        if (!render([chunk[i]], out)) return false;
      }
      out.text += ')';
    } else if (chunk instanceof Table) {
      const table = chunk as unknown as Record<symbol, unknown>;
      const schema = table[TABLE_SCHEMA] as string | undefined;
      const name = table[TABLE_NAME] as string;
      const alias = table[TABLE_IS_ALIAS] as boolean | undefined;
      out.text += schema === undefined || alias ? quoteName(name) : `${quoteName(schema)}.${quoteName(name)}`;
    } else if (chunk instanceof Column && !chunk.keyAsName) {
      // A column named in the schema (no casing applies), qualified by its table as the dialect does.
      const table = chunk.table as unknown as Record<symbol, unknown>;
      const schema = table[TABLE_SCHEMA] as string | undefined;
      const qualifier = schema === undefined || table[TABLE_IS_ALIAS] ? '' : `${quoteName(schema)}.`;
      out.text += `${qualifier}${quoteName(table[TABLE_NAME] as string)}.${quoteName(chunk.name)}`;
    } else {
      return false;
    }
  }
  return true;
}

// PGlite's protocol and result parsing, loaded with PGlite itself (only when the embedded database is used).
let pgliteModule: Promise<typeof import('@electric-sql/pglite')> | undefined;

/** Per PGlite instance: statement text → its name there and the types of its parameters. */
const pgliteStatements = new WeakMap<object, Map<string, { name: string; paramTypes: number[] }>>();
let pgliteStatementCount = 0;
/** PostgreSQL's code for a prepared statement that does not exist (deallocated by someone else). */
const NO_SUCH_STATEMENT = '26000';

/**
 * Drizzle's execute() on PGlite reads timestamps, dates and intervals (and arrays of those and of
 * numerics) as text; these rows are read the same way.
 */
const AS_TEXT: Record<number, (value: string) => string> = Object.fromEntries([1114, 1184, 1186, 1082, 1231, 1115, 1185, 1187, 1182].map((oid) => [oid, (value: string) => value]));

async function executePreparedPglite<T>(pg: PgliteLike, text: string, params: unknown[]): Promise<T[]> {
  const { protocol, parse } = await (pgliteModule ??= import('@electric-sql/pglite'));
  const { serialize } = protocol;
  // The session's transaction mutex for the whole cycle, as PGlite's own query() takes it (a socket
  // client's cycle or transaction never interleaves with it), then its query mutex.
  return pg._runExclusiveTransaction(() => pg.runExclusive(async () => {
    let statements = pgliteStatements.get(pg);
    if (!statements) pgliteStatements.set(pg, (statements = new Map()));
    const run = async (): Promise<T[]> => {
      let statement = statements.get(text);
      if (!statement) {
        const name = `ctb_prepared_${++pgliteStatementCount}`;
        const described = await pg.execProtocolStream(concat([serialize.parse({ name, text }), serialize.describe({ type: 'S', name }), serialize.sync()]), { syncToFs: false });
        const description = described.find((m) => m.name === 'parameterDescription') as { dataTypeIDs?: number[] } | undefined;
        statement = { name, paramTypes: description?.dataTypeIDs ?? [] };
        statements.set(text, statement);
      }
      const types = statement.paramTypes;
      const values = params.map((v, i) => {
        if (v === null || v === undefined) return null;
        const serializer = pg.serializers[types[i]!];
        return serializer ? serializer(v) : String(v);
      });
      const messages = await pg.execProtocolStream(concat([
        serialize.bind({ statement: statement.name, values }), serialize.describe({ type: 'P' }), serialize.execute({}), serialize.sync(),
      ]), { syncToFs: false });
      const [result] = parse.parseResults(messages, pg.parsers, { rowMode: 'object', parsers: AS_TEXT });
      return (result?.rows ?? []) as T[];
    };
    try {
      try {
        return await run();
      } catch (err) {
        // Deallocated behind this cache's back (DEALLOCATE ALL from a client sharing the session): prepare again, once.
        if ((err as { code?: unknown }).code !== NO_SUCH_STATEMENT) throw err;
        statements.delete(text);
        return await run();
      }
    } catch (err) {
      // As drizzle's execute() reports a failed query (the database's error as its cause).
      throw new DrizzleQueryError(text, params, err as Error);
    } finally {
      await pg.syncToFs();
    }
  }));
}

function concat(parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
