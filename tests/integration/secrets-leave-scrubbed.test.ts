// Whatever an operator types (a kill reason) or a driver says, no secret reaches Slack or mail: the
// process's Web API client scrubs every call (text, blocks, attachments; the kill's announcement
// through the notifier, an ephemeral reply, an update), a response_url reply is scrubbed, and so is
// every mail. Slack is the local fake, mail a real SMTP server on loopback.
import { afterEach, describe, expect, it } from 'vitest';
import { testConfig } from '../../src/config/env.js';
import type { Db } from '../../src/db/client.js';
import type { Incident } from '../../src/db/schema/index.js';
import { createSmtpMailer } from '../../src/email/smtp.js';
import { silentLogger } from '../../src/logger.js';
import { slackNotifier } from '../../src/slack/notifier.js';
import { postToResponseUrl } from '../../src/slack/response-url.js';
import { scrubberFor } from '../../src/secret-scrub.js';
import { slackWebClient } from '../../src/slack/web-client.js';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.js';
import { readMail, startTestSmtp, type TestSmtp } from '../support/smtp.js';

const REASON = 'rehearsal token=xoxb-1234-SECRET postgres://u:hunter2@db/x';
const SCRUBBED = 'rehearsal token=[redacted] postgres://u:[redacted]@db/x';
const DB_PASSWORD = 'db-pass-4242';

let slack: FakeSlack | undefined;
let smtp: TestSmtp | undefined;
afterEach(async () => {
  await slack?.close();
  await smtp?.close();
  slack = undefined;
  smtp = undefined;
});

function slackEnv(fake: FakeSlack) {
  return {
    SLACK_BOT_TOKEN: 'xoxb-1111-2222-scrubtestvalue', SLACK_SIGNING_SECRET: 'scrub-signing-secret-0123456789abcdef', SLACK_API_URL: fake.url,
    SLACK_OPS_CHANNEL: 'C0OPS', SLACK_RETRY_PAUSE: '1ms', DATABASE_URL: `postgres://ctb:${DB_PASSWORD}@db.internal:5432/ctb`,
  };
}

function slackConfig(fake: FakeSlack) {
  return testConfig(slackEnv(fake));
}

/** Every byte the fake received, for the absence of each secret. */
const everything = (fake: FakeSlack) => fake.calls.map((c) => c.raw.toString('utf8')).join('\n');
const leaks = (text: string) => ['hunter2', 'SECRET', DB_PASSWORD].filter((s) => text.includes(s));

