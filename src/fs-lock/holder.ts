// Owns whether the process a lock file names still holds it, for the file locks under DATA_DIR
// (break-file-lock.ts). A pid proves something only where it was taken: on this host, in this kernel
// boot, in this pid namespace. Two containers on one kernel may share a host name and each have its
// own pid 1: a pid alive in the other one looks dead here (or is this very process's number). So a
// holder records its host, pid, start time and pid scope (process-liveness.ts: boot id and pid
// namespace), and is judged:
//   - another host's, or another pid namespace's on this kernel: not by a pid ('elsewhere': each lock
//     says what it makes of it — held, or held until its own age rule says stale);
//   - this host's from an earlier boot (same host name, another boot id): gone — no process of that
//     boot runs; this is the judgement the pid gave before scopes were recorded;
//   - this scope, or no scope on either side (a lock written by an older version, or not Linux): by
//     its pid and start time, as before ('self' when it is this very process: its pid, and its start
//     time where one was recorded).
import { hostname } from 'node:os';
import { pidRunning, pidScope, processStart } from '../process-liveness.js';

export interface HolderIdentity {
  host: string;
  pid: number;
  /** processStart of the holder where the system says it (a later process given its pid is not it). */
  start?: string;
  /** pidScope() of the holder ("<boot id>/pid:[…]"), where the system says it. */
  scope?: string;
}

/** This process, as a lock it takes names it. */
export function thisHolder(): HolderIdentity {
  const start = processStart('self');
  const scope = pidScope();
  return { host: hostname(), pid: process.pid, ...(start ? { start } : {}), ...(scope ? { scope } : {}) };
}

export type HolderVerdict = 'self' | 'running' | 'gone' | 'elsewhere';

type Recorded = { host?: string | undefined; pid: number; start?: string | undefined; scope?: string | undefined };

/** What a recorded holder is to this process (see the head of this file); `host` absent: this host (older records). */
export function judgeHolder(h: Recorded): HolderVerdict {
  if (h.host !== undefined && h.host !== hostname()) return 'elsewhere';
  switch (scopeOf(h)) {
    case 'another namespace': return 'elsewhere';
    case 'an earlier boot': return 'gone';
    default:
      // This pid, but another start time: an earlier process given this number (a container's pid 1
      // before a restart), gone.
      if (h.pid === process.pid) {
        const mine = processStart('self');
        return h.start === undefined || mine === null || h.start === mine ? 'self' : 'gone';
      }
      return pidRunning(h.pid, h.start) ? 'running' : 'gone';
  }
}

/** Whether the holder ran on this host and kernel, in another pid namespace than this process's. */
export function inAnotherPidNamespace(h: Recorded): boolean {
  return (h.host === undefined || h.host === hostname()) && scopeOf(h) === 'another namespace';
}

/** Words for a holder: "pid 7 on host h", with " (another pid namespace)" when it is in one. */
export function describeHolder(h: Recorded): string {
  return `pid ${h.pid} on host ${h.host ?? 'unknown'}${inAnotherPidNamespace(h) ? ' (another pid namespace)' : ''}`;
}

function scopeOf(h: Recorded): 'this one' | 'another namespace' | 'an earlier boot' | 'unknown' {
  const here = pidScope();
  if (typeof h.scope !== 'string' || here === null) return 'unknown';
  if (h.scope === here) return 'this one';
  return bootOf(h.scope) === bootOf(here) ? 'another namespace' : 'an earlier boot';
}

function bootOf(scope: string): string {
  return scope.slice(0, scope.indexOf('/'));
}
