// A request's response_url is honoured five times within 30 minutes of the interaction (the fake
// Slack refuses past that as Slack does: 404 used_url / expired_url). A reply past either limit, or
// one Slack refuses, goes with the bot token in the request's channel (and thread) instead; with no
// channel to post in it fails, so no caller takes it for shown.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { testConfig } from '../../../src/config/env.js';
import type { Db } from '../../../src/db/client.js';
import { sendErrorReply } from '../../../src/slack/error-reply.js';
import { createReplier, REPLY_MARGIN_MS, RESPONSE_URL_USES } from '../../../src/slack/reply.js';
import { postToResponseUrl, responseUrlPoster } from '../../../src/slack/response-url.js';
import { RESPONSE_URL_TTL_MS } from '../../../src/slack/shed-policy.js';
import { slackWebClient } from '../../../src/slack/web-client.js';
import { RESPONSE_URL_LIFE_MS, startFakeSlack, type FakeSlack } from '../../support/fake-slack.js';

let fake: FakeSlack | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const text = (n: number) => ({ text: `reply ${n}`, blocks: [] });

async function bed(opts: { channel?: string; threadTs?: string; url?: string } = {}) {
  fake = await startFakeSlack();
  const clock = new ManualClock();
  fake.now = () => clock.now().getTime();
  const config = testConfig({ SLACK_BOT_TOKEN: 'xoxb-1-2-limits', SLACK_SIGNING_SECRET: 'limits-signing-secret-0123456789', SLACK_API_URL: fake.url });
  const warnings: string[] = [];
  const logger = pino(
    { level: 'warn' },
    new Writable({
      write(line: Buffer, _enc, done) {
        warnings.push(String((JSON.parse(line.toString()) as { msg: unknown }).msg));
        done();
      },
    }),
  );
  const url = opts.url ?? fake.responseUrl('trgLIMITS');
  const ctx = { db: {} as Db, config, logger, clock };
  const client = slackWebClient(config);
  const respond = responseUrlPoster(url);
  const replier = createReplier({
    ctx,
    client,
    respond,
    user: 'UOPS1',
    receivedAt: clock.now().getTime(),
    ...(opts.channel ? { channel: opts.channel } : {}),
    ...(opts.threadTs ? { threadTs: opts.threadTs } : {}),
  });
  replier.useBadge({ mode: 'paper', halted: false, tradingState: 'active' });
  const f = fake;
  const taken = () => f.calls.filter((c) => c.method.startsWith('/respond/') && !c.refused).map((c) => String(c.body.text));
  const refused = () => f.calls.filter((c) => c.method.startsWith('/respond/') && c.refused).map((c) => c.refused);
  const viaToken = (method: string) => f.callsTo(method).map((c) => String(c.body.text));
  return { fake: f, clock, ctx, client, url, respond, warnings, replier, taken, refused, viaToken };
}

describe('the fake Slack honours a response_url as Slack does', () => {
  it('five uses, then used_url; past 30 minutes, expired_url', async () => {
    const { fake: f, clock } = await bed();
    const url = f.responseUrl('trgFAKE');
    const post = responseUrlPoster(url)!;
    for (let i = 0; i < RESPONSE_URL_USES; i++) await post({ text: `use ${i + 1}` });
    await expect(post({ text: 'use 6' })).rejects.toMatchObject({ name: 'ResponseUrlError', status: 404 });
    const late = f.responseUrl('trgLATE');
    clock.advance(RESPONSE_URL_LIFE_MS);
    await expect(responseUrlPoster(late)!({ text: 'late' })).rejects.toMatchObject({ status: 404 });
    expect(f.calls.map((c) => c.refused).filter(Boolean)).toEqual(['used_url', 'expired_url']);
  });
});

