// A `ctb` child in a fresh directory, as ctb-shell.ts runs it, killed if it has not exited within a
// bound: for tests of commands that used to hang (a server that is not PostgreSQL, one that closes
// during start-up), where the bound is the test's verdict, not a timeout. And a free loopback port.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = new URL('../../bin/ctb.js', import.meta.url).pathname;

export interface BoundedRun { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }

/** Runs `ctb args` with only PATH, HOME, DATA_DIR, LOG_DIR, LOG_LEVEL=warn and `env`; SIGKILLed after `boundMs`. */
export function boundedCtb(args: string[], env: Record<string, string>, opts: { boundMs: number; dirPrefix: string }): Promise<BoundedRun> {
  const dir = mkdtempSync(join(tmpdir(), opts.dirPrefix));
  const started = performance.now();
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: dir,
    env: { PATH: process.env['PATH'] ?? '', HOME: dir, DATA_DIR: join(dir, 'data'), LOG_DIR: join(dir, 'logs'), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += String(d)));
  child.stderr.on('data', (d) => (stderr += String(d)));
  const bound = setTimeout(() => child.kill('SIGKILL'), opts.boundMs);
  return new Promise((resolve) => child.on('exit', (code, signal) => {
    clearTimeout(bound);
    resolve({ code, signal, stdout, stderr, ms: performance.now() - started });
  }));
}

/** A loopback port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
