// Slack and email are two notifiers behind one port: each delivers the kinds it carries and refuses
// the others by name, with its reason, before sending anything — nothing handed over is dropped.
import { describe, expect, it } from 'vitest';
import type { WebClient } from '@slack/web-api';
import { testConfig } from '../../../src/config/env.js';
import type { Db } from '../../../src/db/client.js';
import { emailNotifier } from '../../../src/email/notifier.js';
import type { Mail, Mailer } from '../../../src/email/smtp.js';
import { silentLogger } from '../../../src/logger.js';
import { NotCarriedError, type Notification } from '../../../src/notifications/notification.js';
import { slackCarriage } from '../../../src/slack/carriage.js';
import { slackNotifier } from '../../../src/slack/notifier.js';
import { alertEventRow, alertGroupRow } from '../../support/alert-rows.js';

const noDb = {} as Db;
const group = alertGroupRow({ severity: 'critical', title: 'kill switch pulled' });
const mailOf = (over: Partial<Extract<Notification, { kind: 'alert_email' }>> = {}): Notification =>
  ({ kind: 'alert_email', to: ['oncall@example.com'], group, latest: alertEventRow({ details: { drawdownPct: '16.2' } }), reason: 'critical alert', messageKey: 'alert-delivery-7.3.1767614400000', ...over });
const ALERT_PAGE: Notification = { kind: 'alert_page', user: 'U0OPS0001', text: 'You are paged', deliveryId: 1, checkSent: false };
const SUMMARY = { kind: 'summary', summary: 'daily', periodKey: '2026-01-10', report: {} } as unknown as Notification;

function recordingMailer(): Mailer & { sent: Mail[] } {
  const sent: Mail[] = [];
  return { sent, send: async (mail) => (sent.push(mail), { messageId: `<m${sent.length}@test>` }), close: () => {} };
}

/** A client no refused notification may reach. */
const untouchable = new Proxy({}, { get: () => { throw new Error('the Slack client was used'); } }) as WebClient;

describe('the email notifier', () => {
  it('mails an alert in plain text to the recipients it names', async () => {
    const mailer = recordingMailer();
    const delivered = await emailNotifier({ mailer }).notify(noDb, mailOf());
    expect(mailer.sent).toHaveLength(1);
    expect(mailer.sent[0]!.to).toEqual(['oncall@example.com']);
    expect(mailer.sent[0]!.subject).toBe('[ctb] [CRITICAL] kill switch pulled (critical alert)');
    expect(mailer.sent[0]!.text).toContain('drawdownPct');
    expect(mailer.sent[0]!.messageKey).toBe('alert-delivery-7.3.1767614400000');
    expect(delivered).toEqual({ channel: 'oncall@example.com', ts: '<m1@test>' });
  });

  it('marks a mail that may repeat an earlier try, in its subject and first line, and only that one', async () => {
    const mailer = recordingMailer();
    await emailNotifier({ mailer }).notify(noDb, mailOf({ repeat: { earlierTryAt: new Date('2026-01-05T12:00:03.250Z') } }));
    await emailNotifier({ mailer }).notify(noDb, mailOf());
    const [again, first] = mailer.sent;
    expect(again!.subject).toBe('[ctb] [CRITICAL] kill switch pulled — possibly a repeat (critical alert)');
    expect(again!.text.split('\n')[0]).toBe('Still unacknowledged. You may already have this mail: a try at 2026-01-05 12:00:03 UTC may have gone out.');
    expect(again!.messageKey).toBe(first!.messageKey);
    expect(first!.subject).not.toContain('repeat');
    expect(first!.text).not.toContain('repeat');
  });

  it('carries only the alert mail and refuses every other kind, saying why, without mailing', async () => {
    const mailer = recordingMailer();
    const email = emailNotifier({ mailer });
    expect([...email.carries]).toEqual(['alert_email']);
    for (const n of [ALERT_PAGE, SUMMARY]) {
      const err = await email.notify(noDb, n).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NotCarriedError);
      expect((err as NotCarriedError).kind).toBe(n.kind);
      expect((err as Error).message).toMatch(new RegExp(`^email does not carry ${n.kind} notifications: .+`));
    }
    expect(mailer.sent).toHaveLength(0);
  });
});

describe('the Slack notifier', () => {
  const slackConfig = (ops?: string) =>
    testConfig({ SLACK_BOT_TOKEN: 'xoxb-0000-test-not-a-real-token', SLACK_SIGNING_SECRET: 's', ...(ops ? { SLACK_OPS_CHANNEL: ops } : {}) });

  it('carries the alert kinds always, the ops channel kinds only with SLACK_OPS_CHANNEL, and never the alert mail', () => {
    const withOps = slackNotifier({ config: slackConfig('C0OPS'), logger: silentLogger(), client: untouchable }).carries;
    const withoutOps = slackNotifier({ config: slackConfig(), logger: silentLogger(), client: untouchable }).carries;
    for (const kind of ['alert_raised', 'alert_updated', 'alert_repeated', 'alert_note', 'alert_page'] as const) {
      expect(withOps.has(kind) && withoutOps.has(kind)).toBe(true);
    }
    for (const kind of ['incident_opened', 'incident_update', 'incident_note', 'mode_request', 'mode_changed', 'summary'] as const) {
      expect([withOps.has(kind), withoutOps.has(kind)]).toEqual([true, false]);
    }
    expect(withOps.has('alert_email')).toBe(false);
    expect(slackCarriage({ SLACK_OPS_CHANNEL: undefined }).summary).toBe('SLACK_OPS_CHANNEL is not set');
  });

  it('refuses the alert mail, and an ops kind without an ops channel, before touching Slack', async () => {
    const slack = slackNotifier({ config: slackConfig(), logger: silentLogger(), client: untouchable });
    await expect(slack.notify(noDb, mailOf())).rejects.toThrow(/^slack does not carry alert_email notifications: mail only/);
    await expect(slack.notify(noDb, SUMMARY)).rejects.toThrow('slack does not carry summary notifications: SLACK_OPS_CHANNEL is not set');
  });
});
