// "trading jobs paused" is said when the pause starts or its reason changes, not at every repeat: a kill
// saved in DATA_DIR while its database is away is latched again at every halt poll (500 ms).
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { JobRegistry } from '../../src/jobs/registry.js';

describe('pausing the trading jobs', () => {
  it('logs once per reason: again for a new reason, again after a resume', async () => {
    const lines: string[] = [];
    const said = (line: string) => {
      const { msg, reason } = JSON.parse(line) as { msg: string; reason?: string };
      lines.push(reason ?? msg);
    };
    const jobs = new JobRegistry(pino({ level: 'info' }, { write: said }));
    for (let poll = 0; poll < 5; poll++) jobs.pauseTrading('kill: pg down');
    expect(jobs.tradingPaused).toBe('kill: pg down');
    jobs.pauseTrading('kill: second');
    jobs.pauseTrading('kill: second');
    jobs.resumeTrading();
    jobs.pauseTrading('kill: second');
    expect(lines).toEqual(['kill: pg down', 'kill: second', 'trading jobs resumed', 'kill: second']);
    await jobs.stopAll();
  });
});
