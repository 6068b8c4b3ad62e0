// Test support: a PostgreSQL test database closed by one file is emptied and handed to the next file
// (tests/support/db.ts) instead of dropped, since creating and dropping databases was a quarter of
// a test run's CPU. What the next file gets must be what a fresh clone of the template would be, and
// nothing the first file left running may reach it.
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { ADMIN_URL, createPostgresTestDb, dropSpareDatabases, emptyTablesSql, usePostgresTestDb, type TestDatabase } from '../../support/db.js';

// A pool of this file's own: no other file takes from it, so what comes back is what this file closed.
const POOL = `t${randomBytes(4).toString('hex')}`;
afterAll(() => dropSpareDatabases(POOL));

const one = async <T>(database: TestDatabase, query: string): Promise<T> => {
  const client = postgres(database.url, { max: 1, onnotice: () => {} });
  try {
    return (await client.unsafe(query))[0] as T;
  } finally {
    await client.end();
  }
};
const oidOf = (database: TestDatabase) => one<{ oid: number }>(database, `select oid::int from pg_database where datname = current_database()`).then((r) => r.oid);
const exists = async (oid: number): Promise<string | undefined> => {
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  try {
    return (await admin<Array<{ datname: string }>>`select datname from pg_database where oid = ${oid}`)[0]?.datname;
  } finally {
    await admin.end();
  }
};

describe('PostgreSQL test databases used again', () => {
  it('comes back as the same database, empty, identities restarted, commits still not waiting for the disk', async () => {
    const first = await createPostgresTestDb({ spares: POOL });
    const oid = await oidOf(first);
    await one(first, `insert into command_log (at, source, actor, command, args, allowed, result) values (now(), 'cli', 't', 'stats', '', true, 'ok'), (now(), 'cli', 't', 'stats', '', true, 'ok')`);
    await one(first, `insert into bot_state (id, halted) values (1, true)`);
    await first.close();
    expect(await exists(oid)).toMatch(/^ctb_p_/);

    const second = await createPostgresTestDb({ spares: POOL });
    expect(await oidOf(second)).toBe(oid);
    expect(await one(second, `select (select count(*)::int from command_log) as log, (select count(*)::int from bot_state) as state`)).toEqual({ log: 0, state: 0 });
    expect(await one(second, `insert into command_log (at, source, actor, command, args, allowed, result) values (now(), 'cli', 't', 'stats', '', true, 'ok') returning id::int`)).toEqual({ id: 1 });
    expect(await one(second, `show synchronous_commit`)).toEqual({ synchronous_commit: 'off' });
    // command_log is still append-only for the file that uses it: emptying did not leave its trigger off.
    await expect(one(second, `delete from command_log`)).rejects.toThrow();
    await second.close();
  });

  it('a session the file left open is ended, and nothing reconnects under the name the file used', async () => {
    const first = await createPostgresTestDb({ spares: POOL });
    const oid = await oidOf(first);
    let ended!: () => void;
    const endedUnderIt = new Promise<void>((resolve) => (ended = resolve));
    const left = postgres(first.url, { max: 1, onnotice: () => {}, idle_timeout: 0, onclose: () => ended() });
    await left`select 1`;
    await first.close();
    // Its connection was ended under it, and connecting again, under the name the file used, finds no database.
    await endedUnderIt;
    await expect(left`insert into bot_state (id, halted) values (1, true)`).rejects.toThrow(/does not exist/);
    await left.end();

    const second = await createPostgresTestDb({ spares: POOL });
    expect(await oidOf(second)).toBe(oid);
    expect(await one(second, `select count(*)::int as n from bot_state`)).toEqual({ n: 0 });
    await second.close();
  });

  it.each([
    ['a column added', `alter table bot_state add column extra int`],
    ['a trigger dropped', `drop trigger command_log_no_update_or_delete on command_log`],
    ['a privilege granted', `grant select on fills to public`],
    ['a setting stored for the database', `do $$ begin execute format('alter database %I set work_mem = %L', current_database(), '1MB'); end $$`],
  ])('a database with %s is dropped, not handed on', async (_what, change) => {
    const altered = await createPostgresTestDb({ spares: POOL });
    const oid = await oidOf(altered);
    await one(altered, change);
    await altered.close();
    // Left under a spare's name (nothing reaches it by the old one); the next file to take it finds it
    // changed and drops it, and gets a new clone.
    expect(await exists(oid)).toMatch(/^ctb_p_/);
    const next = await createPostgresTestDb({ spares: POOL });
    expect(await oidOf(next)).not.toBe(oid);
    expect(await exists(oid)).toBeUndefined();
    await next.close();
  });

  it('a database handed on is emptied over the next file\'s own connection: no session is opened on it for that', async () => {
    const sessions = async (oid: number) => {
      const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
      try {
        return (await admin<Array<{ n: number }>>`select sessions::int as n from pg_stat_database where datid = ${oid}`)[0]!.n;
      } finally {
        await admin.end();
      }
    };
    const first = await createPostgresTestDb({ spares: POOL });
    const oid = ((await first.db.execute(sql`select oid::int as oid from pg_database where datname = current_database()`)) as unknown as Array<{ oid: number }>)[0]!.oid;
    await first.db.execute(sql`insert into bot_state (id, halted) values (1, true)`);
    const before = await sessions(oid);
    await first.close();
    const second = await createPostgresTestDb({ spares: POOL });
    expect(await oidOf(second)).toBe(oid);
    expect(await second.db.execute(sql`select count(*)::int as n from bot_state`)).toEqual([{ n: 0 }]);
    await second.close();
    // Sessions are counted by the time they have ended (a rename waits for that): the second file's
    // pool's, the one oidOf opened, and the first's if not counted yet; closing took one of its own
    // as well before (4-5 here).
    expect((await sessions(oid)) - before).toBeLessThanOrEqual(3);
  });
});

