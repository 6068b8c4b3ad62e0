// `ctb alerts test` tries its own test alert until its wait ends, and then stops: the log line of a
// failed try says "will retry" only when this process will; after the last one it says the message
// is left queued.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { alertsTestCommand } from '../../../commands/alerts-test.js';
import { createAlertRuntime } from '../../../src/alerts/runtime.js';
import { execute } from '../../../src/db/client.js';
import { runCommand } from '../../../commands/run-command.js';
import type { OwnedContext } from '../../../src/app/build-context.js';
import { createLogger } from '../../../src/logger.js';
import { testContext } from '../../support/app-context.js';
import { passDeliveryTime } from '../../support/alert-fixtures.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';

let database: TestDatabase;
let ctx: OwnedContext;
const lines: Array<{ msg: string; attempts?: number }> = [];

beforeAll(async () => {
  database = await createPostgresTestDb();
  // Nothing listens on port 9: every try of the Slack message fails at once.
  ctx = await testContext({
    database,
    env: { SLACK_BOT_TOKEN: 'xoxb-0000-test-not-a-real-token', SLACK_SIGNING_SECRET: 'sig', SLACK_API_URL: 'http://127.0.0.1:9/api/', SLACK_ALERTS_CHANNEL: 'C0ALERTS' },
  });
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  ctx.logger = createLogger({ config: ctx.config, stdout: false, files: false, destination: sink, destinationLevel: 'warn' });
}, 120_000);
afterAll(async () => {
  await ctx?.close();
  await database?.close();
});

describe('ctb alerts test against a Slack it cannot reach', () => {
  it('promises a retry only while one is still to come here; the last try says the message is left queued', async () => {
    // Tries at once and 2 s later (the backoff); the next would be 4 s after that, past the 6 s wait
    // (a loaded machine may start the first try late: the wait leaves it room).
    const result = await runCommand(alertsTestCommand, ctx, { id: 'cli:ops', source: 'cli' }, { waitMs: 6_000 });
    expect(result.channels.slack).toMatchObject({ status: 'failed', triedHere: true });
    const failures = lines.filter((l) => l.msg.startsWith('alert delivery failed'));
    expect(failures.length).toBeGreaterThanOrEqual(2);
    expect(failures.map((l) => l.attempts)).toEqual(failures.map((_, i) => i + 1));
    // Each try but the last was followed by another; the last was not, and does not say it will be.
    for (const f of failures.slice(0, -1)) expect(f.msg).toBe('alert delivery failed; will retry');
    expect(failures.at(-1)!.msg).toBe('alert delivery failed; this process stops trying before its next try is due: left queued');
  }, 60_000);

  it('a message it said it stops trying is not tried again by this process, even once the database says it is due', async () => {
    // The next try's time is judged on this process's clock; the database's (a transaction's now(),
    // earlier on a loaded machine) can make it due before the caller's wait ends after all.
    await ctx.alerts.raise({ source: 'test', severity: 'warning', title: 'last-try probe', fingerprint: 'last-try-probe' });
    const [group] = await execute<{ id: number }>(database.db, sql`select id from alert_groups where fingerprint = 'last-try-probe'`);
    const runtime = createAlertRuntime(ctx);
    try {
      const scope = { groupId: Number(group!.id), triesUntil: Date.now() + 100 };
      lines.length = 0;
      expect((await runtime.delivery.tick(scope)).failed).toBe(1);
      expect(lines.filter((l) => l.msg.startsWith('alert delivery failed')).map((l) => l.msg)).toEqual(['alert delivery failed; this process stops trying before its next try is due: left queued']);
      await passDeliveryTime(database.db, null, 60_000);
      expect((await runtime.delivery.tick(scope)).failed).toBe(0);
      expect(lines.filter((l) => l.msg.startsWith('alert delivery failed'))).toHaveLength(1);
      // Still queued for a process that keeps trying (the bot's delivery tick, unscoped).
      const [row] = await execute<{ status: string; attempts: number }>(database.db, sql`select status, attempts from alert_deliveries where group_id = ${group!.id}`);
      expect(row).toMatchObject({ status: 'pending', attempts: 1 });
    } finally {
      runtime.close();
    }
  });
});
