// Owns the first start of a fresh embedded database from the build's template: dist/pglite-template/
// is a PGlite data directory initialised and migrated by the build (scripts/pglite-template.mjs).
// Copying it (~40 MB of files, a fraction of a second) replaces initdb (~4 s and ~500 MB in a child
// process) and every migration. It is used only when its key — PGlite's version and a hash of
// migrations/ — is what this checkout has; otherwise the caller initialises the old way. The copy
// goes to a sibling directory first and is renamed into place, so a start interrupted mid-copy
// leaves no half-made database behind.
import { createHash } from 'node:crypto';
import { constants, cpSync, existsSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { projectPath } from '../paths.js';

export const TEMPLATE_DIR = projectPath('dist', 'pglite-template');
const TEMPLATE_KEY = projectPath('dist', 'pglite-template.json');

export interface TemplateKey {
  pglite: string;
  migrations: string;
}

/** The same key as scripts/pglite-template-key.mjs computes at build time. */
export function currentTemplateKey(migrationsDir = projectPath('migrations')): TemplateKey {
  const h = createHash('sha256');
  for (const f of readdirSync(migrationsDir).filter((f) => f.endsWith('.sql')).sort()) {
    h.update(f).update('\0').update(readFileSync(join(migrationsDir, f))).update('\0');
  }
  h.update(readFileSync(join(migrationsDir, 'meta', '_journal.json')));
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const pglite = (JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string }).version;
  return { pglite, migrations: h.digest('hex').slice(0, 16) };
}

/** Why the template cannot be used here, or null when it can. */
export function templateProblem(): string | null {
  if (!existsSync(join(TEMPLATE_DIR, 'PG_VERSION'))) return 'no template in dist/ (run npm run build)';
  let built: Partial<TemplateKey>;
  try {
    built = JSON.parse(readFileSync(TEMPLATE_KEY, 'utf8')) as Partial<TemplateKey>;
  } catch {
    return 'the template has no readable key';
  }
  const now = currentTemplateKey();
  if (built.pglite !== now.pglite) return `the template was built with PGlite ${built.pglite}, this checkout has ${now.pglite}`;
  if (built.migrations !== now.migrations) return 'the template was built from other migrations than this checkout has';
  return null;
}

/** Copies the template to `pgDir` (which must not exist or be empty); returns false when it cannot be used. */
export function copyTemplate(pgDir: string): boolean {
  if (templateProblem() !== null) return false;
  const tmp = `${pgDir}.copy-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    // A copy-on-write clone where the file system has them, a plain copy elsewhere.
    cpSync(TEMPLATE_DIR, tmp, { recursive: true, mode: constants.COPYFILE_FICLONE });
    // An empty directory (made by the caller) gives way; one with anything in it is never replaced.
    if (existsSync(pgDir)) rmdirSync(pgDir);
    renameSync(tmp, pgDir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  return true;
}
