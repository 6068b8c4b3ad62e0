// A `ctb` command that opens the embedded database itself for one command runs PGlite's WebAssembly
// on V8's baseline compiler only (src/db/pglite-start.ts, ONE_SHOT_WASM_FLAGS): the optimising
// compiler's background compiles cost a command that lives a second more CPU than they ever saved.
// The bot tiers hot functions up to TurboFan, but not what only its start ran hot (BOT_WASM_TIERING_FLAG). Judged by V8's own trace of its WebAssembly
// compiles in the command's process (--trace-wasm-compilation-times prints one line per compiled
// function on stdout, naming the compiler): what reached V8, not what the code meant to set.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, startBotProcess, type BotProcess } from '../support/bot-process.js';

const TRACE = '--trace-wasm-compilation-times';
const LIFTOFF = /^Compiled function \S+ using Liftoff/m;
const TURBOFAN = /^Compiled function \S+ using TurboFan/m;

function traced(dir: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [TRACE, BIN, ...args], {
    cwd: dir,
    env: { PATH: process.env['PATH'] ?? '', HOME: dir, DATA_DIR: join(dir, 'data'), LOG_DIR: join(dir, 'logs'), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += String(d)));
  child.stderr.on('data', (d) => (stderr += String(d)));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

const bots: BotProcess[] = [];
const dirs: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};
afterEach(async () => {
  for (const b of bots.splice(0)) {
    b.kill('SIGKILL');
    await b.exited;
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('V8 compilers for the embedded database', () => {
  it('a one-shot command (stats on a fresh directory, then kill) compiles PGlite with Liftoff only, never TurboFan', async () => {
    const dir = tempDir('ctb-wasm-');
    const stats = await traced(dir, ['stats', '--json']);
    expect(stats.code, stats.stderr).toBe(0);
    expect(stats.stdout).toContain('"ok": true');
    expect(stats.stdout).toMatch(LIFTOFF); // PGlite ran in this process, traced
    expect(stats.stdout.match(TURBOFAN)?.[0]).toBeUndefined();

    // `ctb kill` opens the database by its own path (no migration; it must run while the database is away).
    const kill = await traced(dir, ['kill', '--json', '--reason', 'compilers']);
    expect(kill.stdout).toContain('"killId"');
    expect(kill.stdout).toMatch(LIFTOFF);
    expect(kill.stdout.match(TURBOFAN)?.[0]).toBeUndefined();
  }, 120_000);

  it('the bot (ctb start) tiers hot functions up to TurboFan, but few of those its start alone ran hot', async () => {
    const dir = tempDir('ctb-wasm-bot-');
    const env = {
      PATH: process.env['PATH'] ?? '', HOME: dir, MARKET_FEED: 'replay', REPLAY_INTERVAL: '1h', PORT: '0', HOST: '127.0.0.1',
      DATA_DIR: join(dir, 'data'), LOG_DIR: join(dir, 'logs'), LOG_LEVEL: 'info',
    };
    const bot = startBotProcess(['start'], env, dir, BIN, [TRACE]);
    bots.push(bot);
    // Opened, migrated, engine started: by V8's default budget over a hundred TurboFan compiles had
    // finished by then (seen: 112 at load 14, more on an idle machine); with the bot's budget a few.
    await bot.waitFor(/engine lease taken/, 120_000);
    const atStart = bot.output().match(new RegExp(TURBOFAN.source, 'gm'))?.length ?? 0;
    expect(atStart).toBeLessThan(20);
    await bot.waitFor(TURBOFAN, 120_000);
    expect(bot.output()).toMatch(LIFTOFF);
  }, 150_000);
});