describe('a reply past what the response_url allows', () => {
  it('sends the sixth ephemeral reply with the bot token, never a sixth use', async () => {
    const b = await bed({ channel: 'C0OPS' });
    for (let n = 1; n <= RESPONSE_URL_USES + 1; n++) await b.replier.ephemeral(text(n));
    expect(b.taken()).toHaveLength(RESPONSE_URL_USES);
    expect(b.refused()).toEqual([]);
    expect(b.viaToken('chat.postEphemeral')).toEqual([expect.stringContaining('reply 6')]);
    expect(b.fake.callsTo('chat.postEphemeral')[0]!.body).toMatchObject({ channel: 'C0OPS', user: 'UOPS1' });
    // An answer for the operator alone never becomes a message the whole channel sees.
    expect(b.fake.callsTo('chat.postMessage')).toEqual([]);
  });

  it("counts the uses of the request's rows together: two replying three times each spend five, not six", async () => {
    const b = await bed({ channel: 'C0OPS' });
    // A second row of the same command: a replier of its own around the request's one poster.
    const second = createReplier({ ctx: b.ctx, client: b.client, respond: b.respond, user: 'UOPS1', channel: 'C0OPS', receivedAt: b.clock.now().getTime() });
    second.useBadge({ mode: 'paper', halted: false, tradingState: 'active' });
    for (let n = 1; n <= 3; n++) {
      await b.replier.ephemeral(text(n));
      await second.ephemeral(text(10 + n));
    }
    expect(b.taken()).toHaveLength(RESPONSE_URL_USES);
    // Slack is never asked for a sixth use it would refuse.
    expect(b.refused()).toEqual([]);
    expect(b.viaToken('chat.postEphemeral')).toEqual([expect.stringContaining('reply 13')]);
    expect(b.fake.callsTo('chat.postMessage')).toEqual([]);
  });

  it('posts an in-channel reply with the bot token once the response_url is (nearly) 30 minutes old', async () => {
    const b = await bed({ channel: 'C0OPS' });
    await b.replier.inChannel(text(1));
    b.clock.advance(RESPONSE_URL_TTL_MS - REPLY_MARGIN_MS);
    await b.replier.inChannel(text(2));
    expect(b.taken()).toEqual([expect.stringContaining('reply 1')]);
    expect(b.refused()).toEqual([]);
    expect(b.viaToken('chat.postMessage')).toEqual([expect.stringContaining('reply 2')]);
  });

  it('takes a 404 from Slack for a spent response_url and replies with the token, in the thread', async () => {
    const b = await bed({ channel: 'C0OPS', threadTs: '1700000000.000100' });
    // Slack's clock runs ahead of this process's: it has expired the URL already.
    b.fake.now = () => b.clock.now().getTime() + RESPONSE_URL_LIFE_MS;
    await b.replier.ephemeral(text(1));
    await b.replier.ephemeral(text(2));
    expect(b.refused()).toEqual(['expired_url']);
    expect(b.taken()).toEqual([]);
    expect(b.viaToken('chat.postEphemeral')).toEqual([expect.stringContaining('reply 1'), expect.stringContaining('reply 2')]);
    expect(b.fake.callsTo('chat.postEphemeral')[0]!.body).toMatchObject({ thread_ts: '1700000000.000100' });
    expect(b.fake.callsTo('chat.postMessage')).toEqual([]);
  });

  it('fails the reply when there is no channel to post in: nothing may take it for shown', async () => {
    const b = await bed();
    b.clock.advance(RESPONSE_URL_TTL_MS);
    await expect(b.replier.ephemeral(text(1))).rejects.toThrow(/response_url is spent/);
    await expect(b.replier.inChannel(text(2))).rejects.toThrow(/response_url is spent/);
    expect(b.fake.calls.filter((c) => c.method.startsWith('/respond/') || c.method.startsWith('chat.'))).toEqual([]);
  });
});

