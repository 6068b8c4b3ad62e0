// withCwd runs one call from another working directory and puts the one before back, so that a file
// sharing its worker process leaves the working directory as it found it for the next file.
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { withCwd } from '../support/with-cwd.js';

const start = process.cwd();
const dir = realpathSync(mkdtempSync(join(tmpdir(), 'ctb-with-cwd-')));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('withCwd', () => {
  it('runs a synchronous call from the directory and puts the one before back', () => {
    expect(withCwd(dir, () => process.cwd())).toBe(dir);
    expect(process.cwd()).toBe(start);
  });

  it('keeps the directory for the whole of an asynchronous call and puts the one before back when it settles', async () => {
    const pending = withCwd(dir, async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return process.cwd();
    });
    expect(process.cwd()).toBe(dir); // still inside the call
    expect(await pending).toBe(dir);
    expect(process.cwd()).toBe(start);
  });

  it('puts the one before back when the call throws or its promise rejects', async () => {
    expect(() => withCwd(dir, () => { throw new Error('sync'); })).toThrow('sync');
    expect(process.cwd()).toBe(start);
    await expect(withCwd(dir, async () => { throw new Error('async'); })).rejects.toThrow('async');
    expect(process.cwd()).toBe(start);
  });

  it('changes nothing when the directory cannot be entered', () => {
    expect(() => withCwd(join(dir, 'missing'), () => 'ran')).toThrow(/ENOENT/);
    expect(process.cwd()).toBe(start);
  });
});
