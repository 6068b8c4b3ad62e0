// `ctb alerts test` tries its own test alert until its wait ends, and then stops: the log line of a
// failed try says "will retry" only when this process will; after the last one it says the message
// is left queued.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertsTestCommand } from '../../../commands/alerts-test.js';
import { runCommand } from '../../../commands/run-command.js';
import type { OwnedContext } from '../../../src/app/build-context.js';
import { createLogger } from '../../../src/logger.js';
import { testContext } from '../../support/app-context.js';
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
});
