// The key of the embedded database's template (scripts/pglite-template.mjs): PGlite's version, a
// hash of migrations/ (every .sql file and the journal, which decides what drizzle counts as
// applied) and the format of the template (what scripts/pglite-template.mjs leaves in it). src/db/pglite-template.ts computes the same key at run time (tests/integration/db/
// pglite-start.test.ts checks the two agree on a real build).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Raised whenever scripts/pglite-template.mjs makes a different template: a build with an older one rebuilds it. */
export const TEMPLATE_FORMAT = 2;

export function migrationsHash(dir) {
  const h = createHash('sha256');
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.sql')).sort()) h.update(f).update('\0').update(readFileSync(join(dir, f))).update('\0');
  h.update(readFileSync(join(dir, 'meta', '_journal.json')));
  return h.digest('hex').slice(0, 16);
}

/** PGlite's version from its package.json, found from the directory of its resolved entry (dist/). */
export function pgliteVersion(entryDir) {
  return JSON.parse(readFileSync(join(entryDir, '..', 'package.json'), 'utf8')).version;
}
