// Owns proving that the engine lease's holder is gone, so a standby need not wait out the TTL after a
// `kill -9`. A pid proves something only where it was taken: the same host, the same kernel boot and
// the same pid namespace (two containers on one kernel each have their own pid 7; two machines may
// share a host name). The lease row records the holder's boot id and pid namespace, tied to its
// holder id ("<boot id>/<pid namespace>#<holder id>"): a binary from before migration 0034 takes the
// row over without writing boot_id, leaving the previous holder's scope beside its own host and pid,
// and the tie shows that scope is not its. A holder whose record lacks a scope of its own, or whose
// scope differs from ours, is never judged by its pid — it goes stale.
import { pidRunning, pidScope } from '../../process-liveness.js';

/** This process's kernel boot id and pid namespace ("<boot id>/pid:[4026531836]"), or null where they cannot be read (not Linux). */
export function readBootId(): string | null {
  return pidScope();
}

/**
 * Whether a process with this pid runs here: only "no such process", or a zombie (killed, not yet
 * reaped by its parent: it renews and trades nothing), says it does not (process-liveness.ts).
 */
export function pidExists(pid: number): boolean {
  return pidRunning(pid);
}

/** The scope a holder records in the lease row: this process's, tied to the holder's id (null: none). */
export function recordedScope(scope: string | null, holderId: string): string | null {
  return scope === null ? null : `${scope}#${holderId}`;
}

export interface HolderRecord {
  holderId: string;
  host: string;
  pid: number;
  bootId: string | null;
}

/**
 * True only when the holder ran in this very pid scope (host equal, and the row's boot id is ours
 * recorded by that very holder, neither unknown) and its pid is no process now. `here.bootId` is this
 * process's scope as readBootId() gives it, untied. Its pid being this process's proves nothing: one process may hold
 * two keepers (a feature restarted in place), and the other may be alive.
 */
export function holderGone(holder: HolderRecord, here: { host: string; bootId: string | null; pid: number }, exists: (pid: number) => boolean = pidExists): boolean {
  if (here.bootId === null || holder.bootId !== recordedScope(here.bootId, holder.holderId) || holder.host !== here.host) return false;
  if (!Number.isInteger(holder.pid) || holder.pid <= 0 || holder.pid === here.pid) return false;
  return !exists(holder.pid);
}
