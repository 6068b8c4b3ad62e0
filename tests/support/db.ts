// Real databases for tests: a PostgreSQL database per call, as fresh as a clone of a migrated template
// on this machine's server (one another file closed, emptied, or a new clone), or an in-memory PGlite
// with the same migrations.
import { createHash, randomBytes } from 'node:crypto';
import { openAsBlob, readdirSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { connectPostgres, type Database } from '../../src/db/client.js';
import { MIGRATIONS_DIR, migrate } from '../../src/db/migrate.js';
import type { PGlite } from '@electric-sql/pglite';
import { ensurePgliteImage, pgliteDatabase } from './pglite-image.js';

import { ADMIN_URL } from './test-database-url.js';

export { ADMIN_URL };

function migrationsHash(): string {
  const h = createHash('sha1');
  for (const f of readdirSync(MIGRATIONS_DIR).sort()) {
    if (f.endsWith('.sql')) h.update(f).update(readFileSync(join(MIGRATIONS_DIR, f)));
  }
  // The journal too: drizzle decides what is applied by each migration's `when`, so the same SQL
  // regenerated after a rebase (new `when`s) must not reuse a template migrated under the old ones.
  h.update(readFileSync(join(MIGRATIONS_DIR, 'meta', '_journal.json')));
  // And the version of how a template is made: v2 records its schema's fingerprint as its comment.
  h.update('template-v2');
  return h.digest('hex').slice(0, 10);
}

function urlFor(dbName: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${dbName}`;
  return u.toString();
}

/**
 * One connection to the server's admin database per process, shared by every test database the
 * process creates and closes (a PostgreSQL connection costs the server some 30-45 ms of CPU to start,
 * and a file made three of its own for each database). It is held while a test database of the
 * process is open (the file's pool holds the process then anyway), and ended 2 s after the last one
 * closed; the next database (the next test, or the next file of a shared worker) within those 2 s
 * uses it again. While no database is open its socket and timer are unref'd: it never keeps a
 * process alive. Its statements are those of this file only, each on its own (no session setting or
 * lock is left between them).
 */
interface SharedAdmin {
  sql: postgres.Sql;
  sockets: Set<Socket>;
  users: number;
  idle: NodeJS.Timeout | undefined;
}
const SHARED_ADMIN = Symbol.for('ctb.tests.postgresAdmin');
const ADMIN_IDLE_MS = 2_000;
type WithSharedAdmin = typeof globalThis & { [SHARED_ADMIN]?: SharedAdmin };

function acquireAdmin(): postgres.Sql {
  const g = globalThis as WithSharedAdmin;
  let shared = g[SHARED_ADMIN];
  if (!shared) {
    const sockets = new Set<Socket>();
    // `socket` is a postgres.js option its type declarations leave out (as in src/db/client.ts).
    const socket = (target: { host: string[]; port: number[]; path?: string | false }) => {
      const s = target.path ? connect(target.path) : connect(target.port[0] ?? 5432, target.host[0] ?? 'localhost');
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
      if (g[SHARED_ADMIN]?.users === 0) s.unref();
      return s;
    };
    // No age limit: postgres.js's timer for it (30 to 60 minutes) would hold the process.
    const options = { max: 1, onnotice: () => {}, max_lifetime: 0, socket };
    shared = { sql: postgres(ADMIN_URL, options as Omit<typeof options, 'socket'>), sockets, users: 0, idle: undefined };
    g[SHARED_ADMIN] = shared;
  }
  clearTimeout(shared.idle);
  shared.idle = undefined;
  if (shared.users++ === 0) for (const s of shared.sockets) s.ref();
  return shared.sql;
}

function releaseAdmin(admin: postgres.Sql): void {
  const g = globalThis as WithSharedAdmin;
  const shared = g[SHARED_ADMIN];
  if (!shared || shared.sql !== admin) return;
  if (--shared.users > 0) return;
  for (const s of shared.sockets) s.unref();
  shared.idle = setTimeout(() => {
    if (g[SHARED_ADMIN] !== shared || shared.users > 0) return;
    g[SHARED_ADMIN] = undefined;
    shared.sql.end().catch(() => {});
  }, ADMIN_IDLE_MS);
  shared.idle.unref();
}

/** A template, once this process has found or built it: its name and its fingerprint (its comment). */
interface Template {
  name: string;
  fingerprint: string | null;
}
let template: Promise<Template> | undefined;

function templateOf(admin: postgres.Sql): Promise<Template> {
  template ??= (async () => {
    const name = await ensureTemplate(admin);
    const [described] = await admin<Array<{ fingerprint: string | null }>>`
      select shobj_description(oid, 'pg_database') as fingerprint from pg_database where datname = ${name}`;
    return { name, fingerprint: described?.fingerprint ?? null };
  })();
  template.catch(() => {
    template = undefined;
  });
  return template;
}

async function ensureTemplate(admin: postgres.Sql): Promise<string> {
  const name = `ctb_tpl_${migrationsHash()}`;
  await admin`select pg_advisory_lock(727001)`;
  try {
    const exists = await admin`select 1 from pg_database where datname = ${name}`;
    if (exists.length === 0) {
      const building = `${name}_build_${randomBytes(3).toString('hex')}`;
      await admin.unsafe(`create database "${building}"`);
      // As every clone is set (createPostgresTestDb), so that a clone's fingerprint is the template's.
      await admin.unsafe(`alter database "${building}" set synchronous_commit = off`);
      // Two connections: migrate() holds its lock on one and migrates on the other.
      const database = connectPostgres(urlFor(building), { max: 2 });
      await migrate(database);
      await database.close();
      const reader = postgres(urlFor(building), { max: 1, onnotice: () => {} });
      try {
        const [row] = await reader.unsafe<Array<{ fingerprint: string }>>(PG_FINGERPRINT_SQL);
        await reader.unsafe(`comment on database "${building}" is '${row!.fingerprint}'`);
      } finally {
        await reader.end();
      }
      await admin.unsafe(`alter database "${building}" rename to "${name}"`);
      // Emptied databases of other templates (migrations changed) are no use to anyone now.
      const stale = await admin<Array<{ datname: string }>>`select datname from pg_database where starts_with(datname, 'ctb_p_') and not starts_with(datname, ${name.replace(/^ctb_tpl_/, 'ctb_p_')})`;
      for (const { datname } of stale) await admin.unsafe(`drop database if exists "${datname}" with (force)`).catch(() => {});
    }
  } finally {
    await admin`select pg_advisory_unlock(727001)`;
  }
  return name;
}

// Emptied databases, used again. Creating a database from the template writes some 1,200 files and
// dropping it deletes them: on this ext4 host that file churn cost the PostgreSQL server about 90
// CPU-seconds of a test run (most of it the kernel searching its inode tables for a free inode past
// the recently deleted ones), a quarter of the run's CPU. A file's database is instead renamed
// `ctb_p_<template>_…` when it closes, and the next file takes it by renaming it again (a rename
// succeeds for exactly one taker, and never while any session is connected to the database) and
// empties it over its own pool's first connection: emptying it on close took a session of its own,
// a connection start (30-45 ms of the server's CPU here) for every file.

/**
 * Names of the emptied databases cloned from `template`, in the pool `pool`: `s`, shared by every
 * file, or a pool of a test's own (`spares` of createPostgresTestDb), which no other file takes from.
 */
function spareDatabasePrefix(template: string, pool = 's'): string {
  return `${template.replace(/^ctb_tpl_/, 'ctb_p_')}_${pool}_`;
}

/** Takes an emptied database of `template` and names it `name`: false when there is none to take. */
async function takeSpareDatabase(admin: postgres.Sql, template: string, name: string, pool?: string): Promise<boolean> {
  const spares = await admin<Array<{ datname: string }>>`
    select datname from pg_database where starts_with(datname, ${spareDatabasePrefix(template, pool)}) order by random() limit 8`;
  for (const { datname } of spares) {
    try {
      await admin.unsafe(`alter database "${datname}" rename to "${name}"`);
      return true;
    } catch {
      // Another file took it first (it no longer exists under that name): try the next.
    }
  }
  return false;
}

/**
 * Leaves a file's database for the next file, or returns false (the caller drops it). Every session
 * still on it is ended (a bot or `ctb` child a test left running), and it is renamed at once (a
 * rename succeeds only once no session is on it), so that nothing reconnects to it by the name the
 * file used: it keeps its rows until the next file takes it and empties it (emptyTakenDatabase) over
 * the first connection of its own pool, which is the first session on it under its new name.
 */
async function returnSpareDatabase(admin: postgres.Sql, template: string, name: string, pool?: string): Promise<boolean> {
  const spareName = `${spareDatabasePrefix(template, pool)}${randomBytes(6).toString('hex')}`;
  for (let attempt = 0; attempt < 20; attempt++) {
    await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${name} and pid <> pg_backend_pid()`;
    try {
      await admin.unsafe(`alter database "${name}" rename to "${spareName}"`);
      return true;
    } catch {
      // A session ended a moment ago is still leaving, or one came back: end it again.
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  return false;
}

/**
 * Makes a database taken from the spares what a fresh clone of the template is, over a connection
 * of the taker's pool (none other is on it: see returnSpareDatabase), or returns false (the caller
 * drops it): it is kept only if its schema, settings and grants are still the template's (its
 * fingerprint, recorded as the template's comment) and no prepared transaction is left in it; then
 * every table of `public` is emptied (append-only triggers not fired: session_replication_role) and
 * its sequences restarted. Rows are deleted, not truncated: a truncate writes a new file for every
 * table and index.
 */
async function emptyTakenDatabase(database: Database, fingerprint: string | null): Promise<boolean> {
  const client = (database.db as unknown as { $client?: postgres.Sql }).$client;
  if (!client || !fingerprint) return false;
  const session = await client.reserve();
  try {
    const [row] = await session.unsafe<Array<{ fingerprint: string; prepared: number }>>(
      `select (${PG_FINGERPRINT_SQL}) as fingerprint, (select count(*)::int from pg_prepared_xacts where database = current_database()) as prepared`,
    );
    if (row!.fingerprint !== fingerprint || row!.prepared !== 0) return false;
    await session.unsafe(EMPTY_PUBLIC_SQL);
    return true;
  } finally {
    session.release();
  }
}

/**
 * Drops a test database. DROP DATABASE waits until every backend on the server has absorbed a signal
 * barrier, and a backend blocked writing to a client that does not read (any process's, on a shared
 * server) holds that up for as long as it is stuck. Dropping is clean-up, not what a test checks:
 * after a bounded wait the database is left behind (it is named, and dated by its name) and the file
 * goes on instead of failing its hook at the hook timeout.
 */
async function dropTestDatabase(name: string): Promise<void> {
  const dropper = postgres(ADMIN_URL, { max: 1, onnotice: () => {}, connection: { statement_timeout: 20_000 } });
  try {
    await dropper.unsafe(`drop database if exists "${name}" with (force)`);
  } catch (err) {
    process.stderr.write(`test database ${name} left behind: ${(err as Error).message}\n`);
  } finally {
    await dropper.end();
  }
}

/** Drops the emptied databases of the pool `pool` (createPostgresTestDb's `spares`). */
export async function dropSpareDatabases(pool: string): Promise<void> {
  const admin = acquireAdmin();
  try {
    const prefix = spareDatabasePrefix((await templateOf(admin)).name, pool);
    const spares = await admin<Array<{ datname: string }>>`select datname from pg_database where starts_with(datname, ${prefix})`;
    for (const { datname } of spares) await admin.unsafe(`drop database if exists "${datname}" with (force)`);
  } finally {
    releaseAdmin(admin);
  }
}

/** Empties every table of `public` and restarts its sequences, as a clone of the template has them. */
const EMPTY_PUBLIC_SQL = `
  set session_replication_role = replica;
  do $$
  declare r record;
  begin
    for r in select format('%I.%I', schemaname, tablename) as t from pg_tables where schemaname = 'public' loop
      execute 'delete from ' || r.t;
    end loop;
    for r in select s.seqrelid, s.seqstart from pg_sequence s join pg_class c on c.oid = s.seqrelid
             join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' loop
      perform setval(r.seqrelid::regclass, r.seqstart, false);
    end loop;
  end $$;
  reset session_replication_role;`;

export interface TestDatabase extends Database {
  url: string;
  name: string;
}

/**
 * A new, migrated PostgreSQL database: a clone of the template, or one another file closed (see
 * returnSpareDatabase), emptied. close() leaves it for the next file, or drops it. `spares` names a
 * pool of the caller's own to take from and return to (a test of this; dropSpareDatabases clears it).
 */
export async function createPostgresTestDb(opts: { spares?: string } = {}): Promise<TestDatabase> {
  const admin = acquireAdmin();
  try {
    const template = await templateOf(admin);
    let name = '';
    let database: Database | undefined;
    for (let attempt = 0; attempt < 3 && !database; attempt++) {
      name = `ctb_t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
      if (!(await takeSpareDatabase(admin, template.name, name, opts.spares))) break;
      const taken = connectPostgres(urlFor(name), { max: 5 });
      let emptied = false;
      try {
        emptied = await emptyTakenDatabase(taken, template.fingerprint);
      } finally {
        if (emptied) database = taken;
        else {
          // Changed by the file that had it (its schema, a setting, a grant), or a transaction left
          // prepared in it: not what a clone of the template is. Nobody's now.
          await taken.close();
          await dropTestDatabase(name);
        }
      }
    }
    if (!database) {
      await admin.unsafe(`create database "${name}" template "${template.name}"`);
      // Commits here do not wait for the WAL to reach the disk: each would otherwise wait for an fsync
      // (about 2 ms on a 2-core VM, and four times the backend's CPU of the commit itself). A test
      // database is thrown away after its file, and what a test checks (rows committed and visible to
      // every connection, the bot killed at any moment) does not depend on it: only a crash of the
      // PostgreSQL server can lose such a commit. Every connection to it inherits this, the bot and
      // `ctb` children too.
      await admin.unsafe(`alter database "${name}" set synchronous_commit = off`);
      database = connectPostgres(urlFor(name), { max: 5 });
    }
    const url = urlFor(name);
    const opened = database;
    let closed = false;
    return {
      ...opened,
      url,
      name,
      close: async () => {
        if (closed) return;
        closed = true;
        try {
          await opened.close();
          if (!(await returnSpareDatabase(admin, template.name, name, opts.spares).catch(() => false))) await dropTestDatabase(name);
        } finally {
          releaseAdmin(admin);
        }
      },
    };
  } catch (err) {
    releaseAdmin(admin);
    throw err;
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

/** Items of a schema fingerprint that PGlite and PostgreSQL share (`ns`: the schemas of the database). */
const SCHEMA_ITEMS = `
    select format('rel %s.%s %s', ns.nspname, c.relname, c.relkind) as item from pg_class c join ns on ns.oid = c.relnamespace
    union all select format('col %s.%s %s %s %s %s', ns.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid))
      from pg_attribute a join pg_class c on c.oid = a.attrelid join ns on ns.oid = c.relnamespace
      left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
      where a.attnum > 0 and not a.attisdropped
    union all select format('con %s %s', conname, pg_get_constraintdef(co.oid)) from pg_constraint co join ns on ns.oid = co.connamespace
    union all select format('idx %s', pg_get_indexdef(i.indexrelid)) from pg_index i join pg_class c on c.oid = i.indexrelid join ns on ns.oid = c.relnamespace
    union all select format('trg %s %s %s', tgname, tgenabled, pg_get_triggerdef(t.oid)) from pg_trigger t where not tgisinternal
    union all select format('fn %s %s', p.oid::regprocedure, md5(p.prosrc)) from pg_proc p join ns on ns.oid = p.pronamespace
    union all select format('mig %s %s', hash, created_at) from drizzle.__drizzle_migrations`;
const SCHEMAS = `ns as (select oid, nspname from pg_namespace
              where nspname not in ('pg_catalog', 'information_schema') and nspname not like 'pg\\_%')`;

/**
 * Everything of the database a test could change apart from rows: relations, columns, constraints,
 * indexes, triggers (and whether each is enabled), functions, the migrations applied, settings
 * stored for the database or a role, roles.
 */
const FINGERPRINT_SQL = `
  with ${SCHEMAS}
  select md5(string_agg(item, E'\\n' order by item)) as fingerprint from (${SCHEMA_ITEMS}
    union all select format('set %s %s %s', setdatabase, setrole, setconfig) from pg_db_role_setting
    union all select format('role %s', rolname) from pg_roles
  ) items`;

/**
 * The same for one database of a PostgreSQL server, whose other databases and roles belong to
 * others: its own stored settings (not its oid), and, in place of the server's roles, what this
 * database grants and owns: the privileges and owners of its relations, schemas and the database
 * itself, default privileges, row security, views' definitions, sequences' parameters, types,
 * extensions.
 */
const PG_FINGERPRINT_SQL = `
  with ${SCHEMAS}
  select md5(string_agg(item, E'\\n' order by item)) as fingerprint from (${SCHEMA_ITEMS}
    union all select format('set %s %s', setrole::regrole, setconfig) from pg_db_role_setting
      where setdatabase = (select oid from pg_database where datname = current_database())
    union all select format('acl %s.%s %s %s %s %s', ns.nspname, c.relname, c.relowner::regrole, c.relacl, c.relrowsecurity, c.relforcerowsecurity)
      from pg_class c join ns on ns.oid = c.relnamespace
    union all select format('nsp %s %s %s', n.nspname, n.nspowner::regrole, n.nspacl) from pg_namespace n join ns on ns.oid = n.oid
    union all select format('db %s %s', datdba::regrole, datacl) from pg_database where datname = current_database()
    union all select format('defacl %s %s %s %s', defaclrole::regrole, defaclnamespace, defaclobjtype, defaclacl) from pg_default_acl
    union all select format('pol %s %s %s', polname, polrelid::regclass, pg_get_expr(polqual, polrelid)) from pg_policy
    union all select format('view %s %s', c.oid::regclass, pg_get_viewdef(c.oid)) from pg_class c join ns on ns.oid = c.relnamespace where c.relkind in ('v', 'm')
    union all select format('seq %s %s %s %s %s %s', seqrelid::regclass, seqstart, seqincrement, seqmin, seqmax, seqcycle) from pg_sequence
    union all select format('typ %s.%s %s', ns.nspname, t.typname, t.typtype) from pg_type t join ns on ns.oid = t.typnamespace
    union all select format('enum %s %s %s', enumtypid::regtype, enumsortorder, enumlabel) from pg_enum
    union all select format('ext %s %s', extname, extversion) from pg_extension
  ) items`;

async function schemaFingerprint(pg: PGlite): Promise<string> {
  const { rows } = await pg.query<{ fingerprint: string }>(FINGERPRINT_SQL);
  return rows[0]!.fingerprint;
}

/**
 * A Database over the spare's PGlite for one file. close() hands the PGlite back: a transaction left
 * open is rolled back; unless the schema changed, every table is emptied (its rows deleted, sequences
 * restarted, append-only triggers not fired: session_replication_role) and the session reset (DISCARD ALL:
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
        // Rows deleted, as on PostgreSQL (EMPTY_PUBLIC_SQL), not truncated: a truncate writes a new
        // file for each of the 33 tables and their indexes, about 0.3 CPU-s a close in PGlite's
        // in-memory file system, where deleting a file's few rows costs some 0.03.
        await pg.exec(EMPTY_PUBLIC_SQL);
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
 * One statement that empties `tables` as `truncate <tables> restart identity` does — no row left, the
 * sequences their columns own restarted — by deleting the rows (foreign keys and append-only triggers
 * not fired: session_replication_role, for this statement's transaction only). A truncate writes a
 * new file for each table and index and unlinks the old ones: some 17 ms of the server's CPU and
 * 200 ms of waiting for the test before it on a quiet machine (60 ms and 0.4 s of eleven tables on a
 * busy one), where deleting a test's few rows takes about 2 ms. `restartIdentity: false` leaves the
 * sequences where they are, as a plain `truncate <tables>` does. A table that references a listed
 * one must be listed too (what `truncate … cascade` would add): its rows are not deleted otherwise.
 */
export function emptyTablesSql(tables: string[], opts: { restartIdentity?: boolean } = {}): string {
  const names = tables.map((t) => `'${t.replace(/'/g, "''")}'::regclass`).join(', ');
  const restart = opts.restartIdentity === false ? '' : `
    for r in select s.seqrelid, s.seqstart from pg_sequence s
             join pg_depend d on d.classid = 'pg_class'::regclass and d.objid = s.seqrelid and d.deptype in ('a', 'i')
             where d.refclassid = 'pg_class'::regclass and d.refobjid = any(array[${names}]) loop
      perform setval(r.seqrelid::regclass, r.seqstart, false);
    end loop;`;
  return `do $$
  declare r record;
  begin
    perform set_config('session_replication_role', 'replica', true);
    ${tables.map((t) => `delete from ${t};`).join('\n    ')}${restart}
  end $$`;
}

/**
 * The usual set-up of a test file that shares one PostgreSQL database across its tests: created
 * before the first, dropped after the last, and `truncate` (table names) emptied before each test so
 * no test sees another's rows (emptyTablesSql: as a truncate would leave them). Returns a getter (the
 * database exists only once beforeAll has run).
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
    const emptying = emptyTablesSql(opts.truncate);
    beforeEach(async () => {
      await database!.db.execute(sql.raw(emptying));
    });
  }
  return () => {
    if (!database) throw new Error('usePostgresTestDb: the database is created in beforeAll; use the getter inside a test or hook');
    return database;
  };
}

/**
 * usePostgresTestDb for either database (`describe.each` over DbKind): one database of `kind` for the
 * file's tests, `truncate` emptied before each test (before the describe's own beforeEach). A getter.
 */
export function useTestDb(kind: DbKind, opts: { truncate?: string[] } = {}): () => Database {
  let database: Database | undefined;
  beforeAll(async () => {
    database = await createTestDb(kind);
  }, 60_000);
  afterAll(async () => {
    await database?.close();
  });
  if (opts.truncate && opts.truncate.length > 0) {
    const emptying = emptyTablesSql(opts.truncate);
    beforeEach(async () => {
      await database!.db.execute(sql.raw(emptying));
    });
  }
  return () => {
    if (!database) throw new Error('useTestDb: the database is created in beforeAll; use the getter inside a test or hook');
    return database;
  };
}

/** Tables an engine run writes to: emptied between engine tests. */
export const ENGINE_TABLES = ['order_intents', 'fills', 'trades', 'equity_snapshots', 'paper_balances', 'paper_orders', 'risk_events', 'bot_state'];
