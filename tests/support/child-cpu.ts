// What the child processes tests start cost, when CTB_TEST_CHILD_CPU names a file to write it to (a
// plain `npm test` writes nothing): every node child gets child-cpu-preload.cjs through NODE_OPTIONS
// and writes a line as it exits (its command, CPU-seconds, lifetime, whether it opened PGlite), and
// this side writes one per child it started (command, test file, wall time, and a /proc sample of its
// CPU taken before each signal a test sends it and every 250 ms, for a child that dies of a signal
// before it can write its own line). scripts/child-cpu-report.mjs adds them up.
import { appendFileSync, readFileSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { promisify } from 'node:util';

const PRELOAD = new URL('./child-cpu-preload.cjs', import.meta.url).pathname;
const state = { file: '' };

/** The CPU-seconds of process `pid` so far (/proc/<pid>/stat), or null once it is gone. */
function sample(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
  } catch {
    return null;
  }
}

type Opts = { env?: NodeJS.ProcessEnv } | undefined;

function withPreload(log: string, opts: Opts): Opts {
  const env = { ...(opts?.env ?? process.env) };
  env['NODE_OPTIONS'] = `${env['NODE_OPTIONS'] ?? ''} --require ${PRELOAD}`.trim();
  env['CTB_TEST_CHILD_CPU'] = log;
  env['CTB_TEST_CHILD_FILE'] = state.file;
  return { ...opts, env };
}

/** Splits (args?, options?, callback?) as child_process's functions take them. */
function split(rest: unknown[]): { args: unknown[]; optIndex: number } {
  const optIndex = rest.findIndex((a) => a !== null && typeof a === 'object' && !Array.isArray(a));
  return { args: rest, optIndex };
}

const MARKER = Symbol.for('ctb.childCpu');
const FUNCTIONS = ['spawn', 'execFile', 'fork', 'spawnSync', 'execFileSync'];

/**
 * Installs the measurement in this worker (once: a worker's later files only name themselves) and
 * names the test file its children are counted to. Returns what puts child_process back.
 */
export function measureChildren(log: string, file: string): () => void {
  state.file = file;
  const g = globalThis as { [MARKER]?: () => void };
  if (g[MARKER]) return g[MARKER];
  const cp = createRequire(import.meta.url)('node:child_process') as Record<string, (...a: unknown[]) => unknown>;
  const originals = Object.fromEntries(FUNCTIONS.map((name) => [name, cp[name]!]));
  g[MARKER] = () => {
    Object.assign(cp, originals);
    syncBuiltinESMExports();
    delete g[MARKER];
  };
  for (const name of FUNCTIONS) {
    const original = originals[name]!;
    const wrapped = function (this: unknown, command: unknown, ...rest: unknown[]) {
      const { args, optIndex } = split(rest);
      const list = Array.isArray(args[0]) ? (args[0] as unknown[]) : [];
      if (optIndex === -1) {
        const at = Array.isArray(args[0]) ? 1 : 0;
        args.splice(at, 0, withPreload(log, undefined));
      } else {
        args[optIndex] = withPreload(log, args[optIndex] as Opts);
      }
      const started = Date.now();
      const file = state.file;
      const result = original.call(this, command, ...args);
      const child = result as { pid?: number; on?: (e: string, f: (...a: unknown[]) => void) => void; kill?: (s?: string) => boolean };
      if (typeof child?.on === 'function' && typeof child.pid === 'number') {
        const pid = child.pid;
        let last: number | null = null;
        const timer = setInterval(() => (last = sample(pid) ?? last), 250);
        timer.unref();
        const kill = child.kill!.bind(child);
        child.kill = (s?: string) => {
          last = sample(pid) ?? last;
          return kill(s as NodeJS.Signals);
        };
        child.on('exit', (code: unknown, signal: unknown) => {
          clearInterval(timer);
          const line = { kind: 'spawn', pid, command: String(command), args: list.map(String), file, wallS: (Date.now() - started) / 1000, code, signal, sampledS: last, fn: name };
          appendFileSync(log, `${JSON.stringify(line)}\n`);
        });
      } else if (result !== null && typeof result === 'object' && 'pid' in result) {
        const line = { kind: 'spawn', pid: (result as { pid: number }).pid, command: String(command), args: list.map(String), file, wallS: (Date.now() - started) / 1000, fn: name };
        appendFileSync(log, `${JSON.stringify(line)}\n`);
      }
      return result;
    };
    // execFile's promisified form resolves { stdout, stderr }: kept, through the wrapper.
    if ((original as { [promisify.custom]?: unknown })[promisify.custom]) {
      Object.defineProperty(wrapped, promisify.custom, {
        value: (...a: unknown[]) => {
          let child: unknown;
          const p = new Promise((resolve, reject) => {
            child = wrapped(...(a as [unknown]), (err: (Error & object) | null, stdout: unknown, stderr: unknown) =>
              err ? reject(Object.assign(err, { stdout, stderr })) : resolve({ stdout, stderr }));
          });
          return Object.assign(p, { child });
        },
      });
    }
    cp[name] = wrapped;
  }
  syncBuiltinESMExports();
  return g[MARKER];
}
