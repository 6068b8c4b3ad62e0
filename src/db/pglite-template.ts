// Owns the first start of a fresh embedded database from the build's template: dist/pglite-template/
// is a PGlite data directory initialised and migrated by the build (scripts/pglite-template.mjs).
// Copying it (~25 MB in ~500 files, a fraction of a second) replaces initdb (~4 s and ~500 MB in a
// child process) and every migration. It is used only when its key — PGlite's version, a hash of
// migrations/ and the template's format — is what this checkout has; otherwise the caller
// initialises the old way. The copy goes to a sibling directory first and is renamed into place, so
// a start interrupted mid-copy leaves no half-made database behind. The copy's cost is mostly one
// file system call after another (creating each file most of all): the template holds few files
// (scripts/pglite-template.mjs), and each is copied as its directory's listing names it, with no
// other call per file.
import { createHash } from 'node:crypto';
import { constants, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { projectPath } from '../paths.js';

export const TEMPLATE_DIR = projectPath('dist', 'pglite-template');
const TEMPLATE_KEY = projectPath('dist', 'pglite-template.json');

export interface TemplateKey {
  pglite: string;
  migrations: string;
  /** What the template holds: scripts/pglite-template-key.mjs's TEMPLATE_FORMAT, the same number. */
  format: number;
}

const TEMPLATE_FORMAT = 2;

/** The same key as scripts/pglite-template-key.mjs computes at build time. */
export function currentTemplateKey(migrationsDir = projectPath('migrations')): TemplateKey {
  const h = createHash('sha256');
  for (const f of readdirSync(migrationsDir).filter((f) => f.endsWith('.sql')).sort()) {
    h.update(f).update('\0').update(readFileSync(join(migrationsDir, f))).update('\0');
  }
  h.update(readFileSync(join(migrationsDir, 'meta', '_journal.json')));
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const pglite = (JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string }).version;
  return { pglite, migrations: h.digest('hex').slice(0, 16), format: TEMPLATE_FORMAT };
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
  if (built.format !== now.format) return 'the template was built by an older build (run npm run build)';
  return null;
}

/** Copies the template to `pgDir` (which must not exist or be empty); returns false when it cannot be used. */
export function copyTemplate(pgDir: string): boolean {
  if (templateProblem() !== null) return false;
  const tmp = `${pgDir}.copy-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    copyTree(TEMPLATE_DIR, tmp);
    // An empty directory (made by the caller) gives way; one with anything in it is never replaced.
    if (existsSync(pgDir)) rmdirSync(pgDir);
    renameSync(tmp, pgDir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  return true;
}

/** Copies directory `from` to `to` (which must not exist): directories and regular files, nothing else in the template. */
function copyTree(from: string, to: string): void {
  mkdirSync(to);
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    if (entry.isDirectory()) copyTree(source, join(to, entry.name));
    // A copy-on-write clone where the file system has them, a plain copy elsewhere.
    else copyFileSync(source, join(to, entry.name), constants.COPYFILE_FICLONE);
  }
}
