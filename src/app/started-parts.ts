// Owns the bot's parts as its start starts them, and their stop: the parts started, in reverse order,
// and first the one whose start was under way when a stop signal came. The start does not wait for
// that one (wait-for-database.ts ends the start at once), but what it goes on to start (the engine's
// lease loop, the alerts part's jobs) uses the database that the stop closes next: its start is waited
// for, and what it started stopped, before the database is closed — else it ran on, after "stopped",
// against a closed database.
import type { Logger } from '../logger.js';
import { DeadlineError, withDeadline } from '../services/kill/deadline.js';
import type { RunningFeature } from './feature.js';

/** How long a part's stop (or its start under way) is waited for when the start was stopped while the database did not answer. */
export const STALLED_STOP_WAIT_MS = 1_000;
/**
 * How long the start of a part under way when the stop came is waited for, the database answering: it
 * may wait on something else that does not answer (Kraken, Slack, a git process). Past it, it is left
 * behind, and what it started is stopped when it ends.
 */
export const STARTING_STOP_WAIT_MS = 5_000;
/**
 * How long a running bot's part is given to stop (the database ought to answer): past it, the part is
 * left behind, the database is taken not to answer, and the parts after it get STALLED_STOP_WAIT_MS.
 * Unbounded, a stop whose part waited on a stalled connection never ended and the process never exited.
 */
export const RUNNING_STOP_WAIT_MS = 5_000;

/**
 * How the parts' stops are waited for: `clean` (the start stopped, the database answering) for as long
 * as they take; `stalled` (the start stopped while the database did not answer) STALLED_STOP_WAIT_MS
 * each; `running` (the running bot's stop) RUNNING_STOP_WAIT_MS, then STALLED_STOP_WAIT_MS once one was left behind.
 */
export type PartsStop = 'clean' | 'stalled' | 'running';

interface Started {
  name: string;
  feature: RunningFeature;
}

export class StartedParts {
  readonly #started: Started[] = [];
  #starting: { name: string; start: Promise<RunningFeature | void> } | null = null;

  constructor(private readonly logger: Logger) {}

  /** Runs the part's start, which is the part under way until it has started (`started`). */
  start(name: string, run: () => Promise<RunningFeature | void>): Promise<RunningFeature | void> {
    const start = run();
    this.#starting = { name, start };
    return start;
  }

  started(name: string, feature: RunningFeature | void): void {
    this.#starting = null;
    if (feature) this.#started.push({ name, feature });
  }

  /**
   * Stops the parts, the last started first, and returns the names of those left behind (not stopped
   * within their wait: see PartsStop). A part's stop that waits on a database that does not answer (a
   * poll in flight, a lock to release) would wait as long as the stall.
   */
  async stop(how: PartsStop = 'clean'): Promise<string[]> {
    const left: string[] = [];
    const startLeft = await this.#settleStarting(how === 'stalled');
    if (startLeft) left.push(startLeft);
    for (const { name, feature } of this.#started.splice(0).reverse()) {
      try {
        const stopping = feature.stop();
        if (how === 'clean') {
          await stopping;
          continue;
        }
        const waitMs = how === 'running' && left.length === 0 ? RUNNING_STOP_WAIT_MS : STALLED_STOP_WAIT_MS;
        const overdue = await withDeadline(stopping, waitMs, `the part "${name}"'s stop`)
          .then(() => false, (err: unknown) => (err instanceof DeadlineError ? true : Promise.reject(err)));
        if (overdue) {
          left.push(name);
          stopping.catch((err: unknown) => this.logger.error({ err, feature: name }, 'feature did not stop cleanly'));
          this.logger.warn({ feature: name, waitedMs: waitMs }, how === 'stalled'
            ? `the part "${name}" had not stopped after ${waitMs} ms (it waits on the database, which does not answer): left behind`
            : `the part "${name}" had not stopped after ${waitMs} ms (it waits on something that does not answer, most likely the database): left behind`);
        }
      } catch (err) {
        this.logger.error({ err, feature: name }, 'feature did not stop cleanly');
      }
    }
    return left;
  }

  /**
   * The part whose start was under way: once its start ends, it is stopped with the others (a start that
   * failed left nothing). Returns its name when its start is left behind.
   */
  async #settleStarting(stalled: boolean): Promise<string | null> {
    const starting = this.#starting;
    this.#starting = null;
    if (!starting) return null;
    const { name, start } = starting;
    const ended = start.then((feature) => feature, () => undefined);
    const waitMs = stalled ? STALLED_STOP_WAIT_MS : STARTING_STOP_WAIT_MS;
    const feature = await withDeadline(ended, waitMs, `the part "${name}"'s start`).then((f) => ({ f }), () => null);
    if (feature) {
      if (feature.f) this.#started.push({ name, feature: feature.f });
      return null;
    }
    this.logger.warn({ feature: name, waitedMs: waitMs },
      `the part "${name}"'s start had not ended ${waitMs} ms after the stop (it waits on ${stalled ? 'the database, which does not answer' : 'something that has not answered'}): left behind, and stopped when it ends`);
    void ended.then((late) => late?.stop()).catch((err: unknown) => this.logger.error({ err, feature: name }, 'feature did not stop cleanly'));
    return name;
  }
}
