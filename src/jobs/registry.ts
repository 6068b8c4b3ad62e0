// Owns the scheduled jobs (node-cron). A job that would place orders is marked `trades: true` so a
// kill's halt latch can hold it in this process. None is today: the scheduled jobs deliver and
// escalate alerts (an escalation may fire the auto-kill, which must never be held), post summaries
// and on-call handovers, and expire mode requests; the live switch pauses nothing
// (docs/checklist-coverage.md, §6). The engine, which trades, is no job here.
// node-cron is required when the first job is registered: every command builds a registry, only
// the running bot schedules anything. What node-cron has to say (a missed execution when the event
// loop stalls, an overlap) goes through our logger, never raw to the console: raw text would break
// JSON output and never reach LOG_DIR. A run missed while the bot starts (opening the database, the
// engine's first reconciliation and warm-up hold the event loop on a loaded machine) is the start's
// doing, not a stall: it is said at info as such (holdStart). A missed run after the start is warned.
// A run still under way when its job's next one is due (a query waiting for a database that went
// away) has the due runs skipped here, not by node-cron's noOverlap, which warned once per tick
// (59 lines in 30 s of an outage): they are counted, and said when the skipping starts, once a
// minute while it lasts, and when the run under way ends.
import { createRequire } from 'node:module';
import type { ScheduledTask } from 'node-cron';
import type { Logger } from '../logger.js';

type NodeCron = typeof import('node-cron');
type CronLogger = NonNullable<Parameters<NodeCron['schedule']>[2]>['logger'] & object;
let nodeCron: NodeCron | undefined;
const loadCron = (logger: Logger): NodeCron => {
  if (nodeCron) return nodeCron;
  nodeCron = createRequire(import.meta.url)('node-cron') as NodeCron;
  // Its module-wide logger too (a task that fails to start logs there), not only each task's.
  nodeCron.setLogger(cronLogger(logger));
  return nodeCron;
};

