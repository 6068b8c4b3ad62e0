// vitest globalSetup: builds the helper processes some tests start (CHILD_ENTRIES) to JavaScript once
// per run, from the sources under test, so each child is plain `node` on a built file instead of
// TypeScript compiled in the child by tsx's loader hooks and an esbuild service of its own (3–7
// CPU-seconds a child on a 2-core machine). Packages stay in node_modules, as under tsx.
// The output goes to .test-build/children-<hash>/ (gitignored): a build's files never change once
// written, so a run started meanwhile in the same checkout keeps the files it was given; a test finds
// its run's directory with childScript() (tests/support/children.ts). Builds of other sources are
// removed once unused for a day, with vitest's week-old compiled modules (prune-test-build.ts).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { MODULE_CACHE_DIR } from './module-cache.js';
import { pruneReport, pruneTestBuild } from './prune-test-build.js';

/** Entry name → its TypeScript source, relative to the project root. */
export const CHILD_ENTRIES = {
  'engine-child': 'tests/support/engine-child.ts',
  'order-pump-child': 'tests/support/order-pump-child.ts',
  'cruise-child': 'tests/support/cruise-child.ts',
  'log-writer-child': 'tests/support/log-writer-child.ts',
  'alert-worker-child': 'tests/support/alert-worker-child.ts',
  'pager-child': 'tests/support/pager-child.ts',
  'pending-kill-child': 'tests/support/pending-kill-child.ts',
  'pending-kill-lock-child': 'tests/support/pending-kill-lock-child.ts',
  'pglite-lock-child': 'tests/support/pglite-lock-child.ts',
  'announce-child': 'tests/support/announce-child.ts',
} as const;

export const CHILDREN_KEY = 'ctbTestChildren';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OUT = join(ROOT, '.test-build');

async function build(): Promise<string> {
  const { build: esbuild } = await import('esbuild');
  const result = await esbuild({
    absWorkingDir: ROOT,
    entryPoints: Object.fromEntries(Object.entries(CHILD_ENTRIES).map(([name, source]) => [name, join(ROOT, source)])),
    outdir: OUT,
    outExtension: { '.js': '.mjs' },
    write: false,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    chunkNames: 'chunks/[name]-[hash]',
    // Class and function names stay as written (errors and logs show them), as under tsx.
    keepNames: true,
    logLevel: 'warning',
  });
  const files = [...result.outputFiles].sort((a, b) => a.path.localeCompare(b.path));
  const hash = createHash('sha256');
  for (const f of files) hash.update(relative(OUT, f.path)).update('\0').update(f.contents).update('\0');
  const dir = join(OUT, `children-${hash.digest('hex').slice(0, 16)}`);
  if (!existsSync(dir)) {
    const tmp = join(OUT, `.tmp-${process.pid}-${Date.now()}`);
    for (const f of files) {
      const target = join(tmp, relative(OUT, f.path));
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, f.contents);
    }
    try {
      renameSync(tmp, dir);
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      if (!existsSync(dir)) throw err; // else another run wrote the same build first
    }
  }
  prune(dir);
  return dir;
}

/** Prunes .test-build/ (prune-test-build.ts): one line when it removed something, a warning when it failed. */
function prune(current: string): void {
  try {
    const report = pruneReport(pruneTestBuild({ out: OUT, modules: join(ROOT, MODULE_CACHE_DIR), current, now: Date.now() }));
    if (report.removed) process.stdout.write(`${report.removed}\n`);
    if (report.warning) process.stderr.write(`${report.warning}\n`);
  } catch (err) {
    process.stderr.write(`.test-build/: not pruned (${err instanceof Error ? err.message : String(err)}); the run goes on\n`);
  }
}

// vitest calls a global setup once for the root project and once for each project that runs files:
// one build serves them all.
const memo = globalThis as { __ctbTestChildren?: Promise<string> };

export default async function buildChildren(project: TestProject): Promise<void> {
  memo.__ctbTestChildren ??= build();
  project.provide(CHILDREN_KEY, await memo.__ctbTestChildren);
}
