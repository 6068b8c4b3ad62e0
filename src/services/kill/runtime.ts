// Owns the kill switch's in-process state and what a kill announces, as ports every context is built
// with (src/app/build-context.ts) — no registry filled in later by whichever part starts:
//   - the halt latch: set the moment a kill starts (before any database access), so the engine and
//     the trading jobs of this process stop even when the halt cannot be written yet;
//   - the incident poster: posts a new incident's checklist thread (Slack), given when the context
//     is built by the features that run in this process (startBot), null where none does (a shell);
//   - Kraken's shared rate record: this process's refusals written for the others, theirs read.
// One latch per context, shared by every copy of it (runCommand's { ...ctx, actor }).
import type { BotState, Incident, IncidentChecklistItem } from '../../db/schema/index.js';
import type { JobRegistry } from '../../jobs/registry.js';
import type { Logger } from '../../logger.js';
import { sleep, withDeadline } from './deadline.js';
import type { SharedKrakenCounter } from './shared-counter.js';

export interface FlattenOutcome {
  ok: boolean;
  summary: string;
  details?: Record<string, unknown>;
}

/** Posts an incident's thread (its checklist with buttons); answers where it went. */
export type IncidentPoster = (incident: Incident, items: IncidentChecklistItem[]) => Promise<{ channel: string; ts: string }>;

export const KILL_PAUSE_PREFIX = 'kill: ';

/** This process's halt: latched by a kill (its own, or another process's seen by the halt watcher). */
export class HaltLatch {
  #reason: string | null = null;
  #changes = 0;
  readonly #listeners = new Set<(reason: string, killId?: string) => void>();
  /** The kills this process has told its listeners of: each kill is a cancel of its own, once. */
  readonly #told = new Set<string>();

  constructor(private readonly deps: { jobs: Pick<JobRegistry, 'pauseTrading' | 'resumeTrading' | 'tradingPaused'>; logger: Logger }) {}

  get latched(): boolean {
    return this.#reason !== null;
  }

  get reason(): string | null {
    return this.#reason;
  }

  /**
   * How many times this process latched or released: a reader of bot_state compares it around its
   * read, since a change made here meanwhile (a resume that committed, then released; a kill that
   * latched before writing) is newer than what the read saw.
   */
  get changes(): number {
    return this.#changes;
  }

  /**
   * Stops this process trading at once: latch, pause the trading jobs, tell the listeners (halt means
   * cancel). They are told of the first halt, and of each new kill (`killId`) after it: a later kill
   * against a process already halted is a new cancel — an order may have landed since the last one.
   */
  latch(reason: string, killId?: string): void {
    const first = this.#reason === null;
    this.#reason = reason;
    this.#changes += 1;
    this.deps.jobs.pauseTrading(`${KILL_PAUSE_PREFIX}${reason}`);
    const newKill = killId !== undefined && !this.#told.has(killId);
    if (killId !== undefined) this.#told.add(killId);
    if (!first && !newKill) return;
    for (const listener of this.#listeners) {
      try {
        listener(reason, killId);
      } catch (err) {
        this.deps.logger.error({ err }, 'a halt listener failed');
      }
    }
  }

  /** After a resume: clears the latch and resumes the trading jobs this kill paused. */
  release(): void {
    this.#reason = null;
    this.#changes += 1;
    if (this.deps.jobs.tradingPaused?.startsWith(KILL_PAUSE_PREFIX)) this.deps.jobs.resumeTrading();
  }

  /** Called when this process learns of a halt (the kill feature's cancel on Kraken); returns the unsubscribe. */
  onHalt(listener: (reason: string, killId?: string) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }
}

/**
 * The time a kill's confirmation rounds run on (its deadline and the pauses between rounds): a
 * monotonic clock in milliseconds and an awaited pause. Tests give one that moves a manual clock.
 */
export interface KillTime {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** An exchange call's deadline on this clock: `work`, or a DeadlineError once `ms` have passed (default withDeadline). */
  within?: <T>(work: Promise<T>, ms: number, what: string) => Promise<T>;
}

export const realKillTime: KillTime = { now: () => performance.now(), sleep, within: withDeadline };

/** The kill's ports on the context. */
export interface KillPorts {
  readonly latch: HaltLatch;
  /** Null in a process that posts no incident threads (a shell, a bot without Slack's ops channel). */
  readonly incidentPoster: IncidentPoster | null;
  readonly time: KillTime;
  /** Kraken's rate counter as every process using the key recorded it (shared-counter.ts). */
  readonly counter: SharedKrakenCounter;
  /**
   * Told once the kill's halt is in the database, while its cancel may still be going on (a terminal
   * says so at once). Set by the process that runs the kill; what it does cannot hold the kill up.
   */
  onHaltRecorded?: (halt: HaltRecorded) => void;
  /**
   * Told once the kill is saved in DATA_DIR's pending-kill file while the database has not taken it
   * yet, and again (with what the database did) once the database failed to take it. Set by the
   * process that runs the kill (a terminal stopped meanwhile says where the halt is kept).
   */
  onHaltSaved?: (saved: HaltSaved) => void;
  /**
   * Told, one line at a time, what the kill's cancel is waiting for while Kraken is slow: a call that
   * missed its deadline, no further try sent because the answer is due, the answer coming unconfirmed.
   * Set by the process that runs the kill (a terminal prints them); it cannot hold the kill up.
   */
  onProgress?: (line: string) => void;
  /**
   * Set while this process's halt watcher runs: asked as another read of bot_state here starts
   * (the engine-request runner's poll), whether the watcher takes its row as a poll (halt-watcher.ts reading()).
   */
  botStateReader?: () => ((state: BotState) => void) | undefined;
}

/** A kill's halt as DATA_DIR holds it, before (or instead of) the database. */
export interface HaltSaved {
  /** DATA_DIR's pending-kill file. */
  file: string;
  /** The database the halt is aimed at (kill-target.ts), named without a secret. */
  target?: string;
  /**
   * Set once the database failed to take the halt: its error, whether it cannot be used as configured,
   * and whether the write only missed its deadline (it may still land).
   */
  database?: { error: string; configProblem: boolean; timedOut?: boolean };
}

/** The halt a kill wrote to the database: the incident it opened or joined. */
export interface HaltRecorded {
  incidentId: number;
  /** A kill was in force (its incident still open, the bot halted): this kill joined it. */
  alreadyKilled: boolean;
  /** An earlier kill's incident was still open: this kill joined it, the bot halted before or not. */
  joined: boolean;
}

type WithKill = { kill: KillPorts };

/** `killId`: the kill this halt is (a new one tells the listeners again, even while halted). */
export function latchHalt(ctx: WithKill, reason: string, killId?: string): void {
  ctx.kill.latch.latch(reason, killId);
}

export function releaseHalt(ctx: WithKill): void {
  ctx.kill.latch.release();
}

/** For the engine: true when this process must not place orders (a kill is latched). */
export function isHaltLatched(ctx: WithKill): boolean {
  return ctx.kill.latch.latched;
}
