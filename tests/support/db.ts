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
import type { PGlite } from '@electric-sql/pglite';
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
 * A PGlite a file closed before, emptied, is used again when this process has one (see `spare`).
 */
export async function createPgliteTestDb(): Promise<Database> {
  // A Blob backed by the file, read once as PGlite unpacks it: `new Blob([readFileSync(...)])` copied
  // the 42 MB image twice first (about 0.3 CPU-s a database, most of it page faults).
  const entry = spare.pop() ?? { pg: (await pgliteDatabase(await openAsBlob(await ensurePgliteImage()))).pg, fingerprint: null };
  const database = await leaseOf(entry);
  await migrate(database);
  // A new one's schema as migrate() made it: what it must still be to be handed on.
  entry.fingerprint ??= await schemaFingerprint(entry.pg);
  return database;
}

/**
 * PGlite instances that test files closed, emptied and kept for the next file of this process (a
 * shared worker runs many files one after another): starting one from the image costs about 1.2
 * CPU-s, emptying one a few hundredths. One is kept only while its schema is still what migrate()
 * made (its fingerprint, read when it was new): a file that altered it (a migration test, a dropped
 * trigger) closes it for good.
 */
const spare: SparePglite[] = [];
interface SparePglite {
  pg: PGlite;
  /** Read once migrate() has run on it when new; null until then. */
  fingerprint: string | null;
}

/**
 * Everything of the database a test could change apart from rows: relations, columns, constraints,
 * indexes, triggers (and whether each is enabled), functions, the migrations applied, settings
 * stored for the database or a role, roles.
 */
const FINGERPRINT_SQL = `
  with ns as (select oid, nspname from pg_namespace
              where nspname not in ('pg_catalog', 'information_schema') and nspname not like 'pg\\_%')
  select md5(string_agg(item, E'\\n' order by item)) as fingerprint from (
    select format('rel %s.%s %s', ns.nspname, c.relname, c.relkind) as item from pg_class c join ns on ns.oid = c.relnamespace
    union all select format('col %s.%s %s %s %s %s', ns.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid))
      from pg_attribute a join pg_class c on c.oid = a.attrelid join ns on ns.oid = c.relnamespace
      left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
      where a.attnum > 0 and not a.attisdropped
    union all select format('con %s %s', conname, pg_get_constraintdef(co.oid)) from pg_constraint co join ns on ns.oid = co.connamespace
    union all select format('idx %s', pg_get_indexdef(i.indexrelid)) from pg_index i join pg_class c on c.oid = i.indexrelid join ns on ns.oid = c.relnamespace
    union all select format('trg %s %s %s', tgname, tgenabled, pg_get_triggerdef(t.oid)) from pg_trigger t where not tgisinternal
    union all select format('fn %s %s', p.oid::regprocedure, md5(p.prosrc)) from pg_proc p join ns on ns.oid = p.pronamespace
    union all select format('mig %s %s', hash, created_at) from drizzle.__drizzle_migrations
    union all select format('set %s %s %s', setdatabase, setrole, setconfig) from pg_db_role_setting
    union all select format('role %s', rolname) from pg_roles
  ) items`;

async function schemaFingerprint(pg: PGlite): Promise<string> {
  const { rows } = await pg.query<{ fingerprint: string }>(FINGERPRINT_SQL);
  return rows[0]!.fingerprint;
}

/**
 * A Database over the spare's PGlite for one file. close() hands the PGlite back: a transaction left
 * open is rolled back; unless the schema changed, every table is emptied (sequences restarted,
 * append-only triggers not fired: session_replication_role) and the session reset (DISCARD ALL:
 * settings, prepared statements, temporary tables, advisory locks, LISTEN). After close() this
 * Database refuses every query, so work a file left running cannot reach the next file's rows.
 */
async function leaseOf(entry: SparePglite): Promise<Database> {
  const { drizzle } = await import('drizzle-orm/pglite');
  let open = true;
  const client = new Proxy(entry.pg, {
    get(target, prop) {
      if (!open) throw new Error('this test database was closed (its PGlite went back to the spares for another file)');
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return {
    db: drizzle(client) as unknown as Database['db'],
    kind: 'pglite',
    via: 'direct',
    close: async () => {
      if (!open) return;
      open = false;
      const { pg } = entry;
      try {
        await pg.exec('rollback');
        if ((await schemaFingerprint(pg)) !== entry.fingerprint) throw new Error('schema changed');
        const { rows } = await pg.query<{ tables: string }>(`select string_agg(format('%I.%I', schemaname, tablename), ', ') as tables from pg_tables where schemaname = 'public'`);
        await pg.exec('set session_replication_role = replica');
        await pg.exec(`truncate ${rows[0]!.tables} restart identity cascade`);
        await pg.exec('discard all');
        spare.push(entry);
      } catch {
        await pg.close().catch(() => {});
      }
    },
  };
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
