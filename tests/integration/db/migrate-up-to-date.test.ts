import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { execute, type Database } from '../../../src/db/client.js';
import { MIGRATIONS_DIR, migrate } from '../../../src/db/migrate.js';
import { createTestDb, type DbKind } from '../../support/db.js';

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
