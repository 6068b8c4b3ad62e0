// The build of dist/ (scripts/build.mjs) is not run again when no file it read has changed
// (scripts/build-inputs.mjs): every test run starts with it, and a build that finds the same output
// cost some 4 CPU-seconds. Any change to a file it read — a source, a bundled package's file, the
// build's own settings — runs it again, and so does a change made while it ran, and so does a file
// of dist/ the last build wrote that is gone or no longer as written.
// This checkout's own dist/ is only read here: the files of the suite run side by side, and each
// `ctb` another file spawns loads dist/. The builds below run in a copy of the checkout
// (tests/support/release-dir.ts), whose dist/ starts as a copy of this one's.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BUILD_SETTINGS, INPUTS_RECORD, inputsUnchanged, outputsIntact, recordInputs, SOURCES_STAMP } from '../../scripts/build-inputs.mjs';
import { checkoutCopy, type CheckoutCopy } from '../support/release-dir.js';

const ROOT_DIST = new URL('../../dist', import.meta.url).pathname;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tree(): { root: string; out: string } {
  const root = mkdtempSync(join(tmpdir(), 'ctb-build-inputs-'));
  dirs.push(root);
  mkdirSync(join(root, 'src'));
  mkdirSync(join(root, 'scripts'));
  mkdirSync(join(root, 'dist'));
  writeFileSync(join(root, 'src', 'a.ts'), 'export const a = 1;\n');
  writeFileSync(join(root, 'src', 'b.ts'), 'export const b = 2;\n');
  writeFileSync(join(root, 'package.json'), '{ "name": "x" }\n');
  return { root, out: join(root, 'dist') };
}

/** A copy of this checkout, built. */
let copy: CheckoutCopy | undefined;
afterAll(() => copy?.remove());
/** scripts/build.mjs of the copy, run in it. */
const build = () => spawnSync(process.execPath, [join(copy!.dir, 'scripts/build.mjs')], { cwd: copy!.dir, encoding: 'utf8' });
/**
 * A build of the copy run after the copy's dist/ was last built and left as that build wrote it: the
 * first test to ask runs it, a later one is given the same run (whatever ran it, it is a build that
 * found its inputs and outputs as recorded). Each is a process that hashes the checkout's inputs.
 */
let againAfterBuild: ReturnType<typeof build> | undefined;
const buildAgain = () => (againAfterBuild ??= build());

