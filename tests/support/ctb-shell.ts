// `ctb` as an operator types it in a shell: a child process (node bin/ctb.js) in a fresh working
// directory with its own HOME, DATA_DIR and LOG_DIR and nothing of this process's environment but PATH,
// so what it does comes from its arguments, `env` and the `.env` file given, as on a new machine.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = new URL('../../bin/ctb.js', import.meta.url).pathname;

export interface ShellRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function ctbInShell(args: string[], env: Record<string, string>, dotEnv?: string): Promise<ShellRun> {
  const dir = mkdtempSync(join(tmpdir(), 'ctb-shell-'));
  if (dotEnv !== undefined) writeFileSync(join(dir, '.env'), dotEnv);
  return ctbIn(dir, args, { LOG_LEVEL: 'warn', ...env });
}

/**
 * `ctb` run in `dir` (its working directory and HOME, DATA_DIR and LOG_DIR under it unless `env` says
 * otherwise), with nothing of this process's environment but PATH. `entry` is the script node runs:
 * bin/ctb.js unless given (dist/ctb.js to run the ES module build itself).
 */
export function ctbIn(dir: string, args: string[], env: Record<string, string>, entry = BIN): Promise<ShellRun> {
  const child = spawn(process.execPath, [entry, ...args], {
    cwd: dir,
    env: { PATH: process.env['PATH'] ?? '', HOME: dir, DATA_DIR: join(dir, 'data'), LOG_DIR: join(dir, 'logs'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += String(d)));
  child.stderr.on('data', (d) => (stderr += String(d)));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}
