// Test support: a PGlite test database closed by one file is emptied and handed to the next file of
// the same process (tests/support/db.ts). What the next file gets must be what a fresh one would be.
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { execute } from '../../../src/db/client.js';
import { createPgliteTestDb } from '../../support/db.js';

const count = async (db: Awaited<ReturnType<typeof createPgliteTestDb>>['db'], table: string) =>
  (await execute<{ n: number }>(db, sql.raw(`select count(*)::int as n from ${table}`)))[0]!.n;

describe('PGlite test databases used again', () => {
  it('comes back empty (its rows deleted, its tables\' files kept), identities restarted, session reset, and the closed one refuses queries', async () => {
    const first = await createPgliteTestDb();
    await execute(first.db, sql`insert into command_log (at, source, actor, command, args, allowed, result) values (now(), 'cli', 't', 'stats', '', true, 'ok')`);
    await execute(first.db, sql`insert into bot_state (id, halted) values (1, true)`);
    await execute(first.db, sql`set statement_timeout = 1234`);
    await execute(first.db, sql`select pg_advisory_lock(42)`);
    const [{ node: filenode }] = await execute<{ node: number }>(first.db, sql`select pg_relation_filenode('command_log')::int as node`) as [{ node: number }];
    await execute(first.db, sql`begin`);
    await first.close();
    await expect(execute(first.db, sql`select 1`)).rejects.toMatchObject({ cause: { message: expect.stringMatching(/test database was closed/) } });

    const second = await createPgliteTestDb();
    expect(await count(second.db, 'command_log')).toBe(0);
    // Emptied in place (rows deleted): a truncate would have written every table's file anew, about
    // ten times the CPU of deleting a file's few rows.
    const [kept] = await execute<{ node: number }>(second.db, sql`select pg_relation_filenode('command_log')::int as node`);
    expect(kept!.node).toBe(filenode);
    expect(await count(second.db, 'bot_state')).toBe(0);
    const [row] = await execute<{ timeout: string; locks: number }>(second.db, sql`select current_setting('statement_timeout') as timeout, (select count(*)::int from pg_locks where locktype = 'advisory') as locks`);
    expect(row).toEqual({ timeout: '0', locks: 0 });
    const [inserted] = await execute<{ id: number }>(second.db, sql`insert into command_log (at, source, actor, command, args, allowed, result) values (now(), 'cli', 't', 'stats', '', true, 'ok') returning id`);
    expect(Number(inserted!.id)).toBe(1);
    // command_log stays append-only for the file that uses it.
    await expect(execute(second.db, sql`truncate command_log`)).rejects.toThrow();
    await second.close();
  });

  it('a database whose schema a file changed is not handed on', async () => {
    const altered = await createPgliteTestDb();
    await execute(altered.db, sql`alter table bot_state add column extra int`);
    await altered.close();
    const next = await createPgliteTestDb();
    const columns = await execute<{ n: number }>(next.db, sql`select count(*)::int as n from information_schema.columns where table_name = 'bot_state' and column_name = 'extra'`);
    expect(columns[0]!.n).toBe(0);
    await next.close();
  });
});
