// Owns the scheduled jobs (node-cron). A job that would place orders is marked `trades: true` so a
// kill's halt latch can hold it in this process. None is today: the scheduled jobs deliver and
// escalate alerts (an escalation may fire the auto-kill, which must never be held), post summaries
// and on-call handovers, and expire mode requests; the live switch pauses nothing
// (docs/checklist-coverage.md, §6). The engine, which trades, is no job here.
// node-cron is required when the first job is registered: every command builds a registry, only
// the running bot schedules anything. What node-cron has to say (a missed execution when the event
// loop stalls, an overlap) goes through our logger, never raw to the console: raw text would break
// JSON output and never reach LOG_DIR.
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
  #stopping = false;
  #tradingPausedReason: string | null = null;

  constructor(private readonly logger: Logger) {}

  register(spec: JobSpec): void {
    if (this.#tasks.has(spec.name)) throw new Error(`job ${spec.name} is registered twice`);
    const task = loadCron(this.logger).schedule(
      spec.schedule,
      async () => {
        if (this.#stopping || (spec.trades && this.#tradingPausedReason)) return;
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
        }
      },
      { name: spec.name, noOverlap: true, logger: cronLogger(this.logger, spec.name), ...(spec.timezone ? { timezone: spec.timezone } : {}) },
    );
    this.#tasks.set(spec.name, { spec, task });
  }

  /** Pauses every job that trades; returns a function that resumes them. */
  pauseTrading(reason: string): () => void {
    this.#tradingPausedReason = reason;
    this.logger.info({ reason }, 'trading jobs paused');
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
