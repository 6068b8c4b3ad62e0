// A stop signal sent to `npm run demo` / `npm start` stops the bot. npm runs a script through `sh -c`,
// and Debian's sh (dash) forks the command instead of replacing itself with it: a supervisor's
// SIGTERM to npm (systemd, docker, a process manager) reached only that shell, and the bot, left
// without a parent, went on trading. The scripts `exec` node, so npm's child is the bot itself and
// npm hands the signal straight to it.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, waitUntil } from '../support/bot-process.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Pids of this user's processes whose environment holds `marker` (the test's own DATA_DIR). */
function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(`DATA_DIR=${marker}`)) found.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours
    }
  }
  return found;
}

describe('npm scripts that run the bot', () => {
  it('exec node, so a signal to npm reaches the bot (start, demo, web, worker, migrate, ctb)', () => {
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    for (const name of ['start', 'demo', 'web', 'worker', 'migrate', 'ctb']) expect(scripts[name], name).toMatch(/^exec node bin\/ctb\.js\b/);
  });

  it.runIf(process.platform === 'linux')('SIGTERM to `npm run demo` stops the bot, and it releases its engine lease', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctb-npm-stop-'));
    dirs.push(dir);
    const dataDir = join(dir, 'data');
    const npm = spawn('npm', ['run', '-s', 'demo'], {
      cwd: ROOT,
      // npm itself asks registry.npmjs.org for a newer npm from a fresh HOME: not from a test.
      env: { PATH: process.env['PATH'] ?? '', HOME: dir, DATA_DIR: dataDir, LOG_DIR: join(dir, 'logs'), PORT: '0', HOST: '127.0.0.1', npm_config_update_notifier: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    npm.stdout.on('data', (d) => (output += String(d)));
    npm.stderr.on('data', (d) => (output += String(d)));
    const npmExited = new Promise<void>((resolve) => npm.on('exit', () => resolve()));
    try {
      await waitUntil(() => output.includes('"engine ready"'), 60_000, () => `the demo's engine to start:\n${output.slice(-3000)}`);
      expect(processesWith(dataDir).length).toBeGreaterThan(0);

      npm.kill('SIGTERM');
      await npmExited;
      // The bot stops by itself (its own SIGTERM handling), not because the test cleans up after it.
      await waitUntil(() => processesWith(dataDir).length === 0, 20_000, () => `the bot to stop after npm's SIGTERM; still running: ${processesWith(dataDir).join(', ')}\n${output.slice(-3000)}`);
      expect(output).toMatch(/"signal":"SIGTERM".*"msg":"stopping"/);
      expect(output).toContain('"engine lease released"');
      // And it says it stopped, once it has (the last line an operator reads).
      expect(output).toMatch(/"signal":"SIGTERM".*"msg":"stopped after SIGTERM in \d+ ms/);
    } finally {
      for (const pid of processesWith(dataDir)) process.kill(pid, 'SIGKILL');
    }
  }, 90_000);
});
