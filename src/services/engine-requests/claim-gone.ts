// Owns proving that the process that claimed an engine request is gone, so the request is put back
// at once rather than after the stale-claim timeout (a worker killed with `kill -9` mid-cancel). The
// same proof as the engine lease's (engine-lease/holder-gone.ts): a pid proves something only in the
// pid scope it was taken in (the same host, kernel boot and pid namespace), which the claim records
// in claimed_scope tied to claimed_by. A claim without a scope of its own, or made in another scope,
// is never judged by its pid: it waits out the stale timeout.
import { hostname } from 'node:os';
import { holderGone, pidExists, readBootId, recordedScope } from '../engine-lease/holder-gone.js';

export interface ClaimRecord {
  claimedBy: string | null;
  claimedScope: string | null;
}

export interface Here {
  host: string;
  /** This process's scope as readBootId() gives it (null: not known here). */
  bootId: string | null;
  pid: number;
}

export function hereNow(): Here {
  return { host: hostname(), bootId: readBootId(), pid: process.pid };
}

/** The claimed_scope a claim by `holder` records from this process, or null where its scope cannot be read. */
export function claimScopeFor(holder: string, bootId: string | null = readBootId()): string | null {
  return recordedScope(bootId, holder);
}

/** The host and pid a claimer is named by: "host:pid", or the lease holder id "host:pid:token". */
export function claimerOf(claimedBy: string): { host: string; pid: number } | null {
  const [host, pid] = claimedBy.split(':');
  if (!host || !pid || !/^\d+$/.test(pid)) return null;
  return { host, pid: Number(pid) };
}

/** True only when the claim was made in this very pid scope and its claimer's pid is no process now. */
export function claimGone(claim: ClaimRecord, here: Here = hereNow(), exists: (pid: number) => boolean = pidExists): boolean {
  if (!claim.claimedBy) return false;
  const claimer = claimerOf(claim.claimedBy);
  if (!claimer) return false;
  return holderGone({ holderId: claim.claimedBy, host: claimer.host, pid: claimer.pid, bootId: claim.claimedScope }, here, exists);
}
