import { asc, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alertDeliveries, alertPages, alertTests } from '../../../src/db/schema/index.js';
import { runCommand } from '../../../commands/run-command.js';
import { emailPayload } from '../../../src/alerts/render.js';
import { claimOf } from '../../../src/db/queries/alert-deliveries.js';
import { enqueueDelivery } from '../../../src/db/queries/alert-outbox.js';
import { alertsTestCommand } from '../../../commands/alerts-test.js';
import { renderAlertTest } from '../../../src/cli/commands/alerts.js';
import { usePostgresTestDb } from '../../support/db.js';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.js';
import { startTestSmtp, type TestSmtp } from '../../support/smtp.js';
import { ALERT_TABLES, alertConfig, alertHarness, type AlertHarness, passDeliveryTime, passEscalationTime } from '../../support/alert-fixtures.js';

const database = usePostgresTestDb({ truncate: ALERT_TABLES });
let slack: FakeSlack;
let smtp: TestSmtp;
let h: AlertHarness;
const operator = { id: 'cli:tester', source: 'cli' as const };

beforeEach(async () => {
  slack = await startFakeSlack();
  smtp = await startTestSmtp({ user: 'alerts', pass: 's3cret-smtp-pass' });
  h = await alertHarness({
    database: database(),
    config: alertConfig(slack, { SMTP_URL: smtp.url, ALERT_EMAIL_TO: 'oncall@example.com,ops@example.com', ALERT_EMAIL_FROM: 'ctb <ctb@example.com>' }),
  });
});
afterEach(async () => {
  await h?.close();
  await slack?.close();
  await smtp?.close();
});

describe('alert email over SMTP', () => {
  it('emails a critical alert when its escalation starts, received by a real SMTP server', async () => {
    await h.sink.raise({ source: 'kill', severity: 'critical', title: 'kill switch pulled: drawdown 16%', details: { drawdownPct: '16.2' } });
    await h.runtime.escalation.tick();
    await h.runtime.delivery.tick();
    expect(smtp.received).toHaveLength(1);
    const [mail] = smtp.received.map((m) => ({ ...m, raw: m.raw.replace(/\r\n[ \t]+/g, ' ') }));
    expect(mail!.to.sort()).toEqual(['oncall@example.com', 'ops@example.com']);
    expect(mail!.from).toBe('ctb@example.com');
    expect(mail!.raw).toMatch(/Subject: \[ctb\] \[CRITICAL\] kill switch pulled: drawdown 16% \(critical alert, paged UAPPROVER1, UAPPROVER2\)/);
    expect(mail!.raw).toContain('drawdownPct');
  });

  it('does not email warnings (policy: channel only)', async () => {
    await h.sink.raise({ source: 'risk', severity: 'warning', title: 'drawdown 8%' });
    await h.runtime.escalation.tick();
    await h.runtime.delivery.tick();
    expect(smtp.received).toHaveLength(0);
  });

  it('retries email through an SMTP outage without leaking the SMTP password', async () => {
    smtp.refuseWith = 'mailbox temporarily unavailable';
    await h.sink.raise({ source: 'exchange', severity: 'critical', title: 'Kraken unreachable for 5 minutes' });
    await h.runtime.escalation.tick();
    await h.runtime.delivery.tick();
    const [pending] = await database().db.select().from(alertDeliveries).where(eq(alertDeliveries.kind, 'email'));
    expect(pending).toMatchObject({ status: 'pending', attempts: 1 });
    expect(pending!.lastError).toMatch(/451|temporarily unavailable/);
    expect(pending!.lastError).not.toContain('s3cret-smtp-pass');
    smtp.refuseWith = null;
    await passDeliveryTime(database().db, h.clock, 60_000);
    await h.runtime.delivery.tick();
    expect(smtp.received).toHaveLength(1);
  });
});

describe('the email lane in one delivery tick', () => {
  /** Queues `n` alert mails, all due now, on one open (warning: no mail of its own) alert group. */
  const queueMails = async (n: number) => {
    const { groupId } = await h.sink.record({ source: 'risk', severity: 'warning', title: 'drawdown 8%', fingerprint: 'mail-lane' });
    for (let i = 1; i <= n; i += 1) {
      await enqueueDelivery(database().db, { groupId, kind: 'email', target: 'alert-email', now: h.clock.now(), payload: emailPayload(`mail ${i}`) });
    }
  };
  const mailRows = () => database().db.select().from(alertDeliveries).where(eq(alertDeliveries.kind, 'email')).orderBy(asc(alertDeliveries.id));

  it('sends every due mail up to ten, and counts them as sent', async () => {
    await queueMails(5);
    const report = await h.runtime.delivery.tick();
    expect(smtp.received).toHaveLength(5);
    expect((await mailRows()).map((d) => [d.status, d.attempts])).toEqual(Array.from({ length: 5 }, () => ['sent', 0]));
    expect(report).toMatchObject({ sent: 6, failed: 0 }); // the five mails and the group's post in the channel
    expect([...report.triedLanes].sort()).toEqual(['email', 'slack:C0ALERTS']);
  });

  it('sends ten and leaves the rest unclaimed: no mail is claimed in a tick that does not send it', async () => {
    await queueMails(12);
    await h.runtime.delivery.tick();
    expect(smtp.received).toHaveLength(10);
    const rows = await mailRows();
    expect(rows.map((d) => d.status)).toEqual([...Array.from({ length: 10 }, () => 'sent'), 'pending', 'pending']);
    expect(rows.slice(10).map((d) => claimOf(d))).toEqual([undefined, undefined]);
    expect(h.runtime.delivery.claimsHeld).toBe(0);
  });
});

