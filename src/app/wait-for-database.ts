// Owns the bot's start riding out a database that went away after it answered (its migrations ran):
// an outage, not a configuration to check. The part whose start it cut is tried again, after pauses
// that grow from 1 s to 10 s, until the database answers; the parts already started keep serving
// meanwhile (/healthz, POST /kill, Slack). There is no last try: giving up would end the process,
// taking the kill switch down with it, and a restart would stop at opening the same absent database —
// with nothing serving the kill switch at all. A database that stalls (the connection open, no answer)
// is found by a check once a part's start runs late, and waited for the same way. A stop signal ends a
// part's start in flight, or the wait (StartStoppedError).
// What never answered (wrong URL, bad login, not PostgreSQL) still ends the start at once: that is
// before this runs (buildAppContext). Here a missing database is thrown as it is; a login refused after
// it was accepted (a credential rotation) and too many clients are waited for, as outages.
import { databaseOutage, databaseTarget, type DatabaseOutage } from '../db/connect-errors.js';
import type { Logger } from '../logger.js';
import type { EngineLeaseRow } from '../services/engine-lease/keeper.js';
import type { StartProgress } from './start-progress.js';

/** The pauses between tries; the last repeats. */
export const START_RETRY_PAUSES_MS: readonly number[] = [1_000, 2_000, 4_000, 8_000, 10_000];
/** While the database stays away, a line says so at most this often (and when it changes: refused, lost, no answer …). */
const STILL_WAITING_EVERY_MS = 60_000;

/** The bot was asked to stop (SIGTERM, SIGINT, SIGHUP) during its start: a part's start in flight, or a wait for the database. */
export class StartStoppedError extends Error {
  /** The parts (or a part's start) the stop left behind, set once the parts are stopped (runtime.ts). */
  leftBehind: string[] = [];
  /** What this process's engine lease row is when asked, set with leftBehind (runtime.ts StopOutcome). */
  engineLease: () => EngineLeaseRow = () => 'none';
  constructor(readonly part: string, readonly outage: DatabaseOutage | null) {
    super(outage
      ? `stopped while the start waited for the database at ${outage.at} (${outage.detail})`
      : `stopped during the start, at ${part}`);
    this.name = 'StartStoppedError';
  }
}

export interface DatabaseWaitDeps {
  logger: Logger;
  databaseUrl: string | undefined;
  progress: StartProgress;
  /** Aborted when the bot is asked to stop: a part's start in flight, or the wait, ends with StartStoppedError. */
  stop?: AbortSignal | undefined;
  pausesMs?: readonly number[];
  /**
   * One short read (select 1) that says whether the database answers. A part's start still in flight
   * after `overdueMs` has it run (then at each pause): one that does not answer within `probeMs` is an
   * outage (timeout), as a thrown one is. Without it a start is waited for as long as it takes.
   */
  probe?: () => Promise<unknown>;
  overdueMs?: number;
  probeMs?: number;
  /** What the database went away during, in the first line (default 'the start'): 'the migrations'. */
  during?: string;
  /** What serves meanwhile, said in the first line (default: /healthz and the kill switch, and no order placed). */
  meanwhile?: string;
}

const SERVING_MEANWHILE = '/healthz and the kill switch answer meanwhile; the engine places no order while the start waits for it.';

/** A part's start (or a banner read) still running after this long has the database checked (START_DB_CHECK_AFTER's default). */
export const START_OVERDUE_MS = 10_000;
/** How long that check waits for the database's answer (START_DB_CHECK_TIMEOUT's default). */
export const START_PROBE_MS = 5_000;

/** A wait as said: "300 ms" under a second (START_DB_CHECK_TIMEOUT may be 100ms: never "0 s"), "2.5 s" under ten, else whole seconds. */
export const seconds = (ms: number): string => {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  const s = ms / 1_000;
  return s < 10 && !Number.isInteger(Math.round(s * 10) / 10) ? `${(Math.round(s * 10) / 10).toFixed(1)} s` : `${Math.round(s)} s`;
};

/** Rejects with StartStoppedError when `stop` is aborted; `cancel` removes its listener. */
function stopped(stop: AbortSignal | undefined, part: string, outage: () => DatabaseOutage | null): { promise: Promise<never>; cancel(): void } {
  let onStop = () => {};
  const promise = new Promise<never>((_, reject) => {
    onStop = () => reject(new StartStoppedError(part, outage()));
    if (stop?.aborted) return onStop();
    stop?.addEventListener('abort', onStop, { once: true });
  });
  promise.catch(() => {});
  return { promise, cancel: () => stop?.removeEventListener('abort', onStop) };
}

/** Resolves after `ms`, or rejects at once with StartStoppedError when the bot is asked to stop. */
async function pause(ms: number, stop: AbortSignal | undefined, part: string, outage: DatabaseOutage | null): Promise<void> {
  const stopping = stopped(stop, part, () => outage);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))), stopping.promise]);
  } finally {
    clearTimeout(timer);
    stopping.cancel();
  }
}

