// The suite bench's per-file CPU (tests/support/file-cpu.ts): what it counts must be the CPU spent,
// this process's and its finished children's, or the costliest files it names are the wrong ones.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileCpuEnd, processTreeCpuS, readFileCpu, serverCpuS } from '../support/file-cpu.js';

/**
 * Keeps a core busy until `seconds` of this process's own CPU, user and system, have gone by. Each
 * look at the clock is a system call: a loop that counted user time alone spent several times its
 * target in the kernel (a child told to burn 0.3 s used 1.6–1.8 CPU-s).
 */
function burn(seconds: number): void {
  const until = cpuNow() + seconds * 1e6;
  let x = 0;
  while (cpuNow() < until) x += Math.sqrt(x + 1);
  expect(x).toBeGreaterThan(0);
}
function cpuNow(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}
/** A child process that burns 0.2 CPU-s of its own, user and system, as burn() does. */
const BURNING_CHILD = 'const t=()=>{const c=process.cpuUsage();return c.user+c.system},u=t()+2e5;while(t()<u);';

describe.runIf(process.platform === 'linux')('per-file CPU', () => {
  it("counts this process's CPU and a finished child's", () => {
    const before = processTreeCpuS()!;
    burn(0.2);
    const own = processTreeCpuS()!;
    expect(own - before).toBeGreaterThanOrEqual(0.15);
    // A child that burns 0.2 CPU-s of its own and is waited for: in cutime once reaped.
    const child = spawnSync(process.execPath, ['-e', BURNING_CHILD], { stdio: 'ignore' });
    expect(child.status).toBe(0);
    expect(processTreeCpuS()! - own).toBeGreaterThanOrEqual(0.15);
  });

  it('writes a line a file, each from where the one before it ended', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctb-file-cpu-'));
    try {
      const log = join(dir, 'files.jsonl');
      // Marks of their own: the worker's (where this file's own line starts) are left alone.
      const marks = {};
      fileCpuEnd(log, join(process.cwd(), 'tests/a.test.ts'), marks);
      burn(0.2);
      fileCpuEnd(log, join(process.cwd(), 'tests/b.test.ts'), marks);
      const [a, b] = readFileCpu(log);
      expect(a!.file).toBe('tests/a.test.ts');
      expect(b!.file).toBe('tests/b.test.ts');
      expect(b!.pid).toBe(process.pid);
      // b is the burn (and little else), not the process's whole life again.
      expect(b!.cpuS).toBeGreaterThanOrEqual(0.15);
      expect(b!.cpuS).toBeLessThan(a!.cpuS + 0.15);
      expect(b!.workerCpuS).toBeGreaterThanOrEqual(0.15);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("tells the worker's own CPU from its finished children's", () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctb-file-cpu-'));
    try {
      const log = join(dir, 'files.jsonl');
      const marks = {};
      fileCpuEnd(log, join(process.cwd(), 'tests/a.test.ts'), marks);
      const child = spawnSync(process.execPath, ['-e', BURNING_CHILD], { stdio: 'ignore' });
      expect(child.status).toBe(0);
      fileCpuEnd(log, join(process.cwd(), 'tests/b.test.ts'), marks);
      const [, b] = readFileCpu(log);
      // The child's 0.2 CPU-s are the file's, not its worker's own.
      expect(b!.cpuS).toBeGreaterThanOrEqual(0.15);
      expect(b!.workerCpuS).toBeLessThan(b!.cpuS - 0.12);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads no lines from a log never written, and finds the processes of a running command by name', () => {
    expect(readFileCpu('/nonexistent/files.jsonl')).toEqual([]);
    // This process is `node` (its comm): the readings count at least its own CPU.
    expect(serverCpuS('node')!).toBeGreaterThanOrEqual(processTreeCpuS()! - 0.05);
    expect(serverCpuS('no-such-command-here')).toBe(0);
  });
});
