// Issue 16: `ctb` on the PATH after the README's set-up. The set-up links the package (`npm link`),
// which puts a symlink named after package.json's "bin" into a directory on the PATH; here the same
// symlink in a temporary directory, run by name from another directory, as a shell would.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'ctb-path-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ctb on the PATH', () => {
  it('the README sets it up with npm link and writes every example as plain ctb', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const setup = readme.slice(readme.indexOf('## Set-up'), readme.indexOf('## Configuration'));
    expect(setup).toMatch(/^npm link\b/m);
    expect(readme).not.toMatch(/npx ctb(?! …)/);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(pkg.bin).toEqual({ ctb: 'bin/ctb.js' });
  });

  it('runs by name through a link like the one npm link makes, from any directory', () => {
    const bin = join(dir, 'bin');
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(bin);
    mkdirSync(elsewhere);
    symlinkSync(join(ROOT, 'bin/ctb.js'), join(bin, 'ctb'));
    const env = { PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: dir, DATA_DIR: join(elsewhere, 'data'), LOG_DIR: join(elsewhere, 'logs') };
    const version = spawnSync('ctb', ['--version'], { cwd: elsewhere, env, encoding: 'utf8', timeout: 60_000 });
    expect(version.error).toBeUndefined();
    expect(version.status, version.stderr).toBe(0);
    expect(version.stdout).toMatch(/commit|package version/);
    const help = spawnSync('ctb', ['--help'], { cwd: elsewhere, env, encoding: 'utf8', timeout: 60_000 });
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/-V, --version/);
  });
});
