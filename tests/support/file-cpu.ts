// What each test file costs the machine, when CTB_TEST_FILE_CPU names a file to write it to (the
// suite bench sets it; a plain `npm test` writes nothing). One JSON line a test file: the CPU-seconds
// of its worker process from the end of the file before it in that worker (or from the worker's start:
// its start-up and vitest's set-up are the first file's) to its own end, imports included, plus what
// the child processes it started and waited for used (`ctb` commands, bots, fake servers: /proc's
// cutime and cstime, which count a child once it is reaped). Not counted here: PostgreSQL's server
// processes (serverCpuS reads them), vitest's main process, the type check, and a child still
// running when its file ended.
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';

/** Linux's USER_HZ: /proc counts CPU time in hundredths of a second. */
const TICK_S = 0.01;

/** This process's own CPU-seconds and its reaped children's (/proc/self/stat), or null off Linux. */
export function processCpuS(): { own: number; children: number } | null {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    // After the command's ')': state is field 3, so utime (14), stime, cutime, cstime (17) are 11–14.
    return { own: (Number(fields[11]) + Number(fields[12])) * TICK_S, children: (Number(fields[13]) + Number(fields[14])) * TICK_S };
  } catch {
    return null;
  }
}

/** This process's CPU-seconds and its reaped children's, or null off Linux. */
export function processTreeCpuS(): number | null {
  const cpu = processCpuS();
  return cpu === null ? null : cpu.own + cpu.children;
}

export interface FileCpu {
  file: string;
  /** The worker's and its reaped children's. */
  cpuS: number;
  /** Of cpuS, the worker's own: the test code, the sources it runs in-process, imports, PGlite. */
  workerCpuS: number;
  wallS: number;
  pid: number;
}

/** Where the previous file in this worker ended: kept on globalThis, which a shared worker's files share. */
export interface FileCpuMarks {
  last?: { cpuS: number; ownS: number; atMs: number };
}
const WORKER = Symbol.for('ctb.testFileCpu');
const worker = ((globalThis as typeof globalThis & { [WORKER]?: FileCpuMarks })[WORKER] ??= {});

/**
 * Called when a test file ends: one line to `logPath`, from where the worker's previous file ended
 * (or the worker's start, for its first file) to now; this end is kept as the next file's start.
 */
export function fileCpuEnd(logPath: string, filePath: string, marks: FileCpuMarks = worker): void {
  const cpu = processCpuS();
  if (cpu === null) return;
  const cpuS = cpu.own + cpu.children;
  const start = marks.last ?? { cpuS: 0, ownS: 0, atMs: Date.now() - process.uptime() * 1000 };
  const now = Date.now();
  marks.last = { cpuS, ownS: cpu.own, atMs: now };
  const line: FileCpu = {
    file: relative(process.cwd(), filePath),
    cpuS: Number((cpuS - start.cpuS).toFixed(2)),
    workerCpuS: Number((cpu.own - start.ownS).toFixed(2)),
    wallS: Number(((now - start.atMs) / 1000).toFixed(2)),
    pid: process.pid,
  };
  appendFileSync(logPath, `${JSON.stringify(line)}\n`);
}

/** The lines `fileCpuEnd` wrote to `logPath` (none when it was never written). */
export function readFileCpu(logPath: string): FileCpu[] {
  let text: string;
  try {
    text = readFileSync(logPath, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as FileCpu);
}

/**
 * The CPU-seconds the processes named `comm` have used, their reaped children's included (for
 * PostgreSQL: the postmaster reaps the backends, so those that ended are in its cutime), or null off
 * Linux. The difference of two readings is what the server did between them, give or take the
 * earlier life of a process that ended in between.
 */
export function serverCpuS(comm: string): number | null {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  let ticks = 0;
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue;
    }
    const open = stat.indexOf('(');
    const close = stat.lastIndexOf(') ');
    if (stat.slice(open + 1, close) !== comm) continue;
    const fields = stat.slice(close + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  }
  return ticks * TICK_S;
}
