// What the test runs leave in .test-build/ is pruned once a run, or a checkout's copy grows by every
// source change: the helper-process builds of other sources (children-<hash>/, build-children.ts)
// once unused for a day, and vitest's compiled modules (module-cache.ts) once not written for a week.
// Called from the global setup (build-children.ts), which vitest ends for every project before its
// pool starts the first test file: nothing of this run is read from or written to the module cache
// yet, and what it writes later is new, never a week old.
// vitest's cache (node_modules/vitest, FileSystemModuleCache) is one flat directory: an entry is a
// file named by the 40-hex sha1 of its key, written whole (a .tmp- file renamed over it), never
// changed or touched when read; beside them _metadata.json (the lockfile's hash). Only entry files
// are removed, never the directory or the metadata, so a run of another project in the same
// checkout at worst compiles a module again. A read is not a write: a module unchanged for a week
// is compiled once more (a run that compiles every module costs vitest ~4 CPU-s more than one that
// compiles none, vitest.config.ts).
import { lstatSync, readdirSync, rmSync, unlinkSync, utimesSync, type Stats } from 'node:fs';
import { join } from 'node:path';

const DAY_MS = 24 * 3600_000;
/** A helper-process build other than the run's is removed once unused this long (a run lasts minutes). */
export const CHILDREN_MAX_AGE_MS = DAY_MS;
/** A compiled module's entry is removed once not written this long. */
export const MODULE_ENTRY_MAX_AGE_MS = 7 * DAY_MS;

/** A helper-process build, and one left half-written (before its rename) by a run that died. */
const CHILDREN = /^(children-[0-9a-f]+|\.tmp-\d+-\d+)$/;
/** vitest's entry, and its atomic write's temporary file left by a process that died mid-write. */
const MODULE_ENTRY = /^([0-9a-f]{40}|\.tmp-\d+-[0-9a-z]*)$/;

export interface PruneTarget {
  /** .test-build/ */
  out: string;
  /** vitest's fsModuleCachePath (absolute) */
  modules: string;
  /** This run's helper-process build, kept, and marked used now for the prune of a run beside it. */
  current: string;
  now: number;
}

export interface Pruned {
  removed: number;
  bytes: number;
  /** What could not be read, marked or removed (another run removing it first is not a failure). */
  failed: number;
  firstError?: string;
}

const missing = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';

/** Removes what is older than its limit; never throws (a prune that fails costs disk, not a run). */
export function pruneTestBuild({ out, modules, current, now }: PruneTarget): Pruned {
  const pruned: Pruned = { removed: 0, bytes: 0, failed: 0 };
  const fail = (err: unknown) => {
    if (missing(err)) return;
    pruned.failed++;
    pruned.firstError ??= err instanceof Error ? err.message : String(err);
  };
  const list = (dir: string) => {
    try {
      return readdirSync(dir);
    } catch (err) {
      fail(err);
      return [];
    }
  };
  const remove = (path: string, maxAgeMs: number, kind: 'dir' | 'file') => {
    let stat: Stats;
    try {
      stat = lstatSync(path);
    } catch (err) {
      return fail(err);
    }
    if (now - stat.mtimeMs <= maxAgeMs || (kind === 'dir' ? !stat.isDirectory() : !stat.isFile())) return;
    const bytes = kind === 'dir' ? sizeOf(path) : stat.size;
    try {
      if (kind === 'dir') rmSync(path, { recursive: true });
      else unlinkSync(path);
    } catch (err) {
      return fail(err);
    }
    pruned.removed++;
    pruned.bytes += bytes;
  };

  try {
    utimesSync(current, now / 1000, now / 1000);
  } catch (err) {
    fail(err);
  }
  for (const name of list(out)) {
    const path = join(out, name);
    if (CHILDREN.test(name) && path !== current) remove(path, CHILDREN_MAX_AGE_MS, 'dir');
  }
  for (const name of list(modules)) if (MODULE_ENTRY.test(name)) remove(join(modules, name), MODULE_ENTRY_MAX_AGE_MS, 'file');
  return pruned;
}

/** The bytes of the files under `dir` (what removing it frees, near enough). */
function sizeOf(dir: string): number {
  let bytes = 0;
  try {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      bytes += entry.isDirectory() ? sizeOf(path) : lstatSync(path).size;
    }
  } catch {
    // counted what could be read: the size is only reported
  }
  return bytes;
}

/** What the run prints: nothing when nothing was removed and nothing failed, else one line each. */
export function pruneReport(pruned: Pruned): { removed?: string; warning?: string } {
  const report: { removed?: string; warning?: string } = {};
  if (pruned.removed > 0) report.removed = `.test-build/: removed ${pruned.removed} old test build ${pruned.removed === 1 ? 'entry' : 'entries'} (${formatBytes(pruned.bytes)})`;
  if (pruned.failed > 0) report.warning = `.test-build/: not pruned in full, ${pruned.failed} ${pruned.failed === 1 ? 'failure' : 'failures'} (first: ${pruned.firstError}); the run goes on`;
  return report;
}

function formatBytes(bytes: number): string {
  return bytes < 1_000_000 ? `${Math.ceil(bytes / 1000)} kB` : `${(bytes / 1_000_000).toFixed(1)} MB`;
}
