// node-cron's own messages — a missed execution when the event loop stalls at start under load —
// go through our logger (JSON, LOG_DIR), never raw `[NODE-CRON] [WARN] …` text on the console.
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { JobRegistry } from '../../src/jobs/registry.js';

describe('scheduled jobs under a stalled event loop', () => {
  let jobs: JobRegistry | undefined;
  afterEach(async () => {
    await jobs?.stopAll();
    vi.restoreAllMocks();
  });

  it('report node-cron’s missed executions through the logger, writing nothing raw to stdout or stderr', async () => {
    const raw: string[] = [];
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void raw.push(args.map(String).join(' ')));
    }
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    jobs = new JobRegistry(logger);
    jobs.register({ name: 'every-second', schedule: '* * * * * *', trades: false, run: async () => undefined });
    // The start stalls: nothing else runs for 3.5 s, so the second-by-second schedule misses its slots.
    const until = Date.now() + 3_500;
    while (Date.now() < until) { /* a blocked event loop */ }
    await new Promise((r) => setTimeout(r, 1_500));
    expect(raw.filter((l) => /NODE-CRON|missed execution/i.test(l))).toEqual([]);
    const missed = lines.filter((l) => /missed execution/.test(String(l['msg'])));
    expect(missed.length).toBeGreaterThan(0);
    expect(missed[0]).toMatchObject({ level: 40, source: 'node-cron', job: 'every-second' });
  }, 20_000);
});
