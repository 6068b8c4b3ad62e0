// The prune of .test-build/ (tests/support/prune-test-build.ts), on a directory laid out as the test
// runs leave it: the helper-process builds of other sources go once unused for a day, vitest's
// compiled modules once not written for a week; this run's build, vitest's directory and metadata,
// and what neither wrote stay.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pruneReport, pruneTestBuild } from '../support/prune-test-build.js';

const HOUR = 3600_000;
const DAY = 24 * HOUR;
// Whole seconds, so a modification time set from it reads back exactly.
const NOW = Math.floor(Date.now() / 1000) * 1000;
const ENTRY = (n: number) => String(n).repeat(40);

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Writes `bytes` bytes at `path` (its directories made), last modified `ageMs` before NOW. */
function file(path: string, bytes: number, ageMs: number): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, Buffer.alloc(bytes));
  age(path, ageMs);
}

function age(path: string, ageMs: number): void {
  utimesSync(path, (NOW - ageMs) / 1000, (NOW - ageMs) / 1000);
}

/** What is left under `dir`, every path relative to it, sorted. */
function left(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).sort();
}

/** .test-build/ after a week of runs: this run's build reused from three days ago. */
function testBuild() {
  const out = mkdtempSync(join(tmpdir(), 'ctb-prune-test-build-'));
  dirs.push(out);
  const modules = join(out, 'vitest-modules');
  const current = join(out, 'children-1111111111111111');
  file(join(current, 'engine-child.mjs'), 100, 3 * DAY);
  age(current, 3 * DAY);
  // Another source's build, two days unused: 300 + 200 bytes.
  file(join(out, 'children-2222222222222222', 'engine-child.mjs'), 300, 2 * DAY);
  file(join(out, 'children-2222222222222222', 'chunks', 'chunk-A.mjs'), 200, 2 * DAY);
  age(join(out, 'children-2222222222222222', 'chunks'), 2 * DAY);
  age(join(out, 'children-2222222222222222'), 2 * DAY);
  // Another source's build used an hour ago, by a run that may still be going.
  file(join(out, 'children-3333333333333333', 'engine-child.mjs'), 100, HOUR);
  age(join(out, 'children-3333333333333333'), HOUR);
  // A build a run that died left before renaming it: 50 bytes.
  file(join(out, '.tmp-4242-1700000000000', 'engine-child.mjs'), 50, 2 * DAY);
  age(join(out, '.tmp-4242-1700000000000'), 2 * DAY);
  // vitest's entries: one written eight days ago (1000 bytes), one six; a write a process died in
  // (70 bytes) and one under way; the metadata, written once when the cache was made.
  file(join(modules, ENTRY(5)), 1000, 8 * DAY);
  file(join(modules, ENTRY(6)), 2000, 6 * DAY);
  file(join(modules, '.tmp-1700000000000-k3j5x9'), 70, 8 * DAY);
  file(join(modules, '.tmp-1765000000000-a1b2c3'), 70, 0);
  file(join(modules, '_metadata.json'), 40, 30 * DAY);
  age(modules, 30 * DAY);
  // Nothing the runs wrote.
  file(join(out, 'notes.txt'), 10, 30 * DAY);
  file(join(modules, 'notes.txt'), 10, 30 * DAY);
  return { out, modules, current };
}

describe('the prune of .test-build/', () => {
  it("removes other sources' builds unused for a day and vitest's entries not written for a week, and keeps the rest", () => {
    const target = testBuild();
    const pruned = pruneTestBuild({ ...target, now: NOW });
    expect(left(target.out)).toEqual([
      'children-1111111111111111',
      'children-1111111111111111/engine-child.mjs',
      'children-3333333333333333',
      'children-3333333333333333/engine-child.mjs',
      'notes.txt',
      'vitest-modules',
      `vitest-modules/${ENTRY(6)}`,
      'vitest-modules/.tmp-1765000000000-a1b2c3',
      'vitest-modules/_metadata.json',
      'vitest-modules/notes.txt',
    ].sort());
    expect(pruned).toEqual({ removed: 4, bytes: 300 + 200 + 50 + 1000 + 70, failed: 0 });
    expect(pruneReport(pruned)).toEqual({ removed: '.test-build/: removed 4 old test build entries (2 kB)' });
  });

  it("marks this run's build used now, so a run beside it keeps it for a day", () => {
    const target = testBuild();
    pruneTestBuild({ ...target, now: NOW });
    expect(statSync(target.current).mtimeMs).toBe(NOW);
    const besideIt = { ...target, current: join(target.out, 'children-3333333333333333'), now: NOW + DAY - HOUR };
    pruneTestBuild(besideIt);
    expect(readdirSync(target.out)).toContain('children-1111111111111111');
  });

  it('says nothing when it removed nothing', () => {
    const target = testBuild();
    pruneTestBuild({ ...target, now: NOW });
    const again = pruneTestBuild({ ...target, now: NOW });
    expect(again).toEqual({ removed: 0, bytes: 0, failed: 0 });
    expect(pruneReport(again)).toEqual({});
  });

  it('takes a cache another run removed first as nothing to do, and a failure as one warning, not an error', () => {
    const target = testBuild();
    rmSync(target.modules, { recursive: true });
    expect(pruneTestBuild({ ...target, now: NOW })).toEqual({ removed: 2, bytes: 300 + 200 + 50, failed: 0 });

    const broken = testBuild();
    const notADirectory = join(broken.out, 'notes.txt');
    const pruned = pruneTestBuild({ ...broken, modules: notADirectory, now: NOW });
    expect(pruned).toMatchObject({ removed: 2, failed: 1 });
    expect(pruneReport(pruned)).toEqual({
      removed: '.test-build/: removed 2 old test build entries (1 kB)',
      warning: expect.stringMatching(/^\.test-build\/: not pruned in full, 1 failure \(first: ENOTDIR: .*\); the run goes on$/),
    });
  });
});
