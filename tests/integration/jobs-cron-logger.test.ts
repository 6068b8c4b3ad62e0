// node-cron's own messages — a missed execution when the event loop stalls at start under load —
// go through our logger (JSON, LOG_DIR), never raw `[NODE-CRON] [WARN] …` text on the console.
// The stalls are the clock moving on while no timer fires (fake timers): what a long synchronous task
// does to node-cron's heartbeat, without the test waiting out the seconds it lasts.
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { JobRegistry } from '../../src/jobs/registry.js';

/** The event loop stalls for `ms`: the clock moves on and no timer fires meanwhile (fake timers on). */
const stall = (ms: number) => vi.setSystemTime(Date.now() + ms);
/** Runs the timers due over `ms`, a step at a time, until `done` holds (or `ms` has passed). */
async function runTimersUntil(done: () => boolean, ms: number): Promise<void> {
  for (let left = ms; left > 0 && !done(); left -= 50) await vi.advanceTimersByTimeAsync(50);
}

describe('scheduled jobs under a stalled event loop', () => {
  let jobs: JobRegistry | undefined;
  afterEach(async () => {
    await jobs?.stopAll(0);
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('report node-cron’s missed executions through the logger, writing nothing raw to stdout or stderr', async () => {
    const raw: string[] = [];
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void raw.push(args.map(String).join(' ')));
    }
    vi.useFakeTimers();
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    jobs = new JobRegistry(logger);
    jobs.register({ name: 'every-second', schedule: '* * * * * *', trades: false, run: async () => undefined });
    // The start stalls: nothing else runs for 3.5 s, so the second-by-second schedule misses its slots.
    stall(3_500);
    // The first beat after the stall reports the missed slots, through the logger or raw: wait for either.
    const missed = () => lines.filter((l) => /missed execution/.test(String(l['msg'])));
    const rawCron = () => raw.filter((l) => /NODE-CRON|missed execution/i.test(l));
    await runTimersUntil(() => missed().length > 0 || rawCron().length > 0, 10_000);
    expect(rawCron()).toEqual([]);
    expect(missed().length).toBeGreaterThan(0);
    expect(missed()[0]).toMatchObject({ level: 40, source: 'node-cron', job: 'every-second' });
  }, 20_000);

  const collect = () => {
    vi.useFakeTimers();
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    return { lines, logger };
  };

  it('say a run missed while the bot was starting as such, at info: no warning of a stall for it', async () => {
    const { lines, logger } = collect();
    jobs = new JobRegistry(logger);
    const started = jobs.holdStart();
    jobs.register({ name: 'every-second', schedule: '* * * * * *', trades: false, run: async () => undefined });
    // The start's own work (the database, the first reconciliation) holds the event loop, then ends;
    // node-cron tells the missed slots only when it runs again.
    stall(3_500);
    started();
    await vi.advanceTimersByTimeAsync(1_500);
    expect(lines.filter((l) => Number(l['level']) >= 40)).toEqual([]);
    const held = lines.filter((l) => l['startDelayed'] === true);
    expect(held.length).toBeGreaterThan(0);
    expect(held[0]).toMatchObject({ level: 30, source: 'node-cron', job: 'every-second' });
    // Said when it fell, not a cause the registry does not know.
    expect(String(held[0]!['msg'])).toMatch(/^job every-second skipped its \d\d:\d\d:\d\d run, missed while the bot was starting; it runs on schedule from the next$/);
  }, 20_000);

  it('still warn a run missed once the start is done (a stall in steady state), and a later hold changes nothing', async () => {
    const { lines, logger } = collect();
    jobs = new JobRegistry(logger);
    jobs.holdStart()();
    jobs.register({ name: 'every-second', schedule: '* * * * * *', trades: false, run: async () => undefined });
    // Taken after the start ended (an engine taking the lease over later): not a start.
    const later = jobs.holdStart();
    stall(3_500);
    await vi.advanceTimersByTimeAsync(1_500);
    later();
    const missed = lines.filter((l) => /missed execution/.test(String(l['msg'])));
    expect(missed.length).toBeGreaterThan(0);
    expect(missed.every((l) => l['level'] === 40 && l['job'] === 'every-second')).toBe(true);
    expect(lines.filter((l) => l['startDelayed'] === true)).toEqual([]);
  }, 20_000);
});

