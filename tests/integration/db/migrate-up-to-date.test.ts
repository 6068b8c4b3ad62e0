import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { execute, type Database } from '../../../src/db/client.js';
import { migrate } from '../../../src/db/migrate.js';
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
    // again, and a statement of it fails on what exists — it was not skipped as up to date.
    await database.db.execute(sql`delete from "drizzle"."__drizzle_migrations" where created_at = (select max(created_at) from "drizzle"."__drizzle_migrations")`);
    await expect(migrate(database)).rejects.toThrow(/^Failed query: /);
  }, 60_000);
});