/** The database checked (`probe`): null when it answered within `ms`, else the outage it is. */
async function checkDatabase(deps: DatabaseWaitDeps, ms: number): Promise<DatabaseOutage | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = Symbol('late');
  const probing = deps.probe!();
  probing.catch(() => {});
  try {
    const answer = await Promise.race([probing, new Promise<typeof late>((resolve) => (timer = setTimeout(() => resolve(late), ms)))]);
    if (answer !== late) return null;
    const target = databaseTarget(deps.databaseUrl);
    return { kind: 'timeout', at: target ? `${target.host}:${target.port}` : 'the configured address', detail: `no answer within ${seconds(ms)} (a query of the start, and a check, got none)` };
  } catch (err) {
    // A probe that fails other than by an outage (a bad login): the part's own start will say it.
    return databaseOutage(err, deps.databaseUrl);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `start` (of `part`: 'the part "mode"', 'the start banner'), again after each database outage it
 * fails with, until it succeeds; any other failure is thrown. `start` must leave nothing running when it throws
 * (Feature.start's contract), since it is run again. A start that has not ended after `overdueMs` has the
 * database checked: when it does not answer, that is an outage like a thrown one (said, shown on /healthz),
 * and the start in flight is waited for — not run a second time beside it — until it ends (the database
 * answers it, or its connection is found dead and it throws). A stop signal ends it all at once.
 */
export async function untilDatabaseAnswers<T>(part: string, start: () => Promise<T>, deps: DatabaseWaitDeps): Promise<T> {
  const pauses = deps.pausesMs ?? START_RETRY_PAUSES_MS;
  const longest = Math.max(...pauses);
  let waitingSince: number | null = null;
  let saidAt = 0;
  let said: DatabaseOutage['kind'] | null = null;
  let last: DatabaseOutage | null = null;
  const waiting = (outage: DatabaseOutage, pauseMs: number, inFlight: boolean) => {
    last = outage;
    deps.progress.waiting(part, outage, pauseMs);
    const now = Date.now();
    const tries = inFlight ? `checking again every ${seconds(pauseMs)}` : `retrying every ${seconds(pauseMs)}${pauseMs < longest ? ` (backing off to every ${seconds(longest)})` : ''}`;
    if (waitingSince === null) {
      waitingSince = now;
      deps.logger.warn({ event: 'start_database_lost', part, database: outage.at, outage: outage.kind },
        `the database at ${outage.at} went away during ${deps.during ?? 'the start'}, after it had answered: ${outage.detail}. ` +
          `Waiting for it, ${tries}; the start goes on from ${part} when it answers. ${deps.meanwhile ?? SERVING_MEANWHILE}`);
      saidAt = now;
    } else if (outage.kind !== said || now - saidAt >= STILL_WAITING_EVERY_MS) {
      deps.logger.warn({ event: 'start_database_waiting', part, database: outage.at, outage: outage.kind, waitedMs: now - waitingSince },
        `still waiting for the database at ${outage.at} after ${seconds(now - waitingSince)} (${outage.detail}): ${tries}; the start goes on from ${part} when it answers`);
      saidAt = now;
    }
    said = outage.kind;
  };
  let onlyChecked = false;
  for (let tries = 0; ; tries++) {
    try {
      const started = await watched(part, start, deps, () => last ?? deps.progress.outage, (outage, checkEveryMs) => {
        onlyChecked = true;
        waiting(outage, checkEveryMs, true);
      }, pauses);
      // Started while its check went unanswered (a part that does not need the database): is it back?
      const stillAway = waitingSince !== null && onlyChecked ? await checkDatabase(deps, deps.probeMs ?? START_PROBE_MS) : null;
      if (stillAway) {
        deps.logger.info({ event: 'start_part_started', part, database: stillAway.at },
          `${part} has started, while the database at ${stillAway.at} still does not answer (${stillAway.detail}): the start goes on, waiting for it where it is needed`);
      } else if (waitingSince !== null) {
        deps.logger.info({ event: 'start_database_back', part, waitedMs: Date.now() - waitingSince },
          `the database answers again after ${seconds(Date.now() - waitingSince)}: the start goes on from ${part}`);
        deps.progress.resumed();
      }
      return started;
    } catch (err) {
      if (err instanceof StartStoppedError) throw err;
      onlyChecked = false;
      const outage = databaseOutage(err, deps.databaseUrl);
      if (!outage) throw err;
      const pauseMs = pauses[Math.min(tries, pauses.length - 1)]!;
      waiting(outage, pauseMs, false);
      await pause(pauseMs, deps.stop, part, outage);
    }
  }
}

/**
 * One run of `start`, raced against the stop signal; once overdue, the database is checked at each
 * pause while it runs, and `onOutage` told when it does not answer.
 */
async function watched<T>(part: string, start: () => Promise<T>, deps: DatabaseWaitDeps, last: () => DatabaseOutage | null,
  onOutage: (outage: DatabaseOutage, checkEveryMs: number) => void, pauses: readonly number[]): Promise<T> {
  const stopping = stopped(deps.stop, part, last);
  let done = false;
  try {
    const attempt = start();
    // Left behind by a stop signal, it may still fail: nothing is left unhandled.
    attempt.catch(() => {});
    const settled = attempt.finally(() => void (done = true));
    settled.catch(() => {});
    if (deps.probe) {
      void (async () => {
        let wait = deps.overdueMs ?? START_OVERDUE_MS;
        for (let checks = 0; !done && !deps.stop?.aborted; checks++) {
          await Promise.race([settled.then(() => {}, () => {}), new Promise((resolve) => setTimeout(resolve, wait).unref())]);
          if (done || deps.stop?.aborted) return;
          const outage = await checkDatabase(deps, deps.probeMs ?? START_PROBE_MS);
          wait = pauses[Math.min(checks, pauses.length - 1)]!;
          if (outage && !done) onOutage(outage, wait);
        }
      })();
    }
    return await Promise.race([attempt, stopping.promise]);
  } finally {
    done = true;
    stopping.cancel();
  }
}
