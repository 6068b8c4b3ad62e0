// `MARKET_FEED=replay npm start` on a fresh data directory paper-trades on the embedded database with
// no keys and no network, and `ctb validate-trades` from a second process — through the running
// bot's socket — sees its closed trades and finds them consistent.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/ctb.js');

describe('ctb start on the replay feed (embedded database)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctb-start-'));
  const env = {
    PATH: process.env.PATH ?? '', HOME: dir, MARKET_FEED: 'replay', REPLAY_INTERVAL: '20ms', PORT: '0', HOST: '127.0.0.1',
    DATA_DIR: join(dir, 'data'), LOG_DIR: join(dir, 'logs'), LOG_LEVEL: 'info',
  };
  let bot: ChildProcess | undefined;
  afterAll(() => {
    if (bot && bot.exitCode === null) bot.kill('SIGKILL');
  });

  it('produces a closed trade that validate-trades (run beside it) finds consistent, then stops cleanly', async () => {
    bot = spawn(process.execPath, [BIN, 'start'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    bot.stdout?.on('data', (d) => (output += String(d)));
    bot.stderr?.on('data', (d) => (output += String(d)));
    const exited = new Promise<number | null>((resolve) => bot!.on('exit', (code) => resolve(code)));

    const deadline = Date.now() + 240_000;
    let result: { ok: boolean; checked: number; offending: unknown[] } | undefined;
    // validate-trades goes once the bot has said it serves and closed a trade (its JSON close line),
    // and again while it finds none: one second process in most runs, not one every 2 s from the start.
    let tried = false;
    while (Date.now() < deadline && bot.exitCode === null) {
      await new Promise((r) => setTimeout(r, tried ? 500 : 100));
      if (!/ctb running on port/.test(output) || !/"event":"close"/.test(output)) continue;
      tried = true;
      const run = spawnSync(process.execPath, [BIN, 'validate-trades', '--json'], { cwd: dir, env, encoding: 'utf8', timeout: 60_000 });
      // Until the bot serves its database, the CLI answers with an error on stderr: keep polling.
      if ((run.status !== 0 && run.status !== 1) || !run.stdout.trim().startsWith('{')) continue;
      result = JSON.parse(run.stdout);
      expect(run.status).toBe(result!.ok ? 0 : 1);
      if (result!.checked >= 1) break;
    }
    expect(result, output).toBeDefined();
    expect(result!.checked).toBeGreaterThanOrEqual(1);
    expect(result!.offending).toEqual([]);
    expect(result!.ok).toBe(true);
    expect(output).toMatch(/paper only, pglite, feed replay/);

    bot.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 300_000);
});