describe('a file\'s PostgreSQL database emptied between its tests (usePostgresTestDb `truncate`)', () => {
  const database = usePostgresTestDb({ truncate: ['order_intents', 'bot_state'] });
  const intent = (clientOrderId: string) => `insert into order_intents (client_order_id, mode, feed, strategy, symbol, side, purpose, type, quantity, created_at, updated_at)
    values ('${clientOrderId}', 'paper', 'replay', 's', 'BTC/USD', 'buy', 'entry', 'market', 1, now(), now()) returning id::int`;
  const filenodes = () => one<{ intents: number; state: number }>(database(), `select pg_relation_filenode('order_intents')::int as intents, pg_relation_filenode('bot_state')::int as state`);
  let before: { intents: number; state: number } | undefined;

  it('a test leaves rows behind (and uses up identities)', async () => {
    before = await filenodes();
    await one(database(), `insert into bot_state (id, halted) values (1, true)`);
    expect(await one(database(), intent('a'))).toEqual({ id: 1 });
    expect(await one(database(), intent('b'))).toEqual({ id: 2 });
  });

  it('the next finds them gone and the identities restarted, as a truncate leaves them, the tables\' files kept (rows deleted, no file written anew)', async () => {
    expect(await one(database(), `select (select count(*)::int from order_intents) as intents, (select count(*)::int from bot_state) as state`)).toEqual({ intents: 0, state: 0 });
    expect(await one(database(), intent('c'))).toEqual({ id: 1 });
    expect(await filenodes()).toEqual(before);
  });

  it('emptied without restarting the identities (emptyTablesSql restartIdentity: false), as a plain truncate leaves them', async () => {
    await one(database(), intent('d'));
    await one(database(), emptyTablesSql(['order_intents'], { restartIdentity: false }));
    expect(await one(database(), `select count(*)::int as intents from order_intents`)).toEqual({ intents: 0 });
    expect(await one(database(), intent('e'))).toEqual({ id: 2 });
  });
});