describe('stopping the scheduled jobs', () => {
  afterEach(() => void vi.useRealTimers());

  it('waits for a run under way to end before it returns (the database closes next), and starts none after', async () => {
    vi.useFakeTimers();
    const logger = pino({ level: 'silent' });
    const jobs = new JobRegistry(logger);
    let started = 0;
    let ended = 0;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    jobs.register({ name: 'slow', schedule: '* * * * * *', trades: false, run: async () => { started += 1; await held; ended += 1; } });
    await runTimersUntil(() => started > 0, 5_000);
    expect(started).toBe(1);
    let stopped = false;
    const stopping = jobs.stopAll().then(() => void (stopped = true));
    await vi.advanceTimersByTimeAsync(1_200);
    expect(stopped, 'stopAll returned while a run was still under way').toBe(false);
    release();
    await stopping;
    expect(ended).toBe(1);
    expect(started, 'no run starts once stopping began').toBe(1);
  }, 20_000);

  it('gives up waiting after its bound and names the job still running', async () => {
    vi.useFakeTimers();
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const jobs = new JobRegistry(logger);
    let started = false;
    jobs.register({ name: 'stuck', schedule: '* * * * * *', trades: false, run: () => { started = true; return new Promise<void>(() => undefined); } });
    await runTimersUntil(() => started, 5_000);
    const stopping = jobs.stopAll(200);
    await vi.advanceTimersByTimeAsync(200);
    await stopping;
    expect(lines.find((l) => /still running after 200 ms/.test(String(l['msg'])))).toMatchObject({ level: 40, jobs: ['stuck'] });
  }, 20_000);
});

describe('a job whose run outlasts its schedule (a query waiting for a database that went away)', () => {
  it('skips the runs due meanwhile quietly: counted, said when it starts, once a minute and when the run ends — not warned per tick', async () => {
    vi.useFakeTimers({ now: new Date('2026-12-07T09:00:00.500Z') });
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const jobs = new JobRegistry(logger);
    try {
      let runs = 0;
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      jobs.register({ name: 'every-second', schedule: '* * * * * *', trades: false, run: async () => { runs += 1; if (runs === 1) await held; } });
      // The first run starts at 09:00:01 and is held for 90 ticks of the schedule.
      await vi.advanceTimersByTimeAsync(91_000);
      expect(runs).toBe(1);
      const skipped = jobs.skippedRuns('every-second');
      expect(skipped).toBeGreaterThanOrEqual(85);
      const said = () => lines.filter((l) => l['job'] === 'every-second').map((l) => [l['level'], String(l['msg'])]);
      // Nothing per tick: the start of the skipping, then one line a minute later.
      expect(said()).toEqual([
        [40, "job every-second's run from 09:00:01 (1 s ago) is still under way: the runs due until it ends are skipped, counted and said once a minute"],
        [40, expect.stringMatching(/^job every-second's run from 09:00:01 \(6\d s ago\) is still under way: 6\d run\(s\) skipped so far$/)],
      ]);
      release();
      await vi.advanceTimersByTimeAsync(1_000);
      expect(said()).toHaveLength(3);
      expect(said()[2]).toEqual([30, `job every-second's run from 09:00:01 ended after 91 s: ${jobs.skippedRuns('every-second')} run(s) due meanwhile were skipped; it runs on schedule from the next`]);
      // And it runs on schedule again.
      await vi.advanceTimersByTimeAsync(2_000);
      expect(runs).toBeGreaterThanOrEqual(2);
      expect(lines.filter((l) => /overlap/.test(String(l['msg'])))).toEqual([]);
    } finally {
      await jobs.stopAll(0);
      vi.useRealTimers();
    }
  });
});
