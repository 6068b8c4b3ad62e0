// A part's start cut by a database outage is run again once the database answers (wait-for-database.ts),
// and must leave nothing of the failed try running. A part that registered a job before the database read
// that failed used to fail its retry with "job … is registered twice" (not an outage: the start exited).
// The start now removes the jobs a failed try registered, so any part's retry starts clean.
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Feature } from '../../src/app/feature.js';
import { startBot, type RunningBot } from '../../src/app/runtime.js';
import { testConfig } from '../../src/config/env.js';
import { usePostgresTestDb } from '../support/db.js';

const database = usePostgresTestDb();
let bot: RunningBot | undefined;
afterEach(async () => {
  await bot?.stop();
  bot = undefined;
});

describe('a part whose start fails with a database outage after registering a job', () => {
  it('is started again with that job registered once, not refused as registered twice', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    let tries = 0;
    const part: Feature = {
      name: 'registers-then-reads', roles: ['all'],
      async start(ctx) {
        tries += 1;
        ctx.jobs.register({ name: 'part-job', schedule: '0 0 * * * *', trades: false, run: async () => {} });
        // The database read after it is cut: the server going away (57P01), as in a restart.
        if (tries === 1) throw Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
      },
    };
    bot = await startBot({ config: testConfig({ HOST: '127.0.0.1' }), logger, database: database(), features: [part], role: 'all', feed: 'replay', port: 0 });
    expect(tries).toBe(2);
    expect(bot.ctx.jobs.names().filter((n) => n === 'part-job')).toHaveLength(1);
    expect(lines.map((l) => l.event).filter(Boolean)).toEqual(expect.arrayContaining(['start_database_lost', 'start_database_back']));
  });
});
