// The image of a freshly initialised PGlite with every migration applied by migrate(), as a tar in the
// temp directory runs share (not a run's own: run-tmpdir.ts), keyed like the PostgreSQL template of
// db.ts (migrations, migrate.ts, PGlite's version). initdb and the migrations cost about 5 s of CPU per database, loading the image about 1.2:
// each test's PGlite starts from it (as the product's embedded database starts from the build's
// template) and migrate() still runs on it, as at every start of the bot. Built once before the run
// (vitest globalSetup: this file's default export); a process that finds none builds one itself.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, openAsBlob, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import type { Database } from '../../src/db/client.js';
import { MIGRATIONS_DIR, migrate } from '../../src/db/migrate.js';
import { pgliteStartParams } from '../../src/db/pglite-start.js';
import { sharedTmpdir } from './run-tmpdir.js';

// The global is there in Node; this project's type libraries (ES2023, node) declare only its types.
const { compile } = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<WebAssembly.Module> } }).WebAssembly;

/** PGlite's compiled WebAssembly and its file-system bundle, loaded once per process for every instance. */
let runtime: Promise<{ pgliteWasmModule: WebAssembly.Module; fsBundle: Blob }> | undefined;
function pgliteRuntime(): Promise<{ pgliteWasmModule: WebAssembly.Module; fsBundle: Blob }> {
  const dist = join(createRequire(import.meta.url).resolve('@electric-sql/pglite'), '..');
  runtime ??= Promise.all([compile(readFileSync(join(dist, 'pglite.wasm'))), openAsBlob(join(dist, 'pglite.data'))])
    .then(([pgliteWasmModule, fsBundle]) => ({ pgliteWasmModule, fsBundle }));
  return runtime;
}

/**
 * A Database over an in-memory PGlite, empty or loaded from `image`, started with the product's start
 * parameters (src/db/pglite-start.ts: shared_buffers 16 MB, where PGlite's default 128 MB is all
 * touched in the wasm heap at start). Each instance is its own PostgreSQL; what instances of one
 * process share is the compiled WebAssembly module and PGlite's bundled files, both read-only.
 * Together about 0.8 CPU-s less a database than compiling and zeroing 128 MB each time.
 */
export async function pgliteDatabase(image?: Blob): Promise<{ pg: PGlite; database: Database }> {
  const [{ PGlite }, { drizzle }, startParams, shared] = await Promise.all([
    import('@electric-sql/pglite'), import('drizzle-orm/pglite'), pgliteStartParams(), pgliteRuntime(),
  ]);
  const pg = await PGlite.create({ ...shared, startParams, ...(image ? { loadDataDir: image } : {}) });
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
  return join(sharedTmpdir(), `ctb-test-pglite-${h.digest('hex').slice(0, 12)}.tar`);
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

// Once a run: vitest calls its global setup for the root project and for each project that runs files.
const memo = globalThis as { __ctbPgliteImage?: Promise<string> };

export default async function buildPgliteImage(): Promise<void> {
  memo.__ctbPgliteImage ??= ensurePgliteImage();
  await memo.__ctbPgliteImage;
}
