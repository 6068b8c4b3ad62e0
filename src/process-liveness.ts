// Owns whether a pid recorded by another process is still that process, here. A signal 0 answers for
// any process with the pid: one killed with SIGKILL whose parent has not reaped it yet (a zombie: it
// holds nothing and will never run again), or, once it is gone, another process given its pid (pids
// are reused: 32768 of them by default). Linux's /proc tells both apart; elsewhere the signal alone.
// Whether the pid was taken here at all is the caller's to judge, with pidScope() (holder-gone.ts,
// fs-lock/holder.ts).
import { readFileSync, readlinkSync } from 'node:fs';

/** Linux's view of a process: its state letter and start time (/proc/<pid>/stat), or null (gone, or not Linux). */
function procStat(pid: number | 'self'): { state: string; start: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After the command's ')': state is field 3, starttime field 22.
    const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    return { state: fields[0] ?? '', start: fields[19] ?? '' };
  } catch {
    return null;
  }
}

/** When the process started, in clock ticks since boot (/proc), to tell it from a later one given its pid; null off Linux. */
export function processStart(pid: number | 'self'): string | null {
  return procStat(pid)?.start || null;
}

/**
 * Whether a process with this pid runs here (EPERM: it does, owned by someone else): not a zombie and,
 * when `start` is given (processStart when its pid was recorded), the same process, not a later one.
 */
export function pidRunning(pid: number, start?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const now = procStat(pid);
  if (now === null) return true;
  if (now.state === 'Z' || now.state === 'X') return false;
  return start === undefined || start === now.start;
}

let scope: string | null | undefined;

/**
 * Where this process's pid means something: the kernel's boot id and the pid namespace,
 * "<boot id>/pid:[4026531836]" (two containers on one kernel each have their own pid 7, and may share
 * a host name). Null where they cannot be read (not Linux). Read once: neither changes in a process.
 */
export function pidScope(): string | null {
  if (scope !== undefined) return scope;
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const pidNamespace = readlinkSync('/proc/self/ns/pid');
    scope = boot && pidNamespace ? `${boot}/${pidNamespace}` : null;
  } catch {
    scope = null;
  }
  return scope;
}
