// The alerts part's start stores (or compares) the escalation policy every replica pages by. A database
// that goes away there used to be swallowed and logged "retried next tick" when nothing retried it: the
// process never stored its policy nor warned of a different one. Now the outage reaches the start's wait
// (src/app/wait-for-database.ts), which starts the part again, with nothing of the failed start left running.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAppContext } from '../../../src/app/build-context.js';
import { alertsFeature } from '../../../src/app/features/alerts.js';
import { databaseOutage } from '../../../src/db/connect-errors.js';
import { connectPostgres } from '../../../src/db/client.js';
import type { HttpServer } from '../../../src/http/server.js';
import { ManualClock } from '../../../src/clock.js';
import { testConfig } from '../../../src/config/env.js';
import { createLogger } from '../../../src/logger.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { startStallProxy, type StallProxy } from '../../support/stall-proxy.js';

let database: TestDatabase;
let proxy: StallProxy;
beforeAll(async () => {
  database = await createPostgresTestDb();
  proxy = await startStallProxy();
});
afterAll(async () => {
  await proxy.close();
  await database.close();
});

describe('the alerts part of the start', () => {
  it('lets a database outage reach the start (to be started again), leaving no job behind, and starts once it is back', async () => {
    const url = proxy.urlFor(database.url);
    const lines: Array<{ msg: string; level: number }> = [];
    const config = testConfig({ DATABASE_URL: url });
    const logger = createLogger({ config, stdout: false, files: false, destination: new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(String(chunk))); done(); } }) });
    const proxied = connectPostgres(url, { max: 2 });
    const ctx = await buildAppContext({ config, clock: new ManualClock('2026-01-05T12:00:00Z'), logger, database: proxied });
    try {
      proxy.set('down');
      const err = await alertsFeature.start(ctx, {} as HttpServer, { role: 'all', feed: 'replay' }).then(() => null, (e: unknown) => e);
      expect(databaseOutage(err, url)).toMatchObject({ kind: expect.stringMatching(/^(lost|refused)$/) });
      expect(ctx.jobs.names()).toEqual([]);
      expect(lines.map((l) => l.msg).join('\n')).not.toMatch(/retried next tick/);
      proxy.set('forward');
      const running = await alertsFeature.start(ctx, {} as HttpServer, { role: 'all', feed: 'replay' });
      expect(ctx.jobs.names().sort()).toEqual(['alert-delivery', 'alert-escalation', 'oncall-handover']);
      await running?.stop();
    } finally {
      proxy.set('forward');
      await ctx.close();
      await proxied.close();
    }
  });
});
