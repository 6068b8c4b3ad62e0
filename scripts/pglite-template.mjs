#!/usr/bin/env node
// Builds the embedded database's template: a PGlite data directory initialised (initdb) and
// migrated once, at build time, so that a bot's first start on a fresh DATA_DIR copies it instead
// of running initdb (~4 s, ~500 MB) and every migration. Run by scripts/build.mjs in a child
// process of its own (initdb's memory is returned when it exits):
//   node scripts/pglite-template.mjs <directory to create> <file to write the template's key to>
// The key (PGlite's version, a hash of migrations/ and the template's format) is what
// src/db/pglite-template.ts compares before it uses the template; any difference and the bot
// initialises the old way.
// A first start copies the template file by file, and creating a file is what that copy costs most
// (more than its bytes), so the template holds only what the bot's database needs: the `postgres`
// database PGlite opens, without initdb's template0 and template1 (nothing connects to them, and
// the embedded database never runs CREATE DATABASE), and without free-space maps and visibility
// maps (*_fsm, *_vm: hints PostgreSQL does without when absent and rebuilds as it vacuums).
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEMPLATE_FORMAT, migrationsHash, pgliteVersion } from './pglite-template-key.mjs';

const [dir, keyFile] = process.argv.slice(2);
if (!dir || !keyFile) {
  process.stderr.write('usage: node scripts/pglite-template.mjs <dir> <key.json>\n');
  process.exit(2);
}
const root = fileURLToPath(new URL('..', import.meta.url));
const migrations = join(root, 'migrations');
const { PGlite } = await import('@electric-sql/pglite');
const { drizzle } = await import('drizzle-orm/pglite');
const { migrate } = await import('drizzle-orm/pglite/migrator');
const pg = await PGlite.create(dir);
await migrate(drizzle(pg), { migrationsFolder: migrations });
// One statement per query: DROP DATABASE refuses to run in a transaction block.
for (const name of ['template0', 'template1']) {
  await pg.query(`ALTER DATABASE ${name} IS_TEMPLATE false`);
  await pg.query(`DROP DATABASE ${name}`);
}
await pg.close();
// After a clean shutdown: PostgreSQL reads no WAL and keeps no map of these files when it next opens.
for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
  if (entry.isFile() && /_(fsm|vm)$/.test(entry.name)) rmSync(join(entry.parentPath, entry.name));
}
const require = createRequire(import.meta.url);
writeFileSync(keyFile, `${JSON.stringify({ pglite: pgliteVersion(dirname(require.resolve('@electric-sql/pglite'))), migrations: migrationsHash(migrations), format: TEMPLATE_FORMAT }, null, 2)}\n`);
