// What bench:slack-ack's slowest requests were made of (issue 15). In each server process: the GC
// pauses (perf_hooks, always on: a hundred entries a round) and, with --timeline, every request's
// arrival (the HTTP server's 'request' event), its ack (the response's end) and the process's own
// CPU and run-queue time at arrival (Linux /proc/thread-self/schedstat, about 20 µs a read, so the
// stamps cost each server a little and are off by default). The generator keeps each request's due,
// sent and answered times; joined by trigger id, the slowest 1 % are split into: sent late, waiting
// to be read (and, of that wait, the server on the CPU or runnable but not running), read → ack,
// ack → answer received; and counted against the GC pauses that overlapped them. All times are
// wall-clock milliseconds (performance.timeOrigin + performance.now()) so two processes compare.
import { readFileSync } from 'node:fs';
import { Server, ServerResponse, type IncomingMessage } from 'node:http';
import { PerformanceObserver } from 'node:perf_hooks';

const wall = () => performance.timeOrigin + performance.now();

export interface GcPause {
  at: number;
  ms: number;
  /** perf_hooks kind: 1 scavenge, 2 mark-compact, 4 incremental marking, 8 weak callbacks. */
  kind: number;
}

export interface Arrival {
  trigger: string;
  at: number;
  ack: number;
  /** The process's CPU time and run-queue wait (ms, cumulative) when the request arrived; NaN off Linux. */
  cpu: number;
  runQueue: number;
}

export interface ClientTimes {
  trigger: string;
  due: number;
  sent: number;
  answered: number;
}

let pauses: GcPause[] = [];
let arrivals: Arrival[] = [];

/** Starts recording GC pauses in this process. */
export function observeGc(): void {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) pauses.push({ at: performance.timeOrigin + e.startTime, ms: e.duration, kind: (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0 });
  }).observe({ entryTypes: ['gc'] });
}

/**
 * This thread's CPU time and time runnable but not running (ms), and how many times it was put on a
 * core (each wake-up or return from preemption), all cumulative (Linux); NaN elsewhere.
 */
export function schedstat(): [number, number, number] {
  try {
    const [cpu, wait, turns] = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ');
    return [Number(cpu) / 1e6, Number(wait) / 1e6, Number(turns)];
  } catch {
    return [Number.NaN, Number.NaN, Number.NaN];
  }
}

/**
 * Time a thread waited for a core (runnable, not running), in ms, and over how many turns on a core
 * when known; — where it was not read (off Linux, or a server whose bench predates it).
 */
export function waitLine(ms: number, turns = Number.NaN): string {
  if (Number.isNaN(ms)) return '—';
  return Number.isNaN(turns) ? `${ms.toFixed(0)} ms` : `${ms.toFixed(0)} ms over ${turns} turns`;
}

/**
 * Stamps every request this process's HTTP servers serve (the bot's server is made by src/, so the
 * stamps hook node:http itself). The trigger id is read from the body as it is emitted, without
 * adding a 'data' listener: one would start the stream before the bot's route took it.
 */
export function stampRequests(): void {
  const emit = Server.prototype.emit;
  Server.prototype.emit = function (this: Server, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'request') {
      const [req, res] = args as [IncomingMessage, ServerResponse & { stamp?: Arrival }];
      const [cpu, runQueue] = schedstat();
      const stamp: Arrival = { trigger: '', at: wall(), ack: Number.NaN, cpu, runQueue };
      res.stamp = stamp;
      const reqEmit = req.emit;
      req.emit = function (this: IncomingMessage, e: string | symbol, ...a: unknown[]): boolean {
        if (e === 'data' && stamp.trigger === '') stamp.trigger = /trigger_id=([^&]+)/.exec(String(a[0]))?.[1] ?? '';
        return (reqEmit as (...x: unknown[]) => boolean).call(this, e, ...a);
      } as typeof reqEmit;
      arrivals.push(stamp);
    }
    return (emit as (...x: unknown[]) => boolean).call(this, event, ...args);
  } as typeof emit;
  const end = ServerResponse.prototype.end;
  ServerResponse.prototype.end = function (this: ServerResponse & { stamp?: Arrival }, ...args: unknown[]) {
    if (this.stamp && Number.isNaN(this.stamp.ack)) this.stamp.ack = wall();
    return (end as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as typeof end;
}

/** What was recorded since the last call (then forgotten). */
export function takeRecords(): { pauses: GcPause[]; arrivals: Arrival[] } {
  const out = { pauses, arrivals };
  pauses = [];
  arrivals = [];
  return out;
}

const median = (xs: number[]) => {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.floor(s.length / 2)]!;
};
const f = (v: number) => (Number.isNaN(v) ? '—' : v.toFixed(1));

