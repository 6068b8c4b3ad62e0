// Runs `ctb start` (the shipped binary) as a child process for tests that need real separate
// processes: its combined output, its exit, and a wait for a line or a condition. Kraken and Slack
// are on a closed local port unless the test sets them (env or .env), and a bot that connected beyond
// this machine anyway fails its waits and its exit (local-only.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { localOnly, netWatch, offMachineError } from './local-only.js';

export const ROOT = new URL('../..', import.meta.url).pathname;
export const BIN = join(ROOT, 'bin/ctb.js');

export interface BotProcess {
  proc: ChildProcess;
  pid: number;
  output(): string;
  /** Its exit code; rejects if it connected beyond this machine. */
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
  const watch = netWatch(localOnly(env, cwd));
  const proc = spawn(process.execPath, [...nodeArgs, bin, ...args], { cwd, env: watch.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout?.on('data', (d) => (output += String(d)));
  proc.stderr?.on('data', (d) => (output += String(d)));
  const away: string[] = [];
  const exited = new Promise<number | null>((resolve, reject) => proc.on('exit', (code) => {
    away.push(...watch.offMachine());
    if (away.length > 0) reject(offMachineError(`ctb ${args.join(' ')}`, away));
    else resolve(code);
  }));
  // A test that never awaits the exit still fails through its waits (below) while the bot runs.
  exited.catch(() => {});
  return {
    proc, pid: proc.pid!, output: () => output, exited,
    async waitFor(pattern, timeoutMs = 60_000) {
      await waitUntil(() => {
        const seen = watch.seen();
        if (seen.length > 0) throw offMachineError(`ctb ${args.join(' ')}`, seen);
        return pattern.test(output);
      }, timeoutMs, () => `waiting for ${pattern} in:\n${output.slice(-4000)}`);
    },
    kill(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    },
  };
}

export async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs: number, describe: () => string = () => 'condition', intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out ${describe()}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
