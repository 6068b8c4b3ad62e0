import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { connectPostgres, execute, type Database } from '../../../src/db/client.js';
import { ADVISORY_LOCKS } from '../../../src/db/advisory-lock.js';
import { MIGRATIONS_DIR, migrate } from '../../../src/db/migrate.js';
import { createPostgresTestDb, createTestDb, type DbKind } from '../../support/db.js';
import { startStallProxy } from '../../support/stall-proxy.js';

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
      expect(notes).toEqual(['waiting for another process to finish migrating this database (it holds the migration lock)…']);
    } finally {
      held.release();
      await viaProxy.close();
      await other.end();
      await proxy.close();
      await database.close();
    }
  }, 60_000);
});