describe('what goes to Slack', () => {
  it('announces a kill with its reason scrubbed', async () => {
    slack = await startFakeSlack();
    const config = slackConfig(slack);
    const incident: Incident = {
      id: 7, killId: '232e9798-c901-41bf-800f-c546e6d52a34', openedAt: new Date('2026-12-07T03:29:41Z'), openedBy: 'cli:ops', trigger: 'manual',
      reason: REASON, status: 'open', cancelReport: {}, slackChannel: null, slackTs: null, threadShown: null, closedAt: null, closedBy: null,
    };
    // The database is away: nothing of the announcement reads it.
    await slackNotifier({ config, logger: silentLogger() }).notify({} as Db, { kind: 'incident_opened', incident, items: [] });
    const [post] = slack.callsTo('chat.postMessage');
    expect(post!.body.channel).toBe('C0OPS');
    expect(JSON.stringify(post!.body)).toContain(SCRUBBED);
    expect(leaks(everything(slack))).toEqual([]);
  });

  it('scrubs the text, blocks and attachments of every call, leaving ids and the call\'s token alone', async () => {
    slack = await startFakeSlack();
    const client = slackWebClient(slackConfig(slack));
    const message = {
      text: `kill: ${REASON}`,
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `*Reason* ${REASON}` } }],
      attachments: [{ color: '#d00', text: `driver said: password ${DB_PASSWORD} refused` }],
    };
    await client.chat.postEphemeral({ channel: 'C0OPS', user: 'U0OPERATOR', ...message });
    await client.chat.update({ channel: 'C0OPS', ts: '1700000000.000100', ...message });
    const ephemeral = slack.callsTo('chat.postEphemeral')[0]!.body;
    expect(ephemeral).toMatchObject({
      channel: 'C0OPS', user: 'U0OPERATOR', text: `kill: ${SCRUBBED}`,
      blocks: [{ text: { text: `*Reason* ${SCRUBBED}` } }], attachments: [{ text: 'driver said: password [redacted] refused' }],
    });
    expect(slack.callsTo('chat.update')[0]!.body).toMatchObject({ ts: '1700000000.000100', text: `kill: ${SCRUBBED}` });
    expect(leaks(everything(slack))).toEqual([]);
    expect(message.text).toBe(`kill: ${REASON}`); // the caller's message is not changed
  });

  it('masks KILL_HTTP_TOKEN, a Secret the scrubber lists by none of its names', async () => {
    slack = await startFakeSlack();
    const token = 'kht-0123456789abcdefghij';
    const client = slackWebClient(testConfig({ ...slackEnv(slack), KILL_HTTP_TOKEN: token }));
    await client.chat.postMessage({ channel: 'C0OPS', text: `curl -H "Authorization: Bearer ${token}" …/kill` });
    expect(slack.callsTo('chat.postMessage')[0]!.body.text).toBe('curl -H "Authorization: Bearer [redacted]" …/kill');
    expect(everything(slack)).not.toContain(token);
  });

  it('leaves buttons working when the database password is a word the bot uses', async () => {
    slack = await startFakeSlack();
    for (const pw of ['confirm', '1']) {
      const client = slackWebClient(testConfig({ ...slackEnv(slack), DATABASE_URL: `postgres://ctb:${pw}@db.internal:5432/ctb` }));
      const blocks = [
        { type: 'section', block_id: 'exit_confirm_1', text: { type: 'mrkdwn', text: 'Exit trade #1? confirm' } },
        { type: 'actions', elements: [{ type: 'button', action_id: 'exit_trade_confirm', value: '{"t":1,"m":"confirm"}', text: { type: 'plain_text', text: 'Confirm' } }] },
      ];
      await client.chat.postMessage({ channel: 'C0OPS', text: 'Exit trade #1? confirm', blocks });
      expect(slack.callsTo('chat.postMessage').at(-1)!.body, pw).toMatchObject({ text: 'Exit trade #1? confirm', blocks });
    }
  });

  it('scrubs a reply to a response_url', async () => {
    slack = await startFakeSlack();
    const config = slackConfig(slack);
    await postToResponseUrl(`${slack.url}commands/T0/1/abc`, { response_type: 'ephemeral', text: `Killed: ${REASON}`, blocks: [] }, scrubberFor(config));
    expect(slack.calls[0]!.body).toMatchObject({ text: `Killed: ${SCRUBBED}` });
    expect(leaks(everything(slack))).toEqual([]);
  });
});

describe('what goes by mail', () => {
  it('scrubs the subject and the text', async () => {
    smtp = await startTestSmtp();
    const mailer = createSmtpMailer(testConfig({ SMTP_URL: smtp.url, DATABASE_URL: `postgres://ctb:${DB_PASSWORD}@db.internal:5432/ctb` }));
    try {
      await mailer.send({ to: ['ops@example.com'], subject: `Kill: ${REASON}`, text: `Reason: ${REASON}\nThe driver said: password ${DB_PASSWORD} refused.` });
    } finally {
      mailer.close();
    }
    const mail = readMail(smtp.received[0]!);
    expect(mail.header('subject')).toBe(`Kill: ${SCRUBBED}`);
    expect(mail.text).toContain(`Reason: ${SCRUBBED}`);
    expect(mail.text).toContain('The driver said: password [redacted] refused.');
    expect(leaks(smtp.received[0]!.raw)).toEqual([]);
  });
});
