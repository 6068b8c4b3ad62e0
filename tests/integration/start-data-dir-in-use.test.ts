// A second `ctb start` on an embedded DATA_DIR a running bot holds is refused with exit 1: by the
// README's exit codes that is "a state that refuses it" (it passes once that bot stops), not a usage
// or configuration error (2). The process-level cases: start-port-taken-process.test.ts.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { lockPath } from '../../src/db/pglite-lock.js';
import { recordingIo } from '../support/cli-io.js';

describe('ctb start on a DATA_DIR in use', () => {
  it('exits 1 naming the running bot and what to do, touching nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctb-data-dir-in-use-'));
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir);
    // The holder: a live process that is not this one (the test runner's parent).
    const since = '2026-12-05T22:00:00.000Z';
    writeFileSync(lockPath(dataDir), JSON.stringify({ pid: process.ppid, socketPath: null, since, host: hostname(), role: 'all' }));
    const io = recordingIo({ DATA_DIR: dataDir, LOG_DIR: join(dir, 'logs'), PORT: '0', HOST: '127.0.0.1' });
    expect(await runCli(['start', '--feed', 'replay'], io)).toBe(1);
    expect(io.err()).toContain(`error: DATA_DIR ${dataDir} is already in use by pid ${process.ppid} on host ${hostname()} (ctb start --role all) since ${since}: one bot per embedded database. Stop that bot first`);
    expect(existsSync(join(dir, 'logs'))).toBe(false);
  });
});