/** A response_url at a host that answers every POST 404 with a page of its own, as a wrong or stale URL does. */
async function wrongUrlHost(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(404, { 'content-type': 'text/html' }).end('<html><body>Not Found</body></html>'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/respond/nowhere`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('a 404 says only what Slack said', () => {
  it("carries Slack's reason (used_url, expired_url) from the refusal's body", async () => {
    const b = await bed();
    b.clock.advance(RESPONSE_URL_LIFE_MS);
    await expect(postToResponseUrl(b.url, { text: 'late' })).rejects.toMatchObject({ name: 'ResponseUrlError', status: 404, code: 'expired_url' });
  });

  it('logs the reason Slack gave for its 404', async () => {
    const b = await bed({ channel: 'C0OPS' });
    b.fake.now = () => b.clock.now().getTime() + RESPONSE_URL_LIFE_MS;
    await b.replier.ephemeral(text(1));
    expect(b.warnings).toEqual(['the response_url was refused with 404 (expired_url): replying with the bot token']);
  });

  it('logs a 404 with no reason (a wrong URL) as no more than a 404, and still replies with the token', async () => {
    const host = await wrongUrlHost();
    try {
      const w = await bed({ channel: 'C0OPS', url: host.url });
      await w.replier.ephemeral(text(1));
      expect(w.warnings).toEqual(['the response_url was refused with 404: replying with the bot token']);
      expect(w.viaToken('chat.postEphemeral')).toEqual([expect.stringContaining('reply 1')]);
    } finally {
      await host.close();
    }
  });
});

describe("the error handler's reply (create-app.ts's backstop)", () => {
  const failed = { text: 'Something went wrong (ref E1)', blocks: [] };

  it('reaches the asker alone with the bot token when the work failed past the 30 minutes', async () => {
    const b = await bed();
    const receivedAt = b.clock.now().getTime();
    b.clock.advance(RESPONSE_URL_LIFE_MS + 60_000);
    const command = { command: '/exit', response_url: b.url, channel_id: 'C0OPS', user_id: 'UOPS1' };
    await sendErrorReply({ ctx: b.ctx, client: b.client, body: command, message: failed, receivedAt });
    // Known to be past its life: the response_url is not even tried.
    expect(b.refused()).toEqual([]);
    expect(b.taken()).toEqual([]);
    expect(b.fake.callsTo('chat.postEphemeral').map((c) => c.body)).toEqual([expect.objectContaining({ channel: 'C0OPS', user: 'UOPS1', text: expect.stringContaining('ref E1') })]);
    expect(b.fake.callsTo('chat.postMessage')).toEqual([]);
  });

  it("falls back on Slack's 404 when it does not know when the request came (a button's, in its thread)", async () => {
    const b = await bed();
    for (let i = 0; i < RESPONSE_URL_USES; i++) await responseUrlPoster(b.url)!({ text: `use ${i + 1}` });
    const click = { type: 'block_actions', response_url: b.url, channel: { id: 'C0OPS' }, user: { id: 'UOPS1' }, message: { thread_ts: '1700000000.000100' } };
    await sendErrorReply({ ctx: b.ctx, client: b.client, body: click, message: failed });
    expect(b.refused()).toEqual(['used_url']);
    expect(b.fake.callsTo('chat.postEphemeral').map((c) => c.body)).toEqual([
      expect.objectContaining({ channel: 'C0OPS', user: 'UOPS1', thread_ts: '1700000000.000100', text: expect.stringContaining('ref E1') }),
    ]);
    expect(b.fake.callsTo('chat.postMessage')).toEqual([]);
  });

  it('still answers through the response_url while it is good, and never in public', async () => {
    const b = await bed();
    await sendErrorReply({ ctx: b.ctx, client: b.client, body: { response_url: b.url, channel_id: 'C0OPS', user_id: 'UOPS1' }, message: failed });
    expect(b.taken()).toEqual([expect.stringContaining('ref E1')]);
    expect(b.fake.calls.filter((c) => c.method.startsWith('/respond/'))[0]!.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(b.fake.calls.filter((c) => c.method.startsWith('chat.'))).toEqual([]);
  });
});
