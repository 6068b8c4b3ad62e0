// Owns the bot's parts as its start starts them, and their stop: the parts started, in reverse order,
// and first the one whose start was under way when a stop signal came. The start does not wait for
// that one (wait-for-database.ts ends the start at once), but what it goes on to start (the engine's
// lease loop, the alerts part's jobs) uses the database that the stop closes next: its start is waited
// for, and what it started stopped, before the database is closed — else it ran on, after "stopped",
// against a closed database.
import type { Logger } from '../logger.js';
import { withDeadline } from '../services/kill/deadline.js';
import type { RunningFeature } from './feature.js';

/** How long a part's stop (or its start under way) is waited for when the start was stopped while the database did not answer. */
export const STALLED_STOP_WAIT_MS = 1_000;
/**
 * How long the start of a part under way when the stop came is waited for, the database answering: it
 * may wait on something else that does not answer (Kraken, Slack, a git process). Past it, it is left
 * behind, and what it started is stopped when it ends.
 */
export const STARTING_STOP_WAIT_MS = 5_000;

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
   * Stops the parts, the last started first. `stalled`: the start was stopped while the database did not
   * answer; a part's stop that waits on it (a poll in flight, a lock to release) is given
   * STALLED_STOP_WAIT_MS, then left behind: it would wait as long as the stall.
   */
  async stop(stalled = false): Promise<void> {
    await this.#settleStarting(stalled);
    for (const { name, feature } of this.#started.splice(0).reverse()) {
      try {
        const stopping = feature.stop();
        if (!stalled) await stopping;
        else if (await withDeadline(stopping, STALLED_STOP_WAIT_MS, `the part "${name}"'s stop`).then(() => false, () => true)) {
          this.logger.warn({ feature: name }, `the part "${name}" had not stopped after ${STALLED_STOP_WAIT_MS} ms (it waits on the database, which does not answer): left behind`);
        }
      } catch (err) {
        this.logger.error({ err, feature: name }, 'feature did not stop cleanly');
      }
    }
  }

  /** The part whose start was under way: once its start ends, it is stopped with the others (a start that failed left nothing). */
  async #settleStarting(stalled: boolean): Promise<void> {
    const starting = this.#starting;
    this.#starting = null;
    if (!starting) return;
    const { name, start } = starting;
    const ended = start.then((feature) => feature, () => undefined);
    const waitMs = stalled ? STALLED_STOP_WAIT_MS : STARTING_STOP_WAIT_MS;
    const feature = await withDeadline(ended, waitMs, `the part "${name}"'s start`).then((f) => ({ f }), () => null);
    if (feature) {
      if (feature.f) this.#started.push({ name, feature: feature.f });
      return;
    }
    this.logger.warn({ feature: name, waitedMs: waitMs },
      `the part "${name}"'s start had not ended ${waitMs} ms after the stop (it waits on ${stalled ? 'the database, which does not answer' : 'something that has not answered'}): left behind, and stopped when it ends`);
    void ended.then((late) => late?.stop()).catch((err: unknown) => this.logger.error({ err, feature: name }, 'feature did not stop cleanly'));
  }
}
