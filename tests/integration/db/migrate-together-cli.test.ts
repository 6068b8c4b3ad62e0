// Two `ctb migrate` on one fresh PostgreSQL database at once (`ctb start --role web` and `--role
// worker` started together migrate the same way): the second waits for the first, says so, then finds
// nothing to apply; both succeed and every migration is applied once. The window in which both would
// create the schema is held open by this test, not left to chance: a transaction of its own has
// created the first table and is left open until both processes are waiting, so two migrators that
// do not wait for each other are both stopped on that table, and both go on when it rolls back.
// And a migration that fails is named by PostgreSQL's cause, not by drizzle's wrapper (the whole
// statement and its empty parameters).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR } from '../../../src/db/migrate.js';
import { ctbChildInShell, ctbInShell } from '../../support/ctb-shell.js';
import { ADMIN_URL } from '../../support/db.js';

const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
const made: string[] = [];
const clients: postgres.Sql[] = [];

/** A new, empty database (not cloned from the migrated template): what `createdb` makes. */
async function freshDatabase(): Promise<string> {
  const name = `ctb_t_migrate_${randomBytes(4).toString('hex')}`;
  await admin.unsafe(`create database "${name}"`);
  made.push(name);
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

function connect(url: string): postgres.Sql {
  const client = postgres(url, { max: 1, onnotice: () => {} });
  clients.push(client);
  return client;
}

const journalEntries = (JSON.parse(readFileSync(join(MIGRATIONS_DIR, 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] }).entries.length;

afterEach(async () => {
  for (const client of clients.splice(0)) await client.end();
});
afterAll(async () => {
  for (const name of made) await admin.unsafe(`drop database if exists "${name}" with (force)`);
  await admin.end();
});

describe('ctb migrate on a fresh PostgreSQL database', { timeout: 120_000 }, () => {
  it('two started together both succeed: the second waits for the first, says so, and every migration is applied once', async () => {
    const url = await freshDatabase();
    const holder = await connect(url).reserve();
    await holder`begin`;
    await holder`create table bot_state (id integer)`;
    const [held] = await holder<{ pid: number }[]>`select pg_backend_pid() as pid`;
    const holderPid = held!.pid;
    const observer = connect(url);
    const first = ctbChildInShell(['migrate'], { DATABASE_URL: url });
    const second = ctbChildInShell(['migrate'], { DATABASE_URL: url });
    try {
      // Both processes waiting on a lock: on the open table, or one on the other's migration.
      for (;;) {
        const waiting = await observer<{ pid: number }[]>`
          select pid from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and pid <> ${holderPid}`;
        if (waiting.length >= 2) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      // One of them creates the schema; the other waits for it rather than creating it too.
      const creating = await observer<{ pid: number }[]>`
        select pid from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'
          and pid <> ${holderPid} and query like 'CREATE TABLE "bot_state"%'`;
      expect(creating).toHaveLength(1);
      // The one waiting says so once it has waited more than a moment (it waits until the rollback).
      const waitingLine = /^note: waiting for another process to finish migrating this database/;
      await Promise.any([first.stderrLine(waitingLine), second.stderrLine(waitingLine)]);
      await holder`rollback`;
    } finally {
      holder.release();
    }
    const [a, b] = await Promise.all([first.exited, second.exited]);
    const out = [first, second].map((c) => `${c.stdout()}${c.stderr()}`);
    expect({ a, b, out }).toMatchObject({ a: { code: 0 }, b: { code: 0 } });
    for (const c of [first, second]) expect(c.stdout()).toBe('migrations applied (postgres)\n');
    const waited = [first, second].filter((c) => /^note: waited \d+\.\d s for another process's migration of this database; going on$/m.test(c.stderr()));
    expect(waited).toHaveLength(1);
    const [applied] = await observer<{ rows: number; hashes: number }[]>`
      select count(*)::int as rows, count(distinct hash)::int as hashes from drizzle.__drizzle_migrations`;
    expect(applied).toEqual({ rows: journalEntries, hashes: journalEntries });
    const [tables] = await observer<{ n: number }[]>`select count(*)::int as n from pg_tables where schemaname = 'public' and tablename = 'bot_state'`;
    expect(tables!.n).toBe(1);
  });

  it("a migration that fails is named by PostgreSQL's cause, its file and statement, not the whole statement", async () => {
    const url = await freshDatabase();
    // A table of the first migration made by hand: its CREATE TABLE fails.
    await connect(url)`create table bot_state (id integer)`;
    const r = await ctbInShell(['migrate'], { DATABASE_URL: url });
    expect(r.code).toBe(1);
    const errorLine = r.stderr.split('\n').find((l) => l.startsWith('error:')) ?? '';
    expect(errorLine).toMatch(
      /^error: Migrating the database failed in 0000_init\.sql: relation "bot_state" already exists \(PostgreSQL 42P07\), at `CREATE TABLE "bot_state" \(…`\. .*none of them was applied/,
    );
    expect(r.stderr).not.toContain('Failed query');
    expect(r.stderr).not.toContain('"halted" boolean');
    expect(r.stderr).not.toContain('params:');
    const [drizzleSchema] = await connect(url)<{ n: number }[]>`select count(*)::int as n from drizzle.__drizzle_migrations`;
    expect(drizzleSchema!.n).toBe(0);
  });
});
