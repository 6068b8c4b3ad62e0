// reactions.get as the live switch's quorum reads it: Slack's documented answer becomes who has which
// emoji on the message, and every way the read can fail is an answer naming why (never a throw, never
// "no reactions"), a missing reactions:read scope named as such.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../../src/config/env.js';
import { slackMessageReactions } from '../../../src/slack/message-reactions.js';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.js';

const WHERE = { channel: 'C0OPS', ts: '1700000000.000100' };
let slack: FakeSlack;
const reactions = () => slackMessageReactions(testConfig({
  SLACK_BOT_TOKEN: 'xoxb-0000-test-not-a-real-token', SLACK_SIGNING_SECRET: 's', SLACK_API_URL: slack.url, SLACK_API_TIMEOUT: '1s', SLACK_RETRY_PAUSE: '10ms',
}));

beforeAll(async () => {
  slack = await startFakeSlack();
});

afterAll(async () => {
  await slack.close();
});

describe('reading a request message\'s reactions from Slack', () => {
  it('asks for every reacting user (full) and reads message.reactions as Slack documents it', async () => {
    slack.reactions.apply({ ...WHERE, name: 'white_check_mark', user: 'UA', added: true });
    slack.reactions.apply({ ...WHERE, name: 'white_check_mark', user: 'UB', added: true });
    slack.reactions.apply({ ...WHERE, name: '+1::skin-tone-2', user: 'UC', added: true });
    slack.reactions.apply({ ...WHERE, name: 'white_check_mark', user: 'UB', added: false });
    expect(await reactions().read(WHERE)).toEqual({
      kind: 'read', reactions: [{ name: 'white_check_mark', users: ['UA'] }, { name: '+1::skin-tone-2', users: ['UC'] }],
    });
    expect(slack.callsTo('reactions.get').at(-1)?.body).toMatchObject({ channel: WHERE.channel, timestamp: WHERE.ts, full: 'true' });
    // A message nobody reacted to: Slack leaves `reactions` out.
    expect(await reactions().read({ channel: WHERE.channel, ts: '1700000000.000200' })).toEqual({ kind: 'read', reactions: [] });
  });

  it('names the missing reactions:read scope and how to grant it', async () => {
    slack.on('reactions.get', () => ({ body: { ok: false, error: 'missing_scope', needed: 'reactions:read', provided: 'chat:write' } }));
    const read = await reactions().read(WHERE);
    expect(read.kind).toBe('unread');
    expect(read.kind === 'unread' && read.why).toMatch(/^reactions\.get failed: missing_scope — the bot token lacks reactions:read; reinstall the Slack app/);
  });

  it('says why for an error, a rate limit, an answer in another shape and a Slack that does not answer', async () => {
    slack.on('reactions.get', () => ({ body: { ok: false, error: 'message_not_found' } }));
    expect(await reactions().read(WHERE)).toEqual({ kind: 'unread', why: 'reactions.get failed: message_not_found' });
    slack.on('reactions.get', () => ({ status: 429, headers: { 'retry-after': '7' }, body: { ok: false, error: 'ratelimited' } }));
    expect(await reactions().read(WHERE)).toEqual({ kind: 'unread', why: 'reactions.get was rate limited by Slack (retry after 7 s)' });
    slack.on('reactions.get', () => ({ body: { ok: true, message: { reactions: [{ name: 'white_check_mark', count: 2 }] } } }));
    expect(await reactions().read(WHERE)).toMatchObject({ kind: 'unread', why: expect.stringContaining('documented shape') });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    slack.on('reactions.get', async () => {
      await held;
      return { body: { ok: true } };
    });
    try {
      expect(await reactions().read(WHERE)).toEqual({ kind: 'unread', why: 'reactions.get timed out after 1s' });
    } finally {
      release();
    }
  });
});
