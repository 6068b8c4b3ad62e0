// The stand-in answers the Web API calls the bot makes in Slack's shapes: driven here by Slack's own
// client (@slack/web-api, as the bot's WebClient is built), in-process, for every method the bot calls —
// and a method it does not serve, or a call without a bot token, gets Slack's error.
import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOT_SCOPES } from '../../../src/domain/slack-scopes.js';
import { SlackStandIn } from '../../../src/slack-simulator/server.js';
import { tokenFingerprint } from '../../../src/slack-simulator/signing.js';

let standIn: SlackStandIn;
let web: WebClient;

beforeAll(async () => {
  standIn = await SlackStandIn.start({ port: 0 });
  web = new WebClient('xoxb-rehearsal', { slackApiUrl: standIn.apiUrl, retryConfig: { retries: 0 } });
});
afterAll(() => standIn.close());

describe('the Slack stand-in\'s Web API', () => {
  it('says on its root page that it is not Slack, and listens on 127.0.0.1 only', async () => {
    expect(standIn.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await fetch(standIn.url)).text()).toContain('It is not Slack: nothing posted here reaches any workspace.');
  });

  it('auth.test names the team and the bot user, and every answer grants the manifest\'s scopes', async () => {
    const res = await web.auth.test();
    expect(res).toMatchObject({ ok: true, team_id: 'T0STANDIN', user_id: 'U0STANDBOT', bot_id: 'B0STANDIN' });
    expect(res.response_metadata?.scopes).toEqual([...BOT_SCOPES]);
  });

  it('lists the bots that called it by a fingerprint of their token, never the token, and not a call it refused', async () => {
    await web.auth.test();
    await new WebClient('not-a-bot-token', { slackApiUrl: standIn.apiUrl, retryConfig: { retries: 0 } }).auth.test().catch(() => undefined);
    const view = await (await fetch(`${standIn.url}/_standin/messages`)).text();
    expect((JSON.parse(view) as { botsSeen: string[] }).botsSeen).toEqual([tokenFingerprint('xoxb-rehearsal')]);
    expect(view).not.toContain('xoxb-rehearsal');
  });

  it('keeps what is posted: a message, a reply in its thread, an edit, an ephemeral reply; a message to a member lands in a DM', async () => {
    const posted = await web.chat.postMessage({ channel: 'C0OPS', text: 'Request #1 by <@U0OPER> to switch to LIVE trading' });
    expect(posted).toMatchObject({ ok: true, channel: 'C0OPS', ts: expect.stringMatching(/^\d+\.\d{6}$/) });
    const reply = await web.chat.postMessage({ channel: 'C0OPS', thread_ts: posted.ts!, text: 'Approval 1 of 2' });
    expect(reply.message?.thread_ts).toBe(posted.ts);
    expect(await web.chat.update({ channel: 'C0OPS', ts: posted.ts!, text: 'Request #1: approved' })).toMatchObject({ ok: true, ts: posted.ts });
    expect(await web.chat.postEphemeral({ channel: 'C0OPS', user: 'U0APPR', text: 'Your reaction did not count' })).toMatchObject({ ok: true, message_ts: expect.any(String) });
    const dm = await web.chat.postMessage({ channel: 'U0ONCALL', text: 'You are paged', metadata: { event_type: 'ctb_alert_page', event_payload: { delivery_id: 7 } } });
    expect(dm.channel).toBe('D0ONCALL');
    const history = await web.conversations.history({ channel: 'D0ONCALL', limit: 100, include_all_metadata: true });
    expect(history.messages?.map((m) => [m.ts, m.metadata?.event_type])).toEqual([[dm.ts, 'ctb_alert_page']]);
    expect(standIn.log.entries.map((e) => [e.kind, e.channel, e.threadTs ?? null, e.text, e.edits])).toEqual([
      ['message', 'C0OPS', null, 'Request #1: approved', 1],
      ['message', 'C0OPS', posted.ts, 'Approval 1 of 2', 0],
      ['ephemeral', 'C0OPS', null, 'Your reaction did not count', 0],
      ['message', 'D0ONCALL', null, 'You are paged', 0],
    ]);
  });

  it('reactions.get answers the reactions people put on a message, in Slack\'s shape, and message_not_found for none', async () => {
    const posted = await web.chat.postMessage({ channel: 'C0REACT', text: 'Request #2 to switch to LIVE trading' });
    const put = (user: string) => fetch(`${standIn.url}/_standin/reactions`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ channel: 'C0REACT', ts: posted.ts, name: 'white_check_mark', user }),
    });
    expect((await web.reactions.get({ channel: 'C0REACT', timestamp: posted.ts!, full: true })).message).not.toHaveProperty('reactions');
    expect((await put('U0APPRA')).status).toBe(200);
    expect((await put('U0APPRB')).status).toBe(200);
    expect((await put('U0APPRA')).status).toBe(200);
    expect((await web.reactions.get({ channel: 'C0REACT', timestamp: posted.ts!, full: true })).message?.reactions)
      .toEqual([{ name: 'white_check_mark', users: ['U0APPRA', 'U0APPRB'], count: 2 }]);
    await expect(web.reactions.get({ channel: 'C0REACT', timestamp: '1.000001' })).rejects.toMatchObject({ data: { error: 'message_not_found' } });
    const stray = await fetch(`${standIn.url}/_standin/reactions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ channel: 'C0REACT', ts: '1.000001', name: 'x', user: 'U0APPRA' }) });
    expect(stray.status).toBe(404);
  });

  it('conversations.replies answers a thread, parent first, with the replies\' metadata when asked, and thread_not_found for none', async () => {
    const parent = await web.chat.postMessage({ channel: 'C0THREAD', text: 'Request #3 to switch to LIVE trading' });
    const marked = await web.chat.postMessage({
      channel: 'C0THREAD', thread_ts: parent.ts!, text: 'Live change request #3 expired', metadata: { event_type: 'ctb_mode_announcement', event_payload: { request_id: 3 } },
    });
    const replies = await web.conversations.replies({ channel: 'C0THREAD', ts: parent.ts!, include_all_metadata: true });
    expect(replies.messages?.map((m) => [m.ts, m.thread_ts, m.metadata?.event_type ?? null])).toEqual([
      [parent.ts, parent.ts, null], [marked.ts, parent.ts, 'ctb_mode_announcement'],
    ]);
    expect(replies.messages?.[1]?.metadata?.event_payload).toEqual({ request_id: 3 });
    expect(replies).toMatchObject({ has_more: false, response_metadata: { next_cursor: '' } });
    expect((await web.conversations.replies({ channel: 'C0THREAD', ts: parent.ts! })).messages?.[1]).not.toHaveProperty('metadata');
    await expect(web.conversations.replies({ channel: 'C0THREAD', ts: '1.000001' })).rejects.toMatchObject({ data: { error: 'thread_not_found' } });
  });

  it('users.info answers a member as a person and the bot as a bot; views.publish and files.uploadV2 complete', async () => {
    expect((await web.users.info({ user: 'U0APPR' })).user).toMatchObject({ id: 'U0APPR', is_bot: false, deleted: false });
    expect((await web.users.info({ user: 'U0STANDBOT' })).user).toMatchObject({ id: 'U0STANDBOT', is_bot: true });
    expect(await web.views.publish({ user_id: 'U0APPR', view: { type: 'home', blocks: [] } })).toMatchObject({ ok: true, view: { type: 'home' } });
    const upload = await web.filesUploadV2({ channel_id: 'C0OPS', file: Buffer.from('png bytes'), filename: 'stats.png', title: 'Stats' });
    expect(upload.ok).toBe(true);
    expect(standIn.log.entries.at(-1)).toMatchObject({ kind: 'message', channel: 'C0OPS', text: '[file] Stats' });
  });

  it('answers Slack\'s errors: an unknown method, no token or not a bot token, a message that is not there', async () => {
    await expect(web.apiCall('reactions.add', { channel: 'C0OPS', name: 'x', timestamp: '1.2' })).rejects.toMatchObject({ data: { ok: false, error: 'unknown_method' } });
    await expect(new WebClient('xoxp-user', { slackApiUrl: standIn.apiUrl, retryConfig: { retries: 0 } }).auth.test()).rejects.toMatchObject({ data: { error: 'invalid_auth' } });
    await expect(new WebClient(undefined, { slackApiUrl: standIn.apiUrl, retryConfig: { retries: 0 } }).auth.test()).rejects.toMatchObject({ data: { error: 'not_authed' } });
    await expect(web.chat.update({ channel: 'C0OPS', ts: '1.000001', text: 'x' })).rejects.toMatchObject({ data: { error: 'message_not_found' } });
  });
});
