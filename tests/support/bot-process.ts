// Runs `ctb start` (the shipped binary) as a child process for tests that need real separate
// processes: its combined output, its exit, and a wait for a line or a condition.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = new URL('../..', import.meta.url).pathname;
export const BIN = join(ROOT, 'bin/ctb.js');

export interface BotProcess {
  proc: ChildProcess;
  pid: number;
  output(): string;
  exited: Promise<number | null>;
  /** Waits until the output matches `pattern`; throws with the output after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): void;
}

/**
 * `bin`: another build's bin/ctb.js (a release directory: tests/support/release-dir.ts); this checkout's by default.
 * `nodeArgs`: options for node itself, before the script (a V8 trace).
 */
export function startBotProcess(args: string[], env: Record<string, string>, cwd: string, bin = BIN, nodeArgs: string[] = []): BotProcess {
  const proc = spawn(process.execPath, [...nodeArgs, bin, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout?.on('data', (d) => (output += String(d)));
  proc.stderr?.on('data', (d) => (output += String(d)));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    proc, pid: proc.pid!, output: () => output, exited,
    async waitFor(pattern, timeoutMs = 60_000) {
      await waitUntil(() => pattern.test(output), timeoutMs, () => `waiting for ${pattern} in:\n${output.slice(-4000)}`);
    },
    kill(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    },
  };
}

export async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs: number, describe: () => string = () => 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out ${describe()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
