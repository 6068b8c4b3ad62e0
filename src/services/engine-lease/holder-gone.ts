// Owns proving that the engine lease's holder is gone, so a standby need not wait out the TTL after a
// `kill -9`. A pid proves something only where it was taken: the same host, the same kernel boot and
// the same pid namespace (two containers on one kernel each have their own pid 7; two machines may
// share a host name). The lease row records the holder's boot id and pid namespace; a holder whose
// record lacks it, or whose scope differs from ours, is never judged by its pid — it goes stale.
import { readFileSync, readlinkSync } from 'node:fs';

/** This process's kernel boot id and pid namespace ("<boot id>/pid:[4026531836]"), or null where they cannot be read (not Linux). */
export function readBootId(): string | null {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const pidNamespace = readlinkSync('/proc/self/ns/pid');
    return boot && pidNamespace ? `${boot}/${pidNamespace}` : null;
  } catch {
    return null;
  }
}

/** Whether a process with this pid exists here: only "no such process" says it does not. */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, owned by someone else.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

export interface HolderRecord {
  host: string;
  pid: number;
  bootId: string | null;
}

/**
 * True only when the holder ran in this very pid scope (host and boot id both equal, neither unknown)
 * and its pid is no process now. Its pid being this process's proves nothing: one process may hold
 * two keepers (a feature restarted in place), and the other may be alive.
 */
export function holderGone(holder: HolderRecord, here: { host: string; bootId: string | null; pid: number }, exists: (pid: number) => boolean = pidExists): boolean {
  if (here.bootId === null || holder.bootId !== here.bootId || holder.host !== here.host) return false;
  if (!Number.isInteger(holder.pid) || holder.pid <= 0 || holder.pid === here.pid) return false;
  return !exists(holder.pid);
}
