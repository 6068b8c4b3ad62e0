// Owns the bot's start riding out a database that went away after it answered (its migrations ran):
// an outage, not a configuration to check. The part whose start it cut is tried again, after pauses
// that grow from 1 s to 10 s, until the database answers; the parts already started keep serving
// meanwhile (/healthz, POST /kill, Slack). There is no last try: giving up would end the process,
// taking the kill switch down with it, and a restart would stop at opening the same absent database —
// with nothing serving the kill switch at all. A stop signal ends the wait (StartStoppedError).
// What never answered (wrong URL, bad login, not PostgreSQL) still ends the start at once: that is
// before this runs (buildAppContext), and a bad login or a missing database here is thrown as it is.
import { databaseOutage, type DatabaseOutage } from '../db/connect-errors.js';
import type { Logger } from '../logger.js';
import type { StartProgress } from './start-progress.js';

/** The pauses between tries; the last repeats. */
export const START_RETRY_PAUSES_MS: readonly number[] = [1_000, 2_000, 4_000, 8_000, 10_000];
/** While the database stays away, a line says so at most this often (and when it changes: refused, lost, no answer …). */
const STILL_WAITING_EVERY_MS = 60_000;

/** The bot was asked to stop (SIGTERM, SIGINT, SIGHUP) while its start waited for the database. */
export class StartStoppedError extends Error {
  constructor(readonly outage: DatabaseOutage) {
    super(`stopped while the start waited for the database at ${outage.at} (${outage.detail})`);
    this.name = 'StartStoppedError';
  }
}

export interface DatabaseWaitDeps {
  logger: Logger;
  databaseUrl: string | undefined;
  progress: StartProgress;
  /** Aborted when the bot is asked to stop: the wait ends with StartStoppedError. */
  stop?: AbortSignal | undefined;
  pausesMs?: readonly number[];
}

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

function pause(ms: number, stop: AbortSignal | undefined, outage: DatabaseOutage): Promise<void> {
  return new Promise((resolve, reject) => {
    if (stop?.aborted) return reject(new StartStoppedError(outage));
    const onStop = () => {
      clearTimeout(timer);
      reject(new StartStoppedError(outage));
    };
    const timer = setTimeout(() => {
      stop?.removeEventListener('abort', onStop);
      resolve();
    }, ms);
    stop?.addEventListener('abort', onStop, { once: true });
  });
}

/**
 * Runs `start` (of `part`: 'the part "mode"', 'the start banner'), again after each database outage it
 * fails with, until it succeeds; any other failure is thrown. `start` must leave nothing running when it throws
 * (Feature.start's contract), since it is run again.
 */
export async function untilDatabaseAnswers<T>(part: string, start: () => Promise<T>, deps: DatabaseWaitDeps): Promise<T> {
  const pauses = deps.pausesMs ?? START_RETRY_PAUSES_MS;
  const longest = Math.max(...pauses);
  let waitingSince: number | null = null;
  let saidAt = 0;
  let said: DatabaseOutage['kind'] | null = null;
  for (let tries = 0; ; tries++) {
    try {
      const started = await start();
      if (waitingSince !== null) {
        deps.logger.info({ event: 'start_database_back', part, waitedMs: Date.now() - waitingSince },
          `the database answers again after ${seconds(Date.now() - waitingSince)}: the start goes on from ${part}`);
        deps.progress.resumed();
      }
      return started;
    } catch (err) {
      const outage = databaseOutage(err, deps.databaseUrl);
      if (!outage) throw err;
      const pauseMs = pauses[Math.min(tries, pauses.length - 1)]!;
      deps.progress.waiting(part, outage, pauseMs);
      const now = Date.now();
      if (waitingSince === null) {
        waitingSince = now;
        deps.logger.warn({ event: 'start_database_lost', part, database: outage.at, outage: outage.kind },
          `the database at ${outage.at} went away during the start, after it had answered: ${outage.detail}. ` +
            `Waiting for it, retrying every ${seconds(pauseMs)}${pauseMs < longest ? ` (backing off to every ${seconds(longest)})` : ''}; the start goes on from ${part} when it answers. ` +
            '/healthz and the kill switch answer meanwhile; nothing trades until the start is over.');
        saidAt = now;
      } else if (outage.kind !== said || now - saidAt >= STILL_WAITING_EVERY_MS) {
        deps.logger.warn({ event: 'start_database_waiting', part, database: outage.at, outage: outage.kind, waitedMs: now - waitingSince },
          `still waiting for the database at ${outage.at} after ${seconds(now - waitingSince)} (${outage.detail}): retrying every ${seconds(pauseMs)}; the start goes on from ${part} when it answers`);
        saidAt = now;
      }
      said = outage.kind;
      await pause(pauseMs, deps.stop, outage);
    }
  }
}
