#!/usr/bin/env node
// Builds the embedded database's template: a PGlite data directory initialised (initdb) and
// migrated once, at build time, so that a bot's first start on a fresh DATA_DIR copies it instead
// of running initdb (~4 s, ~500 MB) and every migration. Run by scripts/build.mjs in a child
// process of its own (initdb's memory is returned when it exits):
//   node scripts/pglite-template.mjs <directory to create> <file to write the template's key to>
// The key (PGlite's version and a hash of migrations/) is what src/db/pglite-template.ts compares
// before it uses the template; any difference and the bot initialises the old way.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrationsHash, pgliteVersion } from './pglite-template-key.mjs';

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
await pg.close();
const require = createRequire(import.meta.url);
writeFileSync(keyFile, `${JSON.stringify({ pglite: pgliteVersion(dirname(require.resolve('@electric-sql/pglite'))), migrations: migrationsHash(migrations) }, null, 2)}\n`);
