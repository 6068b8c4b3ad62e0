// Owns what the bot's start is doing while it is not over: starting its parts, or waiting for a
// database that went away after it answered (wait-for-database.ts). /healthz shows it, and the engine
// (started before the banner's reads) places no order while the start waits for the database.
import type { DatabaseOutage } from '../db/connect-errors.js';
import type { StartStanding } from '../domain/start-standing.js';

interface Waiting {
  part: string;
  outage: DatabaseOutage;
  since: Date;
  retryAt: number;
}

export class StartProgress {
  readonly #since = new Date();
  #waiting: Waiting | null = null;
  #over = false;
  #migrationLock: string | null = null;

  /** The start waits for the database: `part`'s start is tried again in `retryInMs`. */
  waiting(part: string, outage: DatabaseOutage, retryInMs: number): void {
    this.#waiting = { part, outage, since: this.#waiting?.since ?? new Date(), retryAt: Date.now() + retryInMs };
  }

  /** The database answered again: the start goes on. */
  resumed(): void {
    this.#waiting = null;
  }

  /** The migrations wait for the migration lock (`holder`: who holds it, in words), or no longer do (null). */
  migrationWait(holder: string | null): void {
    this.#migrationLock = holder;
  }

  /** The start is over (the banner): nothing is shown from now on. */
  over(): void {
    this.#over = true;
    this.#waiting = null;
  }

  /** What the start waits for the database about, if it does. */
  get outage(): DatabaseOutage | null {
    return this.#waiting?.outage ?? null;
  }

  get waitingForDatabase(): boolean {
    return this.#waiting !== null;
  }

  /** What /healthz shows; null once the start is over. */
  standing(): StartStanding | null {
    if (this.#over) return null;
    const since = this.#since.toISOString();
    const w = this.#waiting;
    if (!w) return { state: 'starting', since, ...(this.#migrationLock ? { migrationLock: this.#migrationLock } : {}) };
    return {
      state: 'waiting for the database', since, part: w.part, database: `${w.outage.detail} at ${w.outage.at}`,
      waitingSince: w.since.toISOString(), retryInS: Math.max(0, Math.ceil((w.retryAt - Date.now()) / 1000)),
    };
  }
}
