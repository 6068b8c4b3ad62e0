// The go-live audit's alerting check, end to end from the terminal: `ctb alerts test` delivers a
// test alert to a fake Slack and a real SMTP server, records it, and the check then passes
// (failed tests turning it to fail are in alerting-oncall-checks.test.ts).
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/program.js';
import { alertingCheck } from '../../../src/services/audit/checks/alerting.js';
import type { AuditContext } from '../../../src/services/audit/types.js';
import { testContext } from '../../support/app-context.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.js';
import { startTestSmtp, type TestSmtp } from '../../support/smtp.js';

let database: TestDatabase;
let slack: FakeSlack;
let smtp: TestSmtp;
beforeAll(async () => {
  [database, slack, smtp] = await Promise.all([createPostgresTestDb(), startFakeSlack(), startTestSmtp()]);
});
afterAll(async () => {
  await Promise.all([slack?.close(), smtp?.close()]);
  await database?.close();
});

const env = () => ({
  DATABASE_URL: database.url, LOG_DIR: join(tmpdir(), 'ctb-test-logs'), LOG_LEVEL: 'error',
  SLACK_BOT_TOKEN: 'xoxb-0000-test-not-a-real-token', SLACK_SIGNING_SECRET: 'sig', SLACK_API_URL: slack.url, SLACK_ALERTS_CHANNEL: 'C0ALERTS',
  SMTP_URL: smtp.url, ALERT_EMAIL_TO: 'oncall@example.com',
});

function io() {
  let out = '';
  let err = '';
  return {
    value: { env: env(), cwd: '/nonexistent-ctb-test', stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } },
    out: () => out,
    err: () => err,
  };
}

async function auditCheck() {
  const ctx = await testContext({ database, env: env() });
  const audit = Object.assign(ctx, { actor: { id: 'cli:a', source: 'cli' as const }, cwd: '.', kraken: () => undefined, memo: <T>(_k: string, f: () => Promise<T>) => f() });
  try {
    return await alertingCheck.run(audit as unknown as AuditContext, { dryRun: true });
  } finally {
    await ctx.close();
  }
}

describe('go-live audit: alerting after `ctb alerts test`', () => {
  it('fails before any test and passes once Slack and email both delivered the test alert', async () => {
    expect(await auditCheck()).toMatchObject({ status: 'fail', value: 'slack + email configured, never tested' });

    const ok = io();
    expect(await runCli(['alerts', 'test', '--severity', 'warning'], ok.value)).toBe(0);
    expect(ok.out()).toMatch(/Test alert \(warning\) delivered — group \d+, recorded as test #\d+/);
    expect(slack.callsTo('chat.postMessage').some((c) => String(c.body.text).includes('[TEST] [WARNING] Test alert (warning)'))).toBe(true);
    expect(smtp.received).toHaveLength(1);
    expect(smtp.received[0]!.to).toEqual(['oncall@example.com']);

    const passed = await auditCheck();
    expect(passed.status).toBe('pass');
    expect(passed.value).toMatch(/^slack \+ email delivered in the last test \(.* UTC by cli:/);

  });
});
