// A DATA_DIR that cannot be made or written is a configuration error (DESIGN invariant 8): the
// command names DATA_DIR, what went wrong and what is expected, and exits 2 — never the raw errno
// text of a mkdir. Real `ctb` processes; the tests run as root, so the unusable directories are a
// file in DATA_DIR's place (EEXIST) or in its path (ENOTDIR); the other errnos through the mapping.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dataDirProblem } from '../../../src/config/data-dir.js';
import { ctbIn } from '../../support/ctb-shell.js';

const errno = (code: string) => Object.assign(new Error(`${code}: raw text`), { code });

describe('an unusable DATA_DIR', () => {
  it.each([
    ['stats', ['stats']],
    ['start', ['start', '--feed', 'replay']],
  ])('ctb %s: a file in its place or in its path is a config error naming DATA_DIR, exit 2', async (_name, args) => {
    const dir = mkdtempSync(join(tmpdir(), 'ctb-data-dir-'));
    writeFileSync(join(dir, 'afile'), 'not a directory\n');
    const inPlace = await ctbIn(dir, args, { DATA_DIR: './afile', LOG_LEVEL: 'warn' }, { boundMs: 60_000 });
    expect(inPlace.code, `${inPlace.stdout}\n${inPlace.stderr}`).toBe(2);
    expect(inPlace.stderr).toContain('error: DATA_DIR ./afile: cannot create it (a file, not a directory, is in its place): expected a writable directory.');
    expect(inPlace.stderr).not.toMatch(/EEXIST|mkdir/);
    const under = await ctbIn(dir, args, { DATA_DIR: './afile/data', LOG_LEVEL: 'warn' }, { boundMs: 60_000 });
    expect(under.code, `${under.stdout}\n${under.stderr}`).toBe(2);
    expect(under.stderr).toContain('error: DATA_DIR ./afile/data: cannot create it (a part of its path is a file, not a directory): expected a writable directory.');
    expect(under.stderr).not.toMatch(/ENOTDIR|mkdir/);
  }, 150_000);

  it('says each errno that makes it unusable in words, as a config error; any other error is not about DATA_DIR', () => {
    const said = (code: string, step: 'create' | 'write' = 'create') => dataDirProblem(errno(code), './ro/data', step);
    expect(said('EACCES')).toMatchObject({ kind: 'config', message: 'DATA_DIR ./ro/data: cannot create it (permission denied): expected a writable directory.' });
    expect(said('EPERM')?.message).toBe('DATA_DIR ./ro/data: cannot create it (operation not permitted): expected a writable directory.');
    expect(said('EROFS')?.message).toBe('DATA_DIR ./ro/data: cannot create it (read-only file system): expected a writable directory.');
    expect(said('EEXIST')?.message).toBe('DATA_DIR ./ro/data: cannot create it (a file, not a directory, is in its place): expected a writable directory.');
    expect(said('ENOTDIR')?.message).toBe('DATA_DIR ./ro/data: cannot create it (a part of its path is a file, not a directory): expected a writable directory.');
    expect(said('EACCES', 'write')?.message).toBe('DATA_DIR ./ro/data: cannot write in it (permission denied): expected a writable directory.');
    expect(said('EMFILE')).toBeNull();
    expect(dataDirProblem(new Error('no code'), './ro/data')).toBeNull();
  });
});
