// executePrepared runs a statement as a named prepared statement on postgres.js — on the pool and
// inside a transaction (its reserved connection) — and on a PGlite instance, and gives the same rows
// (and the same errors) as execute().
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPostgres, execute, type Database, type Db } from '../../src/db/client.js';
import { executePrepared, FIRST_REPLAN } from '../../src/db/prepared.js';
import { createPgliteTestDb, usePostgresTestDb } from '../support/db.js';

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

  it('counts runs per database: a pool opened after another ran a statement FIRST_REPLAN times prepares it as new, planned on its own tables', async () => {
    const first = connectPostgres(database().url, { max: 1 });
    const second = connectPostgres(database().url, { max: 1 });
    try {
      const probe = (n: number) => sql`select ${n}::int as n, 'pool-replan-probe' as tag`;
      const prepared = async (db: Db) => (await execute<{ statement: string }>(db, sql`
        select statement from pg_prepared_statements where statement like '%pool-replan-probe%' and statement not like '%pg_prepared_statements%' and not from_sql`))
        .map((r) => (r.statement.includes('-- plan') ? 'replanned' : 'first'));
      for (let i = 1; i <= FIRST_REPLAN; i++) await executePrepared(first.db, probe(i));
      expect((await prepared(first.db)).sort()).toEqual(['first', 'replanned']);
      expect((await executePrepared<{ n: number }>(second.db, probe(1)))[0]?.n).toBe(1);
      expect(await prepared(second.db)).toEqual(['first']);
    } finally {
      await first.close();
      await second.close();
    }
  });
});

describe('executePrepared on PGlite', () => {
  let pglite: Database;
  beforeAll(async () => {
    pglite = await createPgliteTestDb();
  });
  afterAll(async () => {
    await pglite?.close();
  });
  // Every kind of value the engine reads back: numbers, numerics and timestamps (as drizzle's execute() gives them), nulls, json text.
  const typed = (n: number) => sql`
    select ${n}::int as n, ${String(n)}::numeric * 1.5 as amount, ${new Date(Date.UTC(2025, 0, n)).toISOString()}::timestamptz as at,
      null::text as nothing, ${`a'b ${n}`}::text as text, json_build_object('n', ${n}::int)::text as doc, (${n}::int > 1) as big, 'typed-probe' as tag`;

  it('returns what execute() returns, on the instance and inside a transaction', async () => {
    const { db } = pglite;
    expect(await executePrepared(db, typed(2))).toEqual(await execute(db, typed(2)));
    expect(await executePrepared(db, typed(3))).toEqual(await execute(db, typed(3)));
    const inTx = await db.transaction(async (tx) => executePrepared(tx as unknown as Db, typed(4)));
    expect(inTx).toEqual(await execute(db, typed(4)));
  });

  it('prepares the statement once in the session and reuses it; prepares it again once it is deallocated', async () => {
    const { db } = pglite;
    const named = () => execute<{ name: string }>(db, sql`select name from pg_prepared_statements where statement like '%pglite-probe%' and not from_sql`);
    const probe = (n: number) => sql`select ${n}::int as n, 'pglite-probe' as tag`;
    expect((await executePrepared<{ n: number }>(db, probe(1)))[0]?.n).toBe(1);
    expect((await executePrepared<{ n: number }>(db, probe(2)))[0]?.n).toBe(2);
    expect(await named()).toHaveLength(1);
    await execute(db, sql`deallocate all`);
    expect((await executePrepared<{ n: number }>(db, probe(3)))[0]?.n).toBe(3);
    expect(await named()).toHaveLength(1);
  });

  it('prepares a statement anew, planned on the tables as they are then, once it has run FIRST_REPLAN times and each time its runs double', async () => {
    const { db } = pglite;
    const probe = (n: number) => sql`select ${n}::int as n, 'replan-probe' as tag`;
    const prepared = async () => (await execute<{ statement: string }>(db, sql`
      select statement from pg_prepared_statements where statement like '%replan-probe%' and statement not like '%pg_prepared_statements%' and not from_sql`)).length;
    for (let i = 1; i < FIRST_REPLAN; i++) await executePrepared(db, probe(i));
    expect(await prepared()).toBe(1);
    expect((await executePrepared<{ n: number }>(db, probe(FIRST_REPLAN)))[0]?.n).toBe(FIRST_REPLAN);
    expect(await prepared()).toBe(2);
    for (let i = FIRST_REPLAN + 1; i < 2 * FIRST_REPLAN; i++) await executePrepared(db, probe(i));
    expect(await prepared()).toBe(2);
    expect((await executePrepared<{ n: number }>(db, probe(2 * FIRST_REPLAN)))[0]?.n).toBe(2 * FIRST_REPLAN);
    expect(await prepared()).toBe(3);
  });

  it('fails as execute() fails: the database error, with its code, as the cause', async () => {
    const { db } = pglite;
    await execute(db, sql`create table if not exists prepared_probe_unique (id int primary key)`);
    const insert = sql`insert into prepared_probe_unique (id) values (${1}::int)`;
    await executePrepared(db, insert);
    type Failure = Error & { cause?: { code?: string } };
    const failure = (p: Promise<unknown>) => p.then(() => null, (err: unknown) => err as Failure);
    const viaExecute = await failure(execute(db, insert));
    const viaPrepared = await failure(executePrepared(db, insert));
    expect(viaExecute).not.toBeNull();
    expect(viaPrepared).not.toBeNull();
    expect(viaPrepared!.constructor).toBe(viaExecute!.constructor);
    expect(viaPrepared!.cause?.code).toBe('23505');
    expect(viaExecute!.cause?.code).toBe('23505');
    // The session is usable afterwards.
    expect((await executePrepared<{ n: number }>(db, sql`select ${5}::int as n`))[0]?.n).toBe(5);
  });
});
