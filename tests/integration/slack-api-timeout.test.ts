// A Slack that accepts the connection and never answers: every Web API call fails after
// SLACK_API_TIMEOUT, is not sent again by the client (it may have reached Slack), and the caller's
// failure path runs: the alert page is retried later, not held and not lost.
import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alertDeliveries } from '../../src/db/schema/index.js';
import type { RequestAnnouncement } from '../../src/services/mode/ports.js';
import { saveRotation } from '../../src/services/oncall/store.js';
import { silentLogger } from '../../src/logger.js';
import { slackNotifier } from '../../src/slack/notifier.js';
import { slackUserDirectory } from '../../src/slack/user-directory.js';
import { usePostgresTestDb } from '../support/db.js';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.js';
import { ALERT_TABLES, alertConfig, alertHarness, passDeliveryTime, type AlertHarness } from '../support/alert-fixtures.js';
import { databaseNow } from '../../src/db/queries/database-clock.js';

const database = usePostgresTestDb({ truncate: ALERT_TABLES });
let slack: FakeSlack;
let h: AlertHarness | undefined;
const never = () => new Promise<never>(() => undefined);

beforeEach(async () => {
  slack = await startFakeSlack();
});
afterEach(async () => {
  await h?.close();
  h = undefined;
  await slack?.close();
});

const dmTo = (user: string) => slack.callsTo('chat.postMessage').filter((c) => c.body.channel === user);

describe('a Slack Web API call that gets no answer', () => {
  it('fails after SLACK_API_TIMEOUT, is sent once, and the alert page is retried later, not lost', async () => {
    let hung = true;
    slack.on('chat.postMessage', (body) =>
      body.channel === 'UALICE' && hung ? never() : { body: { ok: true, channel: body.channel, ts: `${Date.now() / 1000}` } });
    h = await alertHarness({ database: database(), config: alertConfig(slack, { SLACK_API_TIMEOUT: '1s' }) });
    await saveRotation(database().db, { members: ['UALICE'], handoffWeekday: 1, handoffTime: '09:00', timeZone: 'UTC', now: h.clock.now(), actor: 'test' });
    await h.sink.record({ source: 'engine', severity: 'critical', title: 'engine loop stopped', fingerprint: 'engine-down' });
    await h.runtime.escalation.tick();

    // Each tick returns: the hung page fails in its own tick instead of holding the worker.
    const page = async () => (await database().db.select().from(alertDeliveries).where(eq(alertDeliveries.kind, 'slack_dm')))[0]!;
    while ((await page()).attempts === 0) {
      await passDeliveryTime(database().db, h.clock, 1_000);
      await h.runtime.delivery.tick();
    }
    const failed = await page();
    expect(failed).toMatchObject({ status: 'pending', attempts: 1, lastError: 'slack timed out after 1s; it may have been delivered' });
    const now = await databaseNow(database().db);
    expect(failed.nextAttemptAt.getTime(), 'retried later, on the database\'s clock').toBeGreaterThan(now.getTime());
    expect(dmTo('UALICE')).toHaveLength(1); // not sent again by the client: it may have reached Slack

    hung = false;
    await passDeliveryTime(database().db, h.clock, failed.nextAttemptAt.getTime() - now.getTime());
    await h.runtime.delivery.tick();
    expect(await page()).toMatchObject({ status: 'sent', attempts: 1 });
    expect(dmTo('UALICE')).toHaveLength(2);
  });

  it('leaves a pageability check unanswered, saying it timed out, instead of waiting for good', async () => {
    slack.on('users.info', never);
    const directory = slackUserDirectory(alertConfig(slack, { SLACK_API_TIMEOUT: '1s' }));
    expect(await directory.lookup('UALICE')).toEqual({ kind: 'unknown', why: 'timed out after 1s' });
    expect(slack.callsTo('users.info')).toHaveLength(1);
  });

  it('fails a live-switch request post with what is known: no answer, so it may have been posted', async () => {
    slack.on('chat.postMessage', never);
    const notifier = slackNotifier({ config: alertConfig(slack, { SLACK_API_TIMEOUT: '1s', SLACK_OPS_CHANNEL: 'C0OPS' }), logger: silentLogger() });
    const request: RequestAnnouncement = {
      requestId: 1, requester: 'UALICE', reason: null, fromMode: 'paper', toMode: 'live', audit: { passed: true, summary: 'passed', auditRunId: null },
      checks: [], approvers: ['UAPPROVER1', 'UAPPROVER2'], approvalsNeeded: 2, approvalEmoji: 'white_check_mark', rejectionEmoji: 'x', expiresAt: new Date('2026-01-05T12:30:00Z'),
    };
    await expect(notifier.notify(database().db, { kind: 'mode_request', request }))
      .rejects.toThrow('No answer from Slack within 1s: the message may have been posted.');
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
  });
});
