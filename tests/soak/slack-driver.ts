// Owns Slack for the soak: the local fake Slack Web API the bot posts to (it answers auth.test as
// a workspace would, users.info as for a person, and keeps the ts of every message it accepted),
// and signed slash commands and reaction events sent to the bot's POST /slack/events the way Slack
// sends them — the two-approver flow exactly as operators drive it.
import { randomBytes } from 'node:crypto';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.js';
import { signedHeaders } from '../support/slack-signing.js';

export const SLACK = {
  signingSecret: 'soak-signing-secret-0123456789abcdef',
  botToken: 'xoxb-5050-6060-soaktokenvalue',
  team: 'T0SOAK',
  botUser: 'UBOTSOAK1',
  ops: 'C0SOAKOPS',
  alerts: 'C0SOAKALR',
  operator: 'USOAKOPER',
  approverA: 'USOAKAPPA',
  approverB: 'USOAKAPPB',
} as const;

/** What the bot's environment needs to talk to this Slack, with operators and approvers. */
export function slackEnv(fake: FakeSlack): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: SLACK.botToken, SLACK_SIGNING_SECRET: SLACK.signingSecret, SLACK_API_URL: fake.url,
    SLACK_OPS_CHANNEL: SLACK.ops, SLACK_ALERTS_CHANNEL: SLACK.alerts,
    SLACK_OPERATORS: SLACK.operator, SLACK_APPROVERS: `${SLACK.approverA},${SLACK.approverB}`,
  };
}

export interface PostedMessage {
  channel: string;
  ts: string;
  text: string;
}

export interface SoakSlack {
  fake: FakeSlack;
  /** Every chat.postMessage the fake accepted, with the ts it answered. */
  posted: PostedMessage[];
  slash(botUrl: string, command: string, text: string, user: string): Promise<{ status: number; text: string }>;
  react(botUrl: string, message: PostedMessage, user: string, reaction?: string): Promise<{ status: number; text: string }>;
  /** Bodies the bot sent to response_url (replies to slash commands), as text. */
  responses(): string[];
  close(): Promise<void>;
}

let tsSeq = 0;

export async function startSoakSlack(): Promise<SoakSlack> {
  const fake = await startFakeSlack();
  const posted: PostedMessage[] = [];
  fake.on('auth.test', () => ({ body: { ok: true, url: 'https://soak.slack.com/', team: 'Soak', user: 'ctb', team_id: SLACK.team, user_id: SLACK.botUser, bot_id: 'B0SOAK' } }));
  fake.on('users.info', (body) => ({ body: { ok: true, user: { id: body.user, is_bot: false, deleted: false } } }));
  fake.on('chat.postMessage', (body) => {
    const ts = `${1_800_000_000 + ++tsSeq}.000100`;
    posted.push({ channel: String(body.channel), ts, text: String(body.text ?? '') });
    return { body: { ok: true, channel: body.channel, ts, message: { text: body.text } } };
  });
  const send = async (botUrl: string, body: string, contentType: string) => {
    const res = await fetch(`${botUrl}/slack/events`, { method: 'POST', headers: { 'content-type': contentType, ...signedHeaders(SLACK.signingSecret, body) }, body });
    return { status: res.status, text: await res.text() };
  };
  return {
    fake, posted,
    slash(botUrl, command, text, user) {
      const trigger = `trg${randomBytes(6).toString('hex')}`;
      const form = new URLSearchParams({
        token: 'legacy', team_id: SLACK.team, team_domain: 'soak', channel_id: SLACK.ops, channel_name: 'ops', user_id: user, user_name: 'operator',
        command, text, api_app_id: 'A0SOAK', is_enterprise_install: 'false', trigger_id: trigger,
        response_url: `${fake.url.replace(/\/api\/$/, '')}/respond/${trigger}`,
      });
      return send(botUrl, form.toString(), 'application/x-www-form-urlencoded');
    },
    react(botUrl, message, user, reaction = 'white_check_mark') {
      const now = Date.now() / 1000;
      const body = {
        token: 'legacy', team_id: SLACK.team, api_app_id: 'A0SOAK', type: 'event_callback', event_id: `Ev${randomBytes(6).toString('hex')}`, event_time: Math.floor(now),
        event: { type: 'reaction_added', user, reaction, item: { type: 'message', channel: message.channel, ts: message.ts }, item_user: SLACK.botUser, event_ts: now.toFixed(6) },
        authorizations: [{ team_id: SLACK.team, user_id: SLACK.botUser, is_bot: true, is_enterprise_install: false }],
      };
      return send(botUrl, JSON.stringify(body), 'application/json');
    },
    responses: () => fake.calls.filter((c) => c.method.includes('respond/')).map((c) => JSON.stringify(c.body)),
    close: () => fake.close(),
  };
}
