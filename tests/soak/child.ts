// Owns running the shipped `ctb` binary as a person would from a shell: a long-lived child (the
// simulator, the bot) whose output is kept and can be waited on, and one-shot commands (`ctb kill`,
// `ctb reconcile --json`) with their exit code and output. Nothing inherits the test's environment:
// each child gets PATH and HOME plus exactly what the caller passes. The binary is this checkout's
// unless a caller names another (the release directory the soak goes live from: tests/support/release-dir.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = new URL('../..', import.meta.url).pathname;
export const BIN = join(ROOT, 'bin/ctb.js');

export type Env = Record<string, string>;

const baseEnv = (home: string): Env => ({ PATH: process.env['PATH'] ?? '', HOME: home });

/** Polls `cond` every `everyMs` until it is true; throws with `describe()` after `timeoutMs`. */
export async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs: number, describe: () => string, everyMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s ${describe()}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface LongChild {
  proc: ChildProcess;
  pid: number;
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  running(): boolean;
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  signal(signal: NodeJS.Signals): void;
}

export function startChild(args: string[], env: Env, cwd: string, onLine?: (line: string) => void, bin = BIN): LongChild {
  const proc = spawn(process.execPath, [bin, ...args], { cwd, env: { ...baseEnv(cwd), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let partial = '';
  const take = (d: Buffer) => {
    const text = String(d);
    output += text;
    if (!onLine) return;
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  };
  proc.stdout!.on('data', take);
  proc.stderr!.on('data', take);
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const running = () => proc.exitCode === null && proc.signalCode === null;
  return {
    proc, pid: proc.pid!, output: () => output, exited, running,
    async waitFor(pattern, timeoutMs) {
      let match: RegExpMatchArray | null = null;
      await waitUntil(() => {
        match = pattern.exec(output);
        if (!match && !running()) throw new Error(`ctb ${args[0]} exited (${proc.exitCode ?? proc.signalCode}) before printing ${pattern}:\n${output.slice(-4000)}`);
        return match !== null;
      }, timeoutMs, () => `waiting for ${pattern} from ctb ${args[0]}:\n${output.slice(-4000)}`, 100);
      return match!;
    },
    signal(signal) {
      if (running()) proc.kill(signal);
    },
  };
}

export interface CtbRun {
  args: string[];
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `ctb <args>` (of `bin`) to completion (killed after `timeoutMs`, then code is null). */
export function runCtb(args: string[], env: Env, cwd: string, opts: { bin?: string; timeoutMs?: number } = {}): Promise<CtbRun> {
  const { bin = BIN, timeoutMs = 300_000 } = opts;
  const child = spawn(process.execPath, [bin, ...args], { cwd, env: { ...baseEnv(cwd), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += String(d)));
  child.stderr.on('data', (d) => (stderr += String(d)));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => child.on('exit', (code) => {
    clearTimeout(timer);
    resolve({ args, code, stdout, stderr });
  }));
}

/** What a failed command said, for an assertion message. */
export const describeRun = (r: CtbRun) => `ctb ${r.args.join(' ')} → exit ${r.code}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`;
