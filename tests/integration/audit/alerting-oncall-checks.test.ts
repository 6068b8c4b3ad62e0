import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { ManualClock } from '../../../src/clock.js';
import { createAlertRuntime } from '../../../src/alerts/runtime.js';
import { pagingPolicy } from '../../../src/alerts/policy.js';
import { testConfig } from '../../../src/config/env.js';
import { runAlertTest } from '../../../src/alerts/test-alert.js';
import { alertingCheck } from '../../../src/services/audit/checks/alerting.js';
import { onCallCheck } from '../../../src/services/audit/checks/oncall.js';
import { saveRotation } from '../../../src/services/oncall/store.js';
import type { AppContext } from '../../../src/app/context.js';
import type { AuditContext } from '../../../src/services/audit/types.js';
import { createPostgresTestDb, emptyTablesSql, type TestDatabase } from '../../support/db.js';
import { testContext } from '../../support/app-context.js';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.js';
import { passDeliveryTime } from '../../support/alert-fixtures.js';

let database: TestDatabase;
let slack: FakeSlack;
beforeAll(async () => {
  database = await createPostgresTestDb();
  slack = await startFakeSlack();
});
afterAll(async () => {
  await slack?.close();
  await database?.close();
});
beforeEach(async () => {
  await database.db.execute(sql.raw(emptyTablesSql(['alert_tests', 'alert_groups', 'alert_events', 'alert_deliveries', 'alert_slack_pacing', 'alert_escalations', 'oncall_rotations', 'alert_policies'], { restartIdentity: false })));
});

const slackEnv = () => ({ SLACK_BOT_TOKEN: 'xoxb-0000-test-not-a-real-token', SLACK_SIGNING_SECRET: 'sig', SLACK_API_URL: slack.url, SLACK_ALERTS_CHANNEL: 'C0ALERTS' });
const clock = new ManualClock();
const auditCtx = async (env: Record<string, string>) => {
  const ctx = await testContext({ database, env, clock });
  return Object.assign(ctx, { actor: { id: 'cli:a', source: 'cli' as const }, cwd: '.', kraken: () => undefined, memo: <T>(_k: string, f: () => Promise<T>) => f() }) as unknown as AuditContext & AppContext & { close(): Promise<void> };
};

describe('go-live audit: alerting', () => {
  it('fails with no channel, fails untested, fails when the last test failed, warns Slack-only when it worked', async () => {
    const bare = await auditCtx({});
    expect(await alertingCheck.run(bare, { dryRun: true })).toMatchObject({ status: 'fail', value: 'no alert channel configured' });
    await bare.close();

    const ctx = await auditCtx(slackEnv());
    expect(await alertingCheck.run(ctx, { dryRun: true })).toMatchObject({ status: 'fail', value: 'slack configured, never tested' });

    slack.on('chat.postMessage', () => ({ body: { ok: false, error: 'not_in_channel' } }));
    await runAlertTest(ctx, { severity: 'info', actor: 'cli:a', waitMs: 0 });
    const failed = await alertingCheck.run(ctx, { dryRun: true });
    expect(failed.status).toBe('fail');
    expect(failed.value).toMatch(/failed — slack: .*not_in_channel/);

    slack.on('chat.postMessage', (body) => ({ body: { ok: true, channel: body.channel, ts: '1700000001.000100' } }));
    await passDeliveryTime(database.db, clock, 60_000);
    // The running bot's worker delivers the failed test's message once Slack is back…
    const runtime = createAlertRuntime(ctx);
    await runtime.delivery.tick();
    await passDeliveryTime(database.db, clock, 1_000);
    // …and a new test succeeds.
    const second = await runAlertTest(ctx, { severity: 'info', actor: 'cli:a', waitMs: 0 });
    expect(second.ok).toBe(true);
    expect(await alertingCheck.run(ctx, { dryRun: true })).toMatchObject({ status: 'warn', value: expect.stringMatching(/^Slack delivered in the last test/) });
    await ctx.close();
  });
});