describe('what a build of dist/ read', () => {
  // vitest's globalSetup built dist/ (tests/support/build-cli.ts). The copy's dist/ starts as a copy of
  // it with the modification times of its files (the record of what the build wrote compares them), so
  // the copy's build finds every file it read as it was, without esbuild (where node_modules is the
  // checkout's own: the record names a linked one by its real path), and records them should a change
  // during that build have kept it from it: the tests of this checkout's build below start from that record.
  let rootRecord = '';
  beforeAll(() => {
    rootRecord = readFileSync(join(ROOT_DIST, INPUTS_RECORD), 'utf8');
    copy = checkoutCopy({ prefix: 'ctb-build-inputs-' });
  }, 120_000);

  it('is unchanged until a file it read, or one of the build settings, changes or goes', () => {
    const { root, out } = tree();
    expect(inputsUnchanged(root, out)).toBe(false); // no build recorded
    expect(recordInputs(root, out, ['src/a.ts', 'src/b.ts'], Date.now() + 1_000)).toBe(true);
    expect(inputsUnchanged(root, out)).toBe(true);

    writeFileSync(join(root, 'src', 'unread.ts'), 'export {};\n'); // not an input of the build
    expect(inputsUnchanged(root, out)).toBe(true);

    writeFileSync(join(root, 'src', 'b.ts'), 'export const b = 3;\n');
    expect(inputsUnchanged(root, out)).toBe(false);
    recordInputs(root, out, ['src/a.ts', 'src/b.ts'], Date.now() + 1_000);
    expect(inputsUnchanged(root, out)).toBe(true);

    expect(BUILD_SETTINGS).toContain('package.json');
    writeFileSync(join(root, 'package.json'), '{ "name": "y" }\n');
    expect(inputsUnchanged(root, out)).toBe(false);
    recordInputs(root, out, ['src/a.ts', 'src/b.ts'], Date.now() + 1_000);

    unlinkSync(join(root, 'src', 'a.ts'));
    expect(inputsUnchanged(root, out)).toBe(false);
  });

  it('is not recorded when a file it read changed after the build began: the next build runs in full', () => {
    const { root, out } = tree();
    const began = Date.now() + 1_000;
    recordInputs(root, out, ['src/a.ts', 'src/b.ts'], began);
    expect(inputsUnchanged(root, out)).toBe(true);
    // A build that began before src/b.ts was last written (as if it was edited while esbuild read the tree).
    expect(recordInputs(root, out, ['src/a.ts', 'src/b.ts'], Date.now() - 60_000)).toBe(false);
    expect(() => readFileSync(join(out, INPUTS_RECORD))).toThrow(/ENOENT/);
    expect(inputsUnchanged(root, out)).toBe(false);
  });

  it('records the files the build left in dist/: one gone, cut short or written over is no longer intact', () => {
    const { root, out } = tree();
    mkdirSync(join(out, 'chunks'));
    writeFileSync(join(out, 'ctb.js'), 'import "./chunks/c.js";\n');
    writeFileSync(join(out, 'chunks', 'c.js'), 'export const c = 1;\n');
    writeFileSync(join(out, 'build-info.json'), '{}\n');
    expect(outputsIntact(out)).toBe(false); // no build recorded
    recordInputs(root, out, ['src/a.ts'], Date.now() + 1_000);
    expect(outputsIntact(out)).toBe(true);
    writeFileSync(join(out, 'build-info.json'), '{ "commit": "next" }\n'); // rewritten by every build: not an output
    expect(outputsIntact(out)).toBe(true);

    unlinkSync(join(out, 'chunks', 'c.js'));
    expect(outputsIntact(out)).toBe(false);
    expect(inputsUnchanged(root, out)).toBe(true); // what it read is the same: only dist/ lost a file

    writeFileSync(join(out, 'chunks', 'c.js'), 'export const c = 1;\n');
    recordInputs(root, out, ['src/a.ts'], Date.now() + 1_000);
    expect(outputsIntact(out)).toBe(true);
    truncateSync(join(out, 'chunks', 'c.js'), 5);
    expect(outputsIntact(out)).toBe(false);

    writeFileSync(join(out, 'chunks', 'c.js'), 'export const c = 1;\n');
    recordInputs(root, out, ['src/a.ts'], Date.now() + 1_000);
    const before = statSync(join(out, 'ctb.js'));
    writeFileSync(join(out, 'ctb.js'), 'import "./chunks/X.js";\n'); // same size, other bytes, written later
    utimesSync(join(out, 'ctb.js'), before.atime, new Date(before.mtimeMs + 5_000));
    expect(statSync(join(out, 'ctb.js')).size).toBe(before.size);
    expect(outputsIntact(out)).toBe(false);
  });

  it('of this checkout rebuilds a chunk of dist/ deleted since the last build', () => {
    const dist = join(copy!.dir, 'dist');
    const record = JSON.parse(readFileSync(join(dist, INPUTS_RECORD), 'utf8')) as { outputs: Record<string, [number, number]> };
    // A chunk whose name without its hash is its own: found again after the rebuild whatever its hash.
    const stemOf = (p: string) => p.replace(/-[A-Z0-9]+\.js$/, '-');
    const recorded = Object.keys(record.outputs).filter((p) => /^chunks\/.*\.js$/.test(p));
    const chunk = recorded.find((p) => recorded.filter((q) => stemOf(q) === stemOf(p)).length === 1);
    const cache = Object.keys(record.outputs).find((p) => /^fast\/.*\.cache$/.test(p));
    expect(chunk).toBeDefined();
    expect(cache).toBeDefined();
    unlinkSync(join(dist, chunk!));
    truncateSync(join(dist, cache!), 10);
    const rebuilt = build();
    expect(rebuilt.status).toBe(0);
    expect(rebuilt.stderr).toMatch(/^built dist\/ \(\d+ files\) in \d+ ms\n/);
    // The chunk is back, under its name or (where the copy reaches the packages through its linked
    // node_modules, which esbuild names by their real path) under the same stem with another hash.
    const after = JSON.parse(readFileSync(join(dist, INPUTS_RECORD), 'utf8')) as { outputs: Record<string, [number, number]> };
    const chunks = (outputs: Record<string, unknown>) => Object.keys(outputs).filter((p) => /^chunks\/.*\.js$/.test(p));
    const back = chunks(after.outputs).filter((p) => stemOf(p) === stemOf(chunk!));
    expect(back).toHaveLength(1);
    expect(existsSync(join(dist, back[0]!))).toBe(true);
    expect(chunks(after.outputs)).toHaveLength(recorded.length);
    expect(statSync(join(dist, cache!)).size).toBeGreaterThan(10);
    expect(outputsIntact(dist)).toBe(true);
    expect(buildAgain().stderr).toMatch(/^dist\/ is up to date \(no file it was built from has changed\) in \d+ ms\n/);
  }, 120_000);

  it('of this checkout lists its sources and the bundled packages, and a second build runs no esbuild', () => {
    const dist = join(copy!.dir, 'dist');
    const again = buildAgain();
    expect(again.status).toBe(0);
    expect(again.stderr).toMatch(/^dist\/ is up to date \(no file it was built from has changed\) in \d+ ms\n/);
    const record = JSON.parse(readFileSync(join(dist, INPUTS_RECORD), 'utf8')) as { inputs: string[] };
    expect(record.inputs).toContain('src/cli/main.ts');
    expect(record.inputs).toContain('commands/run-command.ts');
    expect(record.inputs.some((p) => /node_modules\/zod\//.test(p))).toBe(true);
    expect(inputsUnchanged(copy!.dir, dist)).toBe(true);
  }, 60_000);

  it('of this checkout records its own sources for bin/ctb.js as of when each build began, an unchanged one too', () => {
    const dist = join(copy!.dir, 'dist');
    const stamp = () => JSON.parse(readFileSync(join(dist, SOURCES_STAMP), 'utf8')) as { since: number; dirs: Record<string, string[]> };
    const first = stamp();
    expect(first.dirs['src/cli']).toContain('main.ts');
    expect(first.dirs['commands']).toContain('run-command.ts');
    expect(Object.keys(first.dirs).filter((d) => d.startsWith('..') || d.split('/').includes('node_modules'))).toEqual([]);
    const began = Date.now();
    const again = build();
    expect(again.stderr).toMatch(/^dist\/ is up to date \(no file it was built from has changed\) in \d+ ms\n/);
    // `npm run build` after a source was touched but not changed clears bin/ctb.js's warning.
    expect(stamp().since).toBeGreaterThanOrEqual(began);
    expect(stamp().dirs).toEqual(first.dirs);
    // Rewritten by every build: not one of the files a build wrote (which would rebuild next time).
    expect(outputsIntact(dist)).toBe(true);
  }, 60_000);

  it("leaves this checkout's own dist/ as its build wrote it: the builds above ran in a copy", () => {
    // The record lists each file the build wrote with its size and modification time: the same record,
    // and every file still as recorded, is a dist/ no build here has deleted, cut short or rewritten.
    expect(readFileSync(join(ROOT_DIST, INPUTS_RECORD), 'utf8')).toBe(rootRecord);
    expect(outputsIntact(ROOT_DIST)).toBe(true);
  });
});
