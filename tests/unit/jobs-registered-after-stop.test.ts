// A job registered once the jobs were stopped (a part's start that a stop during the bot's start left
// behind, src/app/started-parts.ts, goes on and registers its jobs) is not scheduled: nothing would
// stop it, and its timer held the process up after "stopped" until the start's 10 s bound.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { JobRegistry } from '../../src/jobs/registry.js';

describe('a job registered after stopAll', () => {
  it('is not scheduled (no timer left), and the line says so', async () => {
    const lines: Array<{ msg: string; job?: string }> = [];
    const jobs = new JobRegistry(pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string; job?: string }) }));
    await jobs.stopAll();
    const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const before = timers();
    jobs.register({ name: 'alert-escalation', schedule: '* * * * * *', trades: false, run: async () => {} });
    expect(timers()).toBe(before);
    expect(jobs.names()).toEqual([]);
    expect(lines).toEqual([expect.objectContaining({ job: 'alert-escalation', msg: 'job alert-escalation was registered after the jobs were stopped: not scheduled' })]);
  });
});
