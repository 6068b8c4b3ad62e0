import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { connectPostgres, execute, type Database } from '../../../src/db/client.js';
import { ADVISORY_LOCKS, takeAdvisoryLock } from '../../../src/db/advisory-lock.js';
import { MIGRATIONS_DIR, migrate } from '../../../src/db/migrate.js';
import { createPostgresTestDb, createTestDb, type DbKind } from '../../support/db.js';
import { startStallProxy } from '../../support/stall-proxy.js';
import { hookedDatabase } from '../../support/statement-hooks.js';

const applied = async (database: Database) =>
  execute<{ hash: string; created_at: unknown }>(database.db, sql`select hash, created_at from "drizzle"."__drizzle_migrations" order by id`);

describe.each<DbKind>(['postgres', 'pglite'])('migrate on %s', (kind) => {
  let database: Database | undefined;
  afterEach(async () => {
    await database?.close();
    database = undefined;
  });

  it('leaves a database whose newest migration is applied as it is', async () => {
    database = await createTestDb(kind);
    const before = await applied(database);
    expect(before.length).toBeGreaterThan(0);
    await migrate(database);
    expect(await applied(database)).toEqual(before);
  }, 60_000);

  it('hands a database missing its newest migration to the migrator, which applies it', async () => {
    database = await createTestDb(kind);
    // The newest migration's row gone (its tables still there): the migrator runs that migration
    // again, and a statement of it fails on what exists — it was not skipped as up to date. The
    // failure names the newest migration's file and the database's own cause.
    await database.db.execute(sql`delete from "drizzle"."__drizzle_migrations" where created_at = (select max(created_at) from "drizzle"."__drizzle_migrations")`);
    const journal = JSON.parse(readFileSync(join(MIGRATIONS_DIR, 'meta', '_journal.json'), 'utf8')) as { entries: { tag: string }[] };
    const newest = journal.entries.at(-1)!.tag;
    await expect(migrate(database)).rejects.toThrow(new RegExp(`^Migrating the database failed in ${newest}\\.sql: .+ \\(PostgreSQL [0-9A-Z]{5}\\), at \``));
  }, 60_000);
});

describe('migrate on postgres, waiting for another process\'s migration', () => {
  it('does not say it goes on when its wait ended with the database gone: the error says what happened', async () => {
    const database = await createPostgresTestDb();
    const proxy = await startStallProxy();
    const other = postgres(database.url, { max: 1, onnotice: () => {} });
    const viaProxy = connectPostgres(proxy.urlFor(database.url), { max: 3 });
    const held = await other.reserve();
    try {
      // Something to apply (the newest migration's row gone), and the lock another session's.
      await database.db.execute(sql`delete from "drizzle"."__drizzle_migrations" where created_at = (select max(created_at) from "drizzle"."__drizzle_migrations")`);
      await held`select pg_advisory_lock(${ADVISORY_LOCKS.migrations})`;
      const notes: string[] = [];
      let waiting!: () => void;
      const saidWaiting = new Promise<void>((resolve) => (waiting = resolve));
      const migrating = migrate(viaProxy, { onWait: ({ text }) => { notes.push(text); waiting(); } });
      migrating.catch(() => {});
      await saidWaiting;
      proxy.set('down');
      await expect(migrating).rejects.toThrow();
      const [{ pid }] = await held<[{ pid: number }]>`select pg_backend_pid() as pid`;
      expect(notes).toHaveLength(1);
      expect(notes[0]).toMatch(new RegExp(`^waiting for another process to finish migrating this database \\(it holds the migration lock: server process ${pid}(, .+)?\\)…$`));
    } finally {
      held.release();
      await viaProxy.close();
      await other.end();
      await proxy.close();
      await database.close();
    }
  }, 60_000);
});

describe('migrate on postgres, the migration lock held by a session of this very process', () => {
  // After a lost connection the server keeps the session (and its lock) until it finds the connection
  // dead: the wait is for this process's own earlier session, and is said so — not "another process".
  it("says it waits for this process's own earlier session, and that it waited for it", async () => {
    const database = await createPostgresTestDb();
    try {
      // Something to apply (the newest migration's row gone), and the lock a session of this process's.
      await database.db.execute(sql`delete from "drizzle"."__drizzle_migrations" where created_at = (select max(created_at) from "drizzle"."__drizzle_migrations")`);
      const own = (await takeAdvisoryLock(database, ADVISORY_LOCKS.migrations, { wait: false }))!;
      const notes: string[] = [];
      let waiting!: () => void;
      const saidWaiting = new Promise<void>((resolve) => (waiting = resolve));
      const migrating = migrate(database, { onWait: ({ text }) => { notes.push(text); waiting(); } });
      migrating.catch(() => {});
      await saidWaiting;
      expect(notes).toHaveLength(1);
      expect(notes[0]).toMatch(/^waiting for the migration lock, held by this process's own earlier session \(server process \d+, since .+\) that the database has not let go of: /);
      expect(notes[0]).not.toContain('another process');
      await own.release();
      // The migration goes on (and fails on what exists: the newest migration's tables are there).
      await expect(migrating).rejects.toThrow(/^Migrating the database failed in /);
      expect(notes[1]).toMatch(/^waited \d+\.\d s for this process's own earlier session to let go of the migration lock; going on$/);
    } finally {
      await database.close();
    }
  }, 60_000);
});

describe('migrate on postgres, a failed migration whose session lives', () => {
  // The migration's statement fails (its session alive, holding the lock) and the check of that
  // session gets no answer (a slow server, a statement timeout): the lock must not stay with the
  // session, or every migration of the database, this process's next one too, waits on it for ever.
  it('leaves no migration lock when the database could not say whether its session holds it', async () => {
    const database = await createPostgresTestDb();
    let asked = 0;
    const hooked = hookedDatabase(database.url, [{
      match: /as held/,
      before: () => {
        asked++;
        throw new Error('canceling statement due to statement timeout');
      },
    }]);
    const other = postgres(database.url, { max: 1, onnotice: () => {} });
    const heldBy = async () => other<{ pid: number }[]>`
      select pid from pg_locks where locktype = 'advisory' and granted and objsubid = 1 and objid::bigint = ${ADVISORY_LOCKS.migrations}
        and database = (select oid from pg_database where datname = current_database())`;
    try {
      // Something to apply (the newest migration's row gone), whose statement fails on what exists.
      await database.db.execute(sql`delete from "drizzle"."__drizzle_migrations" where created_at = (select max(created_at) from "drizzle"."__drizzle_migrations")`);
      await expect(migrate(hooked)).rejects.toThrow(/^Migrating the database failed in /);
      expect(asked).toBe(1);
      expect(await heldBy()).toEqual([]);
      // Another connection takes the lock at once, and this process migrates again (failing the same way, not waiting).
      expect((await other<{ ok: boolean }[]>`select pg_try_advisory_lock(${ADVISORY_LOCKS.migrations}) as ok`)[0]!.ok).toBe(true);
      await other`select pg_advisory_unlock(${ADVISORY_LOCKS.migrations})`;
      await expect(migrate(hooked)).rejects.toThrow(/^Migrating the database failed in /);
      expect(await heldBy()).toEqual([]);
      // The pool kept its connections: a query on it answers.
      expect(await execute<{ one: number }>(hooked.db, sql`select 1 as one`)).toEqual([{ one: 1 }]);
    } finally {
      await other.end();
      await hooked.close();
      await database.close();
    }
  }, 60_000);
});