/** One line on the GC pauses of a round: scavenges, major GCs (mark-compact and incremental marking steps), their total and longest. */
export function gcLine(p: GcPause[]): string {
  const scavenges = p.filter((x) => x.kind === 1);
  const major = p.filter((x) => x.kind === 2 || x.kind === 4);
  const sum = (xs: GcPause[]) => xs.reduce((a, x) => a + x.ms, 0);
  const longest = (xs: GcPause[]) => Math.max(0, ...xs.map((x) => x.ms));
  return `${scavenges.length} scavenges (${f(sum(scavenges))} ms, median ${f(median(scavenges.map((x) => x.ms)))}, longest ${f(longest(scavenges))}), ${major.length} major (${f(sum(major))} ms, longest ${f(longest(major))})`;
}

/**
 * The slowest 1 % of a round (by time from due to answered), split into their parts (medians, ms).
 * `wait` is from the send to the server's read; over the same window (from the last arrival before
 * the send to this one), the server's own CPU time and its time runnable but not running.
 */
export function slowestLine(client: ClientTimes[], server: { pauses: GcPause[]; arrivals: Arrival[] }): string {
  const byTrigger = new Map(server.arrivals.map((a) => [a.trigger, a]));
  const ordered = [...server.arrivals].sort((a, b) => a.at - b.at);
  const rows = client.flatMap((c) => (byTrigger.has(c.trigger) ? [{ c, s: byTrigger.get(c.trigger)! }] : []));
  if (rows.length === 0) return 'no request matched its server stamps';
  rows.sort((a, b) => b.c.answered - b.c.due - (a.c.answered - a.c.due));
  const slow = rows.slice(0, Math.max(1, Math.ceil(rows.length / 100)));
  const before = (t: number) => {
    let lo = 0;
    let hi = ordered.length - 1;
    let found: Arrival | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (ordered[mid]!.at <= t) {
        found = ordered[mid];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
  const onCpu: number[] = [];
  const runnable: number[] = [];
  for (const { c, s } of slow) {
    const last = before(c.sent);
    if (!last || last === s) continue;
    onCpu.push(s.cpu - last.cpu);
    runnable.push(s.runQueue - last.runQueue);
  }
  const overlapped = slow.filter(({ c }) => server.pauses.some((p) => p.at < c.answered && p.at + p.ms > c.due)).length;
  const inGc = slow.map(({ c }) => server.pauses.reduce((a, p) => a + Math.max(0, Math.min(c.answered, p.at + p.ms) - Math.max(c.due, p.at)), 0));
  return `slowest ${slow.length} (≥ ${f(slow.at(-1)!.c.answered - slow.at(-1)!.c.due)} ms), medians: sent late ${f(median(slow.map(({ c }) => c.sent - c.due)))}` +
    ` | waiting to be read ${f(median(slow.map(({ c, s }) => s.at - c.sent)))} (server on CPU ${f(median(onCpu))}, runnable not running ${f(median(runnable))})` +
    ` | read → ack ${f(median(slow.map(({ s }) => s.ack - s.at)))} | ack → answer received ${f(median(slow.map(({ c, s }) => c.answered - s.ack)))}` +
    ` | ${overlapped}/${slow.length} overlap a GC pause (median ${f(median(inGc))} ms of GC inside)`;
}
