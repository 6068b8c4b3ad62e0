// How bin/ctb.js ends its process: once the command's work is done it calls process.exit with the
// exit code the command set (a natural exit would first free V8's heap page by page), unless the
// command left a beforeExit listener of its own, whose work then runs to its end first.
// Here in a checkout of its own: bin/ and a dist/ctb.js standing in for the command; a preload
// reports whether the process ended through process.exit (process.reallyExit is what it calls).
// The commands and the preload are files of their own (tests/support/bin-exit/): they run in the child.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const BIN = new URL('../../bin/', import.meta.url).pathname;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const SUPPORT = new URL('../support/bin-exit/', import.meta.url).pathname;

/** A checkout whose dist/ctb.js is `command` (tests/support/bin-exit/), run as `node bin/ctb.js`: its status and output. */
function run(command: string): { status: number | null; stdout: string; stderr: string } {
  const root = mkdtempSync(join(tmpdir(), 'ctb-bin-exit-'));
  dirs.push(root);
  for (const d of ['bin', 'dist']) mkdirSync(join(root, d));
  for (const f of ['ctb.js', 'fast-script.js']) copyFileSync(join(BIN, f), join(root, 'bin', f));
  writeFileSync(join(root, 'package.json'), '{ "type": "module" }\n');
  copyFileSync(join(SUPPORT, command), join(root, 'dist', 'ctb.js'));
  const r = spawnSync(process.execPath, ['--import', join(SUPPORT, 'report-exit.mjs'), join(root, 'bin', 'ctb.js')], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('bin/ctb.js ending its process', () => {
  it('ends through process.exit once the command has done its work, with the exit code it set', () => {
    const r = run('done-later.mjs');
    expect(r.stdout).toBe('done\n');
    expect(r.status).toBe(3);
    expect(r.stderr).toBe('ended through process.exit with 3\n');
  });

  it("lets a beforeExit listener of the command's start more work and finish it first", () => {
    const r = run('flush-before-exit.mjs');
    expect(r.stdout).toBe('done\nflushed\n');
    expect(r.status).toBe(4);
  });
});
