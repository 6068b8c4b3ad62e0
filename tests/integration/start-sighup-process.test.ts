// Closing the terminal of `ctb start` sends it SIGHUP: the bot stops the way it does on SIGINT/SIGTERM
// (logs the stop, releases the engine lease, removes its PGlite lock and socket), with the shipped binary,
// also when it comes while the bot is still starting.
import { existsSync, mkdtempSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseEnv, bot, killBotsAfterEach } from './engine-lease/one-engine-bots.js';

killBotsAfterEach();

// The idle replay plays a candle an hour, the first one too: the start banner, which these tests wait
// for, then waited out its 5 s for the engine's first pass. A candle a second still leaves it idle.
const FIRST_CANDLE_SOON = { REPLAY_INTERVAL: '1s' };

describe('ctb start on SIGHUP', () => {
  it('stops cleanly: logs stopping/stopped, releases the engine lease, removes pglite.lock and its socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctb-sighup-'));
    const env = baseEnv(dir, FIRST_CANDLE_SOON, { idle: true });
    const b = bot(['start'], env, dir);
    await b.waitFor(/ctb running on port/, 120_000);
    await b.waitFor(/engine lease taken/);
    expect(existsSync(join(env.DATA_DIR!, 'pglite.lock'))).toBe(true);

    b.kill('SIGHUP');
    expect(await b.exited).toBe(0);
    expect(b.output()).toMatch(/"signal":"SIGHUP"[^\n]*"msg":"stopping"/);
    expect(b.output()).toContain('engine lease released');
    expect(b.output()).toMatch(/stopped after SIGHUP in \d+ ms/);
    expect(existsSync(join(env.DATA_DIR!, 'pglite.lock'))).toBe(false);
    expect(existsSync(join(env.DATA_DIR!, 'pglite.sock'))).toBe(false);
  }, 240_000);

  // Since a start may wait on a database without end (src/app/wait-for-database.ts), a stop signal
  // during it stops it where it is: the parts started are stopped, the lock and socket removed, exit 0.
  // Or, when the start was over before the signal was handled, as a running bot stops.
  it('a SIGHUP while the bot is still starting stops it cleanly: the parts started stopped, nothing left behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctb-sighup-starting-'));
    const env = baseEnv(dir, {}, { idle: true });
    const b = bot(['start'], env, dir);
    // Its first line: the embedded database is not open yet, the engine not started.
    await b.waitFor(/starting ctb \(/, 120_000);
    b.kill('SIGHUP');
    expect(await b.exited).toBe(0);
    expect(b.output()).toMatch(/stopped after SIGHUP in \d+ ms(: stopped during the start, at the part )?/);
    expect(existsSync(join(env.DATA_DIR!, 'pglite.lock'))).toBe(false);
    expect(existsSync(join(env.DATA_DIR!, 'pglite.sock'))).toBe(false);
  }, 240_000);

  // A handle some library leaves open (a socket, a timer) would keep the process up after "stopped", and
  // a supervisor waiting for the exit would have to kill it: it exits all the same, naming what was open.
  it('exits after the stop even when a handle is left open, and says what was open', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctb-sigterm-open-'));
    const leave = fileURLToPath(new URL('../support/leave-handle-open.mjs', import.meta.url));
    const env = { ...baseEnv(dir, FIRST_CANDLE_SOON, { idle: true }), NODE_OPTIONS: `--import=${leave}` };
    const b = bot(['start'], env, dir);
    await b.waitFor(/ctb running on port/, 120_000);
    await b.waitFor(/engine lease taken/);
    b.kill('SIGTERM');
    await b.waitFor(/stopped after SIGTERM in \d+ ms/, 60_000);
    const exit = await Promise.race([b.exited, new Promise<string>((resolve) => setTimeout(() => resolve('still running 30 s after "stopped"'), 30_000).unref())]);
    expect(exit).toBe(0);
    expect(b.output()).toMatch(/"event":"exit_with_handles_open"[^\n]*"msg":"exiting 2 s after the stop with 1 timer\(s\) still open: not waiting for them"/);
  }, 240_000);
});
