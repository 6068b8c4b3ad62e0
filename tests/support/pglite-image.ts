// The image of a freshly initialised PGlite with every migration applied by migrate(), as a tar in the
// temp directory, keyed like the PostgreSQL template of db.ts (migrations, migrate.ts, PGlite's
// version). initdb and the migrations cost about 5 s of CPU per database, loading the image about 2:
// each test's PGlite starts from it (as the product's embedded database starts from the build's
// template) and migrate() still runs on it, as at every start of the bot. Built once before the run
// (vitest globalSetup: this file's default export); a process that finds none builds one itself.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import type { Database } from '../../src/db/client.js';
import { MIGRATIONS_DIR, migrate } from '../../src/db/migrate.js';

/** A Database over an in-memory PGlite, empty or loaded from `image`. */
export async function pgliteDatabase(image?: Blob): Promise<{ pg: PGlite; database: Database }> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const pg = await PGlite.create(image ? { loadDataDir: image } : {});
  const database: Database = {
    db: drizzle(pg) as unknown as Database['db'],
    kind: 'pglite',
    via: 'direct',
    close: () => pg.close(),
  };
  return { pg, database };
}

function imageFile(): string {
  const h = createHash('sha1');
  for (const f of readdirSync(MIGRATIONS_DIR).sort()) h.update(f).update(readFileSync(join(MIGRATIONS_DIR, f === 'meta' ? 'meta/_journal.json' : f)));
  h.update(readFileSync(new URL('../../src/db/migrate.ts', import.meta.url)));
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  h.update((JSON.parse(readFileSync(join(entry, '..', '..', 'package.json'), 'utf8')) as { version: string }).version);
  return join(tmpdir(), `ctb-test-pglite-${h.digest('hex').slice(0, 12)}.tar`);
}

/** The image's path, built first when there is none for this checkout's migrations. */
export async function ensurePgliteImage(): Promise<string> {
  const file = imageFile();
  if (existsSync(file)) return file;
  const { pg, database } = await pgliteDatabase();
  await migrate(database);
  const dump = await pg.dumpDataDir('none');
  await pg.close();
  // Written aside and renamed: a process reading it never sees half an image.
  const partial = `${file}.${process.pid}.${randomBytes(3).toString('hex')}`;
  writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
  renameSync(partial, file);
  return file;
}

export default async function buildPgliteImage(): Promise<void> {
  await ensurePgliteImage();
}