describe('ctb alerts test', () => {
  it('sends a test alert through Slack and email and records that both worked', async () => {
    const result = await runCommand(alertsTestCommand, h.ctx, operator, { severity: 'warning' });
    expect(result).toMatchObject({ ok: true, channels: { slack: { status: 'sent' }, email: { status: 'sent' } }, escalation: 'not for this severity' });
    expect(smtp.received).toHaveLength(1);
    expect(smtp.received[0]!.raw).toContain('[TEST] [WARNING]');
    expect(String(slack.callsTo('chat.postMessage')[0]!.body.text)).toContain('[TEST] [WARNING]');
    const [row] = await database().db.select().from(alertTests);
    expect(row).toMatchObject({ ok: true, actor: 'cli:tester', severity: 'warning' });
  });

  it('a critical test runs the escalation: the on-call person (or approvers) is paged', async () => {
    const result = await runCommand(alertsTestCommand, h.ctx, operator, { severity: 'critical' });
    expect(result).toMatchObject({ ok: true, escalation: 'started' });
    const pages = await database().db.select().from(alertPages);
    expect(pages.map((p) => p.userId).sort()).toEqual(['UAPPROVER1', 'UAPPROVER2']);
    expect(smtp.received).toHaveLength(1); // the escalation's email, not a second one
    expect(renderAlertTest(result)).toContain(`Escalation started and the alert reached slack and email; the running bot continues the ladder until someone presses Acknowledge (or \`ctb alerts ack ${result.groupId}\`).`);
  });

  it("delivers only its own alert: the bot's queued alert and its escalation are left to the bot", async () => {
    const bot = await h.sink.record({ source: 'engine', severity: 'critical', title: 'engine loop stopped', fingerprint: 'bot-alert' });
    await h.runtime.escalation.tick(); // the bot paged its first rung; its DMs and email wait in the queue
    const botPages = await database().db.select().from(alertPages).where(eq(alertPages.groupId, bot.groupId));
    const botQueued = await database().db.select().from(alertDeliveries).where(eq(alertDeliveries.groupId, bot.groupId)).orderBy(asc(alertDeliveries.id));
    await passEscalationTime(database().db, h.clock, 5 * 60_000); // its next rung is due too
    const result = await runCommand(alertsTestCommand, h.ctx, operator, { severity: 'critical' });
    expect(result).toMatchObject({ ok: true, escalation: 'started', channels: { slack: { status: 'sent' }, email: { status: 'sent' } } });
    expect(smtp.received).toHaveLength(1);
    expect(smtp.received[0]!.raw).toContain('[TEST]');
    expect(slack.callsTo('chat.postMessage').map((c) => String(c.body.text)).filter((t) => t.includes('engine loop stopped'))).toEqual([]);
    expect(await database().db.select().from(alertPages).where(eq(alertPages.groupId, bot.groupId))).toEqual(botPages);
    const botQueue = await database().db.select().from(alertDeliveries).where(eq(alertDeliveries.groupId, bot.groupId)).orderBy(asc(alertDeliveries.id));
    expect(botQueue.map((d) => [d.id, d.status, d.attempts])).toEqual(botQueued.map((d) => [d.id, 'pending', 0]));
    expect(renderAlertTest(result)).toContain('Only this test alert was sent from here, to slack and email; alerts the bot has queued are left to the bot to send.');
  });

  it('with every channel failed here, does not claim whether on-call was paged by direct message', () => {
    const failed = { status: 'failed' as const, error: 'channel_not_found' };
    const said = renderAlertTest({ ok: false, testId: 1, groupId: 7, severity: 'critical', channels: { slack: failed, email: failed }, escalation: 'started' });
    expect(said).not.toContain('nobody was paged');
    expect(said).toContain('Nothing was sent from here (the test is recorded only)');
    expect(said).toContain("no channel delivered the alert from here; the running bot's escalation pages on-call by direct message, which this run did not see");
  });

  it('with every channel failing, says this process tried, and who (if anyone) sends what it left queued', async () => {
    slack.on('chat.postMessage', () => ({ body: { ok: false, error: 'channel_not_found' } }));
    smtp.refuseWith = 'mailbox temporarily unavailable';
    const result = await runCommand(alertsTestCommand, h.ctx, operator, { severity: 'warning', waitMs: 0 });
    expect(result.ok).toBe(false);
    expect(result.channels.email).toMatchObject({ status: 'failed', triedHere: true });
    expect(result.channels.slack).toMatchObject({ status: 'failed', triedHere: true });
    expect(result.channels.email.error).toMatch(/temporarily unavailable.*; left queued: a running bot sends it only if its own SMTP_URL and ALERT_EMAIL_TO are set \(this command's settings do not reach it\); nothing else retries it$/);
    expect(result.channels.slack.error).toContain("left queued: a running bot sends it only if its own SLACK_BOT_TOKEN and SLACK_ALERTS_CHANNEL are set (this command's settings do not reach it)");
    const said = renderAlertTest(result);
    expect(said).not.toContain('keeps retrying');
    expect(said).not.toContain('Nothing was sent from here');
    expect(said).toContain('This process tried to send the test alert to slack and email and it was not delivered (above); alerts the bot has queued are left to the bot to send.');
  });

  it('records a failed channel with the reason when Slack refuses', async () => {
    slack.on('chat.postMessage', () => ({ body: { ok: false, error: 'channel_not_found' } }));
    const result = await runCommand(alertsTestCommand, h.ctx, operator, { severity: 'info', waitMs: 0 });
    expect(result.ok).toBe(false);
    expect(result.channels.slack).toMatchObject({ status: 'failed', error: expect.stringContaining('channel_not_found') });
    expect(result.channels.email.status).toBe('sent');
    const [row] = await database().db.select().from(alertTests);
    expect(row!.ok).toBe(false);
  });
});
