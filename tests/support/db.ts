// Real databases for tests: a fresh PostgreSQL database per call (cloned from a migrated template
// on this machine's server), or an in-memory PGlite with the same migrations.
import { createHash, randomBytes } from 'node:crypto';
import { openAsBlob, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { connectPostgres, type Database } from '../../src/db/client.js';
import { MIGRATIONS_DIR, migrate } from '../../src/db/migrate.js';
import { ensurePgliteImage, pgliteDatabase } from './pglite-image.js';

export const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

function migrationsHash(): string {
  const h = createHash('sha1');
  for (const f of readdirSync(MIGRATIONS_DIR).sort()) {
    if (f.endsWith('.sql')) h.update(f).update(readFileSync(join(MIGRATIONS_DIR, f)));
  }
  // The journal too: drizzle decides what is applied by each migration's `when`, so the same SQL
  // regenerated after a rebase (new `when`s) must not reuse a template migrated under the old ones.
  h.update(readFileSync(join(MIGRATIONS_DIR, 'meta', '_journal.json')));
  return h.digest('hex').slice(0, 10);
}

function urlFor(dbName: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${dbName}`;
  return u.toString();
}

async function ensureTemplate(admin: postgres.Sql): Promise<string> {
  const name = `ctb_tpl_${migrationsHash()}`;
  await admin`select pg_advisory_lock(727001)`;
  try {
    const exists = await admin`select 1 from pg_database where datname = ${name}`;
    if (exists.length === 0) {
      const building = `${name}_build_${randomBytes(3).toString('hex')}`;
      await admin.unsafe(`create database "${building}"`);
      const database = connectPostgres(urlFor(building), { max: 1 });
      await migrate(database);
      await database.close();
      await admin.unsafe(`alter database "${building}" rename to "${name}"`);
    }
  } finally {
    await admin`select pg_advisory_unlock(727001)`;
  }
  return name;
}

export interface TestDatabase extends Database {
  url: string;
  name: string;
}

/** A new, migrated PostgreSQL database, dropped by close(). */
export async function createPostgresTestDb(): Promise<TestDatabase> {
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  try {
    const template = await ensureTemplate(admin);
    const name = `ctb_t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
    await admin.unsafe(`create database "${name}" template "${template}"`);
    // Commits here do not wait for the WAL to reach the disk: each would otherwise wait for an fsync
    // (about 2 ms on a 2-core VM, and four times the backend's CPU of the commit itself). A test
    // database is thrown away after its file, and what a test checks (rows committed and visible to
    // every connection, the bot killed at any moment) does not depend on it: only a crash of the
    // PostgreSQL server can lose such a commit. Every connection to it inherits this, the bot and
    // `ctb` children too.
    await admin.unsafe(`alter database "${name}" set synchronous_commit = off`);
    const url = urlFor(name);
    const database = connectPostgres(url, { max: 5 });
    return {
      ...database,
      url,
      name,
      close: async () => {
        await database.close();
        // DROP DATABASE waits until every backend on the server has absorbed a signal barrier, and a
        // backend blocked writing to a client that does not read (any process's, on a shared server)
        // holds that up for as long as it is stuck. Dropping is clean-up, not what a test checks: after
        // a bounded wait the database is left behind (it is named, and dated by its name) and the file
        // goes on instead of failing its hook at the hook timeout.
        const dropper = postgres(ADMIN_URL, { max: 1, onnotice: () => {}, connection: { statement_timeout: 20_000 } });
        try {
          await dropper.unsafe(`drop database if exists "${name}" with (force)`);
        } catch (err) {
          process.stderr.write(`test database ${name} left behind: ${(err as Error).message}\n`);
        } finally {
          await dropper.end();
        }
      },
    };
  } finally {
    await admin.end();
  }
}

/**
 * A migrated in-memory PGlite: the embedded path a new user runs first. It starts from the image of a
 * fresh one migrated (pglite-image.ts), and migrate() runs on it as at every start of the bot.
 */
export async function createPgliteTestDb(): Promise<Database> {
  // A Blob backed by the file, read once as PGlite unpacks it: `new Blob([readFileSync(...)])` copied
  // the 42 MB image twice first (about 0.3 CPU-s a database, most of it page faults).
  const { database } = await pgliteDatabase(await openAsBlob(await ensurePgliteImage()));
  await migrate(database);
  return database;
}

export type DbKind = 'postgres' | 'pglite';
export const createTestDb = (kind: DbKind): Promise<Database> =>
  kind === 'postgres' ? createPostgresTestDb() : createPgliteTestDb();

/**
 * The usual set-up of a test file that shares one PostgreSQL database across its tests: created
 * before the first, dropped after the last, and `truncate` (table names) emptied before each test so
 * no test sees another's rows. Returns a getter (the database exists only once beforeAll has run).
 */
export function usePostgresTestDb(opts: { truncate?: string[] } = {}): () => TestDatabase {
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    database = await createPostgresTestDb();
  });
  afterAll(async () => {
    await database?.close();
  });
  if (opts.truncate && opts.truncate.length > 0) {
    const tables = opts.truncate.join(', ');
    beforeEach(async () => {
      await database!.db.execute(sql.raw(`truncate ${tables} restart identity`));
    });
  }
  return () => {
    if (!database) throw new Error('usePostgresTestDb: the database is created in beforeAll; use the getter inside a test or hook');
    return database;
  };
}

/** Tables an engine run writes to: emptied between engine tests. */
export const ENGINE_TABLES = ['order_intents', 'fills', 'trades', 'equity_snapshots', 'paper_balances', 'paper_orders', 'risk_events', 'bot_state'];
