// Owns running a hot statement as a named prepared statement. drizzle's db.execute() sends SQL
// unprepared, which postgres.js does in two round trips (describe, then bind/execute) and
// PostgreSQL parses and plans every time; a statement whose text never changes can instead be
// parsed once per connection and sent in one round trip. PGlite (and anything else) runs it as a
// plain execute.
import type { SQL } from 'drizzle-orm';
import { execute, type Db } from './client.js';

interface PostgresJsLike {
  unsafe(text: string, params: unknown[], opts: { prepare: boolean }): Promise<Iterable<unknown>>;
  options?: unknown;
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

/**
 * Like execute(), prepared on postgres.js (also inside a transaction). Only for statements whose
 * text is the same every call (values as parameters, never spliced in).
 */
export async function executePrepared<T = Record<string, unknown>>(db: Db, query: SQL): Promise<T[]> {
  const client = postgresJsOf(db);
  const dialect = (db as unknown as { dialect?: DialectLike }).dialect;
  if (!client || !dialect) return execute<T>(db, query);
  const { sql, params } = dialect.sqlToQuery(query);
  return Array.from(await client.unsafe(sql, params, { prepare: true })) as T[];
}
