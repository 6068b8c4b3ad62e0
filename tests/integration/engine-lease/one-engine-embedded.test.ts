// One engine per embedded DATA_DIR, with real processes (the shipped `ctb start`): a second bot on the
// same DATA_DIR is refused with exit 1 (a state that refuses it, not a configuration error) naming the first, which keeps running and serving the CLI.
// (PostgreSQL: one-engine-workers.test.ts; an armed takeover: one-engine-takeover.test.ts.)
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN } from '../../support/bot-process.js';
import { baseEnv, bot, killBotsAfterEach } from './one-engine-bots.js';

killBotsAfterEach();

describe('one engine per embedded DATA_DIR', () => {
  it('refuses a second ctb start on the same DATA_DIR with exit 1, naming the running bot (pid, host, role, since), and leaves it serving', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctb-one-engine-'));
    // Whether it trades is not looked at here: only that it runs, refuses the second and serves the CLI.
    // The first candle a second in, not an hour: the start banner waits (up to 5 s) for the engine's first pass.
    const env = baseEnv(dir, { REPLAY_INTERVAL: '1s' }, { idle: true });
    const first = bot(['start'], env, dir);
    await first.waitFor(/ctb running on port/, 120_000);
    await first.waitFor(/engine lease taken/);

    const second = bot(['start', '--role', 'worker'], env, dir);
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain(`DATA_DIR ${env.DATA_DIR} is already in use by pid ${first.pid} on host ${hostname()} (ctb start --role all) since 20`);
    expect(second.output()).not.toMatch(/engine ready|ctb running on port/);

    // The first bot still runs, serves its database to the CLI, and holds the engine lease.
    expect(first.proc.exitCode).toBeNull();
    const status = spawnSync(process.execPath, [BIN, 'mode', 'status', '--json'], { cwd: dir, env, encoding: 'utf8', timeout: 60_000 });
    expect(status.status, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).engine).toMatchObject({ state: 'running', pid: first.pid, host: hostname(), role: 'all', feed: 'replay', armed: false });

    first.kill('SIGTERM');
    expect(await first.exited).toBe(0);
  }, 240_000);
});