/** node-cron's logger interface on ours: each line marked as node-cron's, with the job when known. */
export function cronLogger(logger: Logger, job?: string): CronLogger {
  const fields = { source: 'node-cron', ...(job ? { job } : {}) };
  const at = (level: 'info' | 'warn' | 'error' | 'debug') => (message: string | Error, err?: Error): void => {
    if (message instanceof Error) logger[level]({ ...fields, err: message }, `node-cron: ${message.message}`);
    else logger[level]({ ...fields, ...(err ? { err } : {}) }, `node-cron: ${message}`);
  };
  return { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
}

/** A start longer than this is not blamed for a missed run any more: a stall after it is warned. */
export const START_WINDOW_MAX_MS = 120_000;

const clockTime = (date: Date): string => date.toISOString().slice(11, 19);

/** While a job's run outlasts its schedule, the runs it skips are said again at most this often. */
export const OVERLAP_SAY_EVERY_MS = 60_000;

/** A job's run under way, and the runs due meanwhile that were skipped. */
interface RunUnderWay {
  startedAt: Date;
  skipped: number;
  saidAt: number | null;
}

export interface JobSpec {
  name: string;
  /** node-cron expression; 6 fields with seconds are allowed (e.g. every second: '* * * * * *'). */
  schedule: string;
  /** True for a job that places orders: held while a kill has latched this process (none is, today). */
  trades: boolean;
  run(): Promise<void>;
  timezone?: string;
}

export class JobRegistry {
  readonly #tasks = new Map<string, { spec: JobSpec; task: ScheduledTask }>();
  /** Runs started by the schedule and not yet ended: stopAll waits for them (they use the database it closes next). */
  readonly #running = new Map<Promise<void>, string>();
  /** Each job's run started by the schedule and not yet ended: a run due meanwhile is skipped. */
  readonly #underWay = new Map<string, RunUnderWay>();
  /** Runs skipped because the job's previous run was still under way, per job, since the registry was made. */
  readonly #skippedRuns = new Map<string, number>();
  #stopping = false;
  #tradingPausedReason: string | null = null;
  /** The bot's start, while parts of it hold it open (holdStart); null when no start was ever held. */
  #start: { openedAt: number; holds: number; endedAt: number | null } | null = null;

  constructor(private readonly logger: Logger) {}

  /**
   * The bot is starting until every hold is released (the start itself, the engine's first
   * preparation): a run node-cron misses meanwhile — or later, for a slot due before the start
   * ended — is logged at info as missed while the bot was starting; at most START_WINDOW_MAX_MS after
   * the first hold. Holds taken once the start has ended (an engine taking the lease over later)
   * change nothing. Returns the release (idempotent).
   */
  holdStart(): () => void {
    const now = Date.now();
    if (this.#start?.endedAt != null) return () => undefined;
    this.#start ??= { openedAt: now, holds: 0, endedAt: null };
    const start = this.#start;
    start.holds += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      start.holds -= 1;
      if (start.holds === 0 && start.endedAt === null) start.endedAt = Date.now();
    };
  }

  /** Whether a run due at `slot` fell while the bot was starting. */
  #duringStart(slot: Date): boolean {
    const start = this.#start;
    if (!start) return false;
    const at = slot.getTime();
    return at <= Math.min(start.endedAt ?? Infinity, start.openedAt + START_WINDOW_MAX_MS);
  }

  #missed(job: string, slot: Date): void {
    const fields = { source: 'node-cron', job, slot: slot.toISOString() };
    if (this.#duringStart(slot)) {
      this.logger.info({ ...fields, startDelayed: true }, `job ${job} skipped its ${clockTime(slot)} run, missed while the bot was starting; it runs on schedule from the next`);
      return;
    }
    // node-cron's own words, as before this registry took the event over.
    this.logger.warn(fields, `node-cron: missed execution at ${slot}! Possible blocking IO or high CPU user at the same process used by node-cron.`);
  }

  /** A run of `job` due while its previous one is still under way: skipped, counted, said at most once a minute. */
  #skip(job: string, underWay: RunUnderWay): void {
    underWay.skipped += 1;
    this.#skippedRuns.set(job, (this.#skippedRuns.get(job) ?? 0) + 1);
    const now = Date.now();
    if (underWay.saidAt !== null && now - underWay.saidAt < OVERLAP_SAY_EVERY_MS) return;
    const first = underWay.saidAt === null;
    underWay.saidAt = now;
    const since = `${clockTime(underWay.startedAt)} (${Math.round((now - underWay.startedAt.getTime()) / 1000)} s ago)`;
    this.logger.warn({ source: 'node-cron', job, skipped: underWay.skipped, runningSince: underWay.startedAt.toISOString() }, first
      ? `job ${job}'s run from ${since} is still under way: the runs due until it ends are skipped, counted and said once a minute`
      : `job ${job}'s run from ${since} is still under way: ${underWay.skipped} run(s) skipped so far`);
  }

  /** How many runs of `name` were skipped because its previous run was still under way. */
  skippedRuns(name: string): number {
    return this.#skippedRuns.get(name) ?? 0;
  }

  register(spec: JobSpec): void {
    if (this.#tasks.has(spec.name)) throw new Error(`job ${spec.name} is registered twice`);
    // Once stopAll has run, nothing would stop a new schedule, and its timer would hold the process up
    // after "stopped": a part's start that a stop left behind (src/app/started-parts.ts) registers late.
    if (this.#stopping) {
      this.logger.info({ job: spec.name }, `job ${spec.name} was registered after the jobs were stopped: not scheduled`);
      return;
    }
    const task = loadCron(this.logger).schedule(
      spec.schedule,
      async () => {
        if (this.#stopping || (spec.trades && this.#tradingPausedReason)) return;
        const underWay = this.#underWay.get(spec.name);
        if (underWay) return this.#skip(spec.name, underWay);
        const mine: RunUnderWay = { startedAt: new Date(), skipped: 0, saidAt: null };
        this.#underWay.set(spec.name, mine);
        const run = (async () => {
          try {
            await spec.run();
          } catch (err) {
            this.logger.error({ err, job: spec.name }, `job ${spec.name} failed`);
          }
        })();
        this.#running.set(run, spec.name);
        try {
          await run;
        } finally {
          this.#running.delete(run);
          this.#underWay.delete(spec.name);
          if (mine.skipped > 0) {
            const ms = Date.now() - mine.startedAt.getTime();
            this.logger.info({ source: 'node-cron', job: spec.name, skipped: mine.skipped, ms },
              `job ${spec.name}'s run from ${clockTime(mine.startedAt)} ended after ${Math.round(ms / 1000)} s: ${mine.skipped} run(s) due meanwhile were skipped; it runs on schedule from the next`);
          }
        }
      },
      { name: spec.name, logger: cronLogger(this.logger, spec.name), ...(spec.timezone ? { timezone: spec.timezone } : {}) },
    );
    // A listener of its own: node-cron then leaves the missed run to us (no warning of its own).
    task.on('execution:missed', (context) => this.#missed(spec.name, context.date));
    this.#tasks.set(spec.name, { spec, task });
  }

  /** Stops `name`'s schedule and forgets it (a part's start that failed leaves no job behind); a run under way ends by itself. */
  async unregister(name: string): Promise<void> {
    const entry = this.#tasks.get(name);
    if (!entry) return;
    this.#tasks.delete(name);
    await entry.task.stop();
  }

  /** Pauses every job that trades; returns a function that resumes them. */
  pauseTrading(reason: string): () => void {
    // Said once per reason: a saved kill waiting for its database latches again at every halt poll
    // (500 ms), which wrote this line ~170k times a day while nothing changed.
    if (this.#tradingPausedReason !== reason) this.logger.info({ reason }, 'trading jobs paused');
    this.#tradingPausedReason = reason;
    return () => this.resumeTrading();
  }

  resumeTrading(): void {
    if (this.#tradingPausedReason === null) return;
    this.#tradingPausedReason = null;
    this.logger.info('trading jobs resumed');
  }

  get tradingPaused(): string | null {
    return this.#tradingPausedReason;
  }

  names(): string[] {
    return [...this.#tasks.keys()];
  }

  async runNow(name: string): Promise<void> {
    const entry = this.#tasks.get(name);
    if (!entry) throw new Error(`no job named ${name}`);
    await entry.spec.run();
  }

  /**
   * Stops every schedule, then waits for the runs already under way to end (a run cut off by the
   * database closing under it would log a failure that never happened to the job, and leave its
   * work half done); at most `waitMs`, after which the ones still running are named in a warning.
   */
  async stopAll(waitMs = 10_000): Promise<void> {
    this.#stopping = true;
    await Promise.all([...this.#tasks.values()].map(({ task }) => task.stop()));
    this.#tasks.clear();
    if (this.#running.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), waitMs); });
    const ended = await Promise.race([Promise.all([...this.#running.keys()]).then(() => 'ended' as const), timedOut]);
    clearTimeout(timer);
    if (ended === 'timeout') {
      const names = [...new Set(this.#running.values())];
      this.logger.warn({ jobs: names, waitMs }, `stopping with job(s) ${names.join(', ')} still running after ${waitMs} ms`);
    }
  }
}
