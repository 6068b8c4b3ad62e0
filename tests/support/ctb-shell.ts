// `ctb` as an operator types it in a shell: a child process (node bin/ctb.js) in a fresh working
// directory with its own HOME, DATA_DIR and LOG_DIR and nothing of this process's environment but PATH,
// so what it does comes from its arguments, `env` and the `.env` file given, as on a new machine.
// Optionally killed if it has not exited within a bound (`boundMs`): for tests of commands that used
// to hang (a server that is not PostgreSQL, one that closes during start-up), where the bound is the
// test's verdict, not a timeout — `signal` then says it was killed.
// It never reaches beyond this machine: Kraken and Slack default to a closed local port unless the
// test sets them (env or .env), and a run that connected elsewhere anyway fails (local-only.ts).
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localOnly, netWatch, offMachineError } from './local-only.js';

const BIN = new URL('../../bin/ctb.js', import.meta.url).pathname;

export interface ShellRun {
  code: number | null;
  /** The signal that ended it: SIGKILL when it outlived its `boundMs`; null when it exited. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CtbRunOptions {
  /** The script node runs: bin/ctb.js unless given (dist/ctb.js to run the ES module build itself). */
  entry?: string;
  /** SIGKILL the child if it has not exited within this many ms. */
  boundMs?: number;
}

/** `ctb args` in a fresh directory (a `.env` in it when `dotEnv` is given), at LOG_LEVEL=warn unless `env` says otherwise. */
export function ctbInShell(args: string[], env: Record<string, string>, dotEnv?: string, opts: CtbRunOptions = {}): Promise<ShellRun> {
  const dir = mkdtempSync(join(tmpdir(), 'ctb-shell-'));
  if (dotEnv !== undefined) writeFileSync(join(dir, '.env'), dotEnv);
  return ctbIn(dir, args, { LOG_LEVEL: 'warn', ...env }, opts);
}

/**
 * `ctb` run in `dir` (its working directory and HOME, DATA_DIR and LOG_DIR under it unless `env` says
 * otherwise), with nothing of this process's environment but PATH, and Kraken and Slack on a closed
 * local port unless `env` or `dir`'s .env names them. Rejects if it connected beyond this machine.
 */
export function ctbIn(dir: string, args: string[], env: Record<string, string>, opts: CtbRunOptions = {}): Promise<ShellRun> {
  const watch = netWatch(localOnly({ PATH: process.env['PATH'] ?? '', HOME: dir, DATA_DIR: join(dir, 'data'), LOG_DIR: join(dir, 'logs'), ...env }, dir));
  const child = spawn(process.execPath, [opts.entry ?? BIN, ...args], { cwd: dir, env: watch.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += String(d)));
  child.stderr.on('data', (d) => (stderr += String(d)));
  const bound = opts.boundMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), opts.boundMs);
  // Answered once its stdout and stderr are closed too ('close'), not at its exit alone: Node may
  // report the exit before the last of its output is read (seen: nine runs side by side, one came
  // back with empty stdout and stderr). A process it left holding them open (none should) is not
  // waited for past OUTPUT_AFTER_EXIT_MS: the output read by then is the answer.
  return new Promise((resolve, reject) => {
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let grace: NodeJS.Timeout | undefined;
    const answer = () => {
      clearTimeout(bound);
      clearTimeout(grace);
      const away = watch.offMachine();
      if (away.length > 0) reject(offMachineError(`ctb ${args.join(' ')}`, away));
      else resolve({ code: exited!.code, signal: exited!.signal, stdout, stderr });
    };
    child.once('exit', (code: number | null, signal: NodeJS.Signals | null) => {
      exited = { code, signal };
      grace = setTimeout(answer, OUTPUT_AFTER_EXIT_MS);
    });
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
      exited ??= { code, signal };
      answer();
    });
  });
}

/** How long a run's answer waits, after its exit, for its stdout and stderr to close. */
const OUTPUT_AFTER_EXIT_MS = 2_000;

export interface CtbChild {
  child: ReturnType<typeof spawn>;
  stdout: () => string;
  stderr: () => string;
  /** Resolves once stdout has a line matching `re`; rejects if the child exits first. */
  stdoutLine: (re: RegExp) => Promise<string>;
  /** Resolves once stderr has a line matching `re`; rejects if the child exits first. */
  stderrLine: (re: RegExp) => Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `ctb args` as ctbInShell runs it, still running: its output so far, to wait on a line and signal it. */
export function ctbChildInShell(args: string[], env: Record<string, string>): CtbChild {
  const dir = mkdtempSync(join(tmpdir(), 'ctb-shell-'));
  const watch = netWatch(localOnly({ PATH: process.env['PATH'] ?? '', HOME: dir, DATA_DIR: join(dir, 'data'), LOG_DIR: join(dir, 'logs'), LOG_LEVEL: 'warn', ...env }, dir));
  const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: watch.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  const waiting: Array<() => void> = [];
  for (const stream of ['stdout', 'stderr'] as const) {
    child[stream]!.on('data', (d) => {
      out[stream] += String(d);
      for (const check of [...waiting]) check();
    });
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => child.on('exit', (code, signal) => {
    const away = watch.offMachine();
    if (away.length > 0) reject(offMachineError(`ctb ${args.join(' ')}`, away));
    else resolve({ code, signal });
  }));
  const lineOn = (stream: 'stdout' | 'stderr') => (re: RegExp) => new Promise<string>((resolve, reject) => {
    const check = () => {
      const line = out[stream].split('\n').find((l) => re.test(l));
      if (line === undefined) return;
      waiting.splice(waiting.indexOf(check), 1);
      resolve(line);
    };
    waiting.push(check);
    check();
    exited.then(() => reject(new Error(`ctb ${args.join(' ')} exited before a ${stream} line matched ${re}:\n${out.stdout}\n${out.stderr}`)), reject);
  });
  return { child, stdout: () => out.stdout, stderr: () => out.stderr, stdoutLine: lineOn('stdout'), stderrLine: lineOn('stderr'), exited };
}