describe('go-live audit: alert test recency', () => {
  it('warns once the last delivered test is older than ALERT_TEST_MAX_AGE', async () => {
    slack.on('chat.postMessage', (body) => ({ body: { ok: true, channel: body.channel, ts: '1700000002.000100' } }));
    const ctx = await auditCtx({ ...slackEnv(), ALERT_TEST_MAX_AGE: '2d' });
    expect((await runAlertTest(ctx, { severity: 'info', actor: 'cli:a', waitMs: 0 })).ok).toBe(true);
    clock.advance(47 * 3_600_000);
    expect(await alertingCheck.run(ctx, { dryRun: true })).toMatchObject({ status: 'warn', value: expect.stringMatching(/^Slack delivered in the last test/) });
    clock.advance(2 * 3_600_000);
    expect(await alertingCheck.run(ctx, { dryRun: true })).toMatchObject({
      status: 'warn', value: expect.stringMatching(/^last test \(.* UTC by cli:a\) is older than 2d \(ALERT_TEST_MAX_AGE\)$/), fix: expect.stringContaining('ctb alerts test'),
    });
    await ctx.close();
  });
});

describe('go-live audit: on-call', () => {
  // The policy the bot's alert pipeline stores when it starts (ESCALATION_ACK_SLA 5m, 3 rounds).
  beforeEach(async () => {
    await pagingPolicy(database.db, { severity: 'critical', config: testConfig({}), now: clock.now(), by: 'config of bot:1' });
  });

  it('fails without a rotation or with one person, passes with two and the critical policy', async () => {
    slack.on('users.info', (body) => ({ body: { ok: true, user: { id: body.user, is_bot: false, deleted: false } } }));
    const ctx = await auditCtx({ ...slackEnv(), SLACK_APPROVERS: 'UAPP1' });
    expect(await onCallCheck.run(ctx, { dryRun: true })).toMatchObject({ status: 'fail', value: 'no on-call rotation' });
    const set = (members: string[]) =>
      saveRotation(database.db, { members, handoffWeekday: 1, handoffTime: '09:00', timeZone: 'Europe/London', now: ctx.clock.now(), actor: 't' });
    await set(['UA1']);
    expect(await onCallCheck.run(ctx, { dryRun: true })).toMatchObject({ status: 'fail', value: 'rotation has 1 member (UA1)' });
    await set(['UA1', 'UB2']);
    const ok = await onCallCheck.run(ctx, { dryRun: true });
    expect(ok.status).toBe('pass');
    expect(ok.value).toMatch(/2 people, handoff mon 09:00 Europe\/London; critical: oncall → next → approvers every 5m ×3/);
    await ctx.close();

    // The same rotation with nobody in SLACK_APPROVERS: escalation would end on the whole channel.
    const bare = await auditCtx({ SLACK_APPROVERS: '' });
    expect(await onCallCheck.run(bare, { dryRun: true })).toMatchObject({
      status: 'warn', value: expect.stringMatching(/no approvers as last rung$/), fix: expect.stringContaining('SLACK_APPROVERS'),
    });
    await bare.close();
  });

  it('warns that members stored without Slack were never verified, and names one Slack says cannot be paged', async () => {
    await saveRotation(database.db, { members: ['UA1', 'UB2'], handoffWeekday: 1, handoffTime: '09:00', timeZone: 'UTC', now: clock.now(), actor: 't' });
    const noSlack = await auditCtx({ SLACK_APPROVERS: 'UAPP1' });
    expect(await onCallCheck.run(noSlack, { dryRun: true })).toMatchObject({
      status: 'warn',
      value: expect.stringMatching(/; members never verified with Slack: UA1, UB2 \(Slack is not configured here\)$/),
      fix: expect.stringContaining('Configure Slack (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET)'),
      details: { unverified: ['UA1', 'UB2'] },
    });
    await noSlack.close();

    slack.on('users.info', (body) => (body.user === 'UB2'
      ? { body: { ok: false, error: 'user_not_found' } }
      : { body: { ok: true, user: { id: body.user, is_bot: false, deleted: false } } }));
    const withSlack = await auditCtx({ ...slackEnv(), SLACK_APPROVERS: 'UAPP1' });
    expect(await onCallCheck.run(withSlack, { dryRun: true })).toMatchObject({
      status: 'warn', value: expect.stringMatching(/; UB2 cannot be paged \(Slack says user_not_found\)$/), fix: expect.stringContaining('ctb oncall set --members'),
    });
    await withSlack.close();
  });
});
