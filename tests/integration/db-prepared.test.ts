// executePrepared runs a statement as a named prepared statement on postgres.js — on the pool and
// inside a transaction (its reserved connection) — and gives the same rows as execute().
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { execute, type Db } from '../../src/db/client.js';
import { executePrepared } from '../../src/db/prepared.js';
import { usePostgresTestDb } from '../support/db.js';

const database = usePostgresTestDb();

const probe = (n: number) => sql`select ${n}::int as n, 'prepared-probe' as tag`;

describe('executePrepared on PostgreSQL', () => {
  it('returns what execute() returns', async () => {
    expect(await executePrepared(database().db, probe(7))).toEqual(await execute(database().db, probe(7)));
  });

  it('prepares the statement once on the connection and reuses it, inside a transaction', async () => {
    const seen = await database().db.transaction(async (tx) => {
      const db = tx as unknown as Db;
      const rows = [...(await executePrepared<{ n: number }>(db, probe(1))), ...(await executePrepared<{ n: number }>(db, probe(2)))];
      const statements = await execute<{ name: string }>(db, sql`
        select name from pg_prepared_statements where statement like '%prepared-probe%' and not from_sql`);
      return { rows, statements };
    });
    expect(seen.rows.map((r) => r.n)).toEqual([1, 2]);
    expect(seen.statements).toHaveLength(1); // named, protocol-level, and the second call reused it
  });
});
