// The bot's slash commands through the real Bolt HTTP receiver on loopback, with signed requests:
// replies, usage fallbacks, roles, the command log, signature checks and retries.
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { slackDeliveries } from '../../src/db/schema/index.js';
import { auditRuns } from '../../src/db/schema/index.js';
import { getBotState } from '../../src/services/bot-state.js';
import { startSlackHarness, USERS, type SlackHarness } from '../support/slack-harness.js';

const text = (body: Record<string, unknown> | undefined) => JSON.stringify(body ?? {});

describe('slash commands over HTTP', () => {
  let h: SlackHarness;
  beforeAll(async () => {
    h = await startSlackHarness();
  });
  afterAll(async () => {
    await h?.close();
  });
  afterEach(() => {
    nock.cleanAll();
  });

  /** Sends a slash command, waits for the work it acked, returns the one reply it produced. */
  async function ask(command: string, words: string, user: string = USERS.reader) {
    const before = h.responses().length;
    const logBefore = (await h.commandLog()).length;
    const res = await h.slash(command, words, { user });
    expect(res.status).toBe(200);
    await h.idle();
    const replies = h.responses().slice(before);
    const log = (await h.commandLog()).slice(logBefore);
    return { res, replies, reply: replies[0], log };
  }

  it('answers /mode status ephemerally with the paper badge and records it', async () => {
    const { reply, replies, log } = await ask('/mode', 'status');
    expect(replies).toHaveLength(1);
    expect(reply?.response_type).toBe('ephemeral');
    expect(reply?.text).toMatch(/^\[PAPER\] Mode: paper/);
    const blocks = reply?.blocks as Array<{ type: string; elements?: Array<{ text: string }> }>;
    expect(blocks[0]?.type).toBe('context');
    expect(blocks[0]?.elements?.[0]?.text).toContain('PAPER');
    expect(log).toMatchObject([{ source: 'slack', actor: USERS.reader, command: 'mode status', allowed: true, result: 'ok' }]);
  });

  it('treats an empty /mode as /mode status', async () => {
    const { reply } = await ask('/mode', '');
    expect(reply?.text).toMatch(/Mode: paper/);
  });

  it('answers /mode status with stray words with its usage, and records the malformed attempt', async () => {
    const { reply, log } = await ask('/mode', 'status now please');
    expect(text(reply)).toContain('takes no arguments, got \\"now please\\"');
    expect(text(reply)).toContain('/mode status');
    expect(log).toMatchObject([{ command: 'mode status', allowed: true }]);
    expect(log[0]?.result).toMatch(/^usage:/);
  });

  it('answers an unknown /mode subcommand with the usage of /mode, never a crash', async () => {
    const { reply, log } = await ask('/mode', 'turbo');
    expect(text(reply)).toContain("I don't know `/mode turbo`");
    for (const usage of ['/mode status', '/mode live [reason]', '/mode paper [reason]']) expect(text(reply)).toContain(usage);
    expect(log[0]?.result).toMatch(/^usage: I don't know/);
  });

  it('answers a misspelt /mode subcommand with the terminal\'s suggestion: /mode lve → Did you mean live?', async () => {
    const { reply } = await ask('/mode', 'lve');
    expect(text(reply)).toContain("I don't know `/mode lve`. (Did you mean live?)");
  });

  it('answers odd text (unicode, markup, very long) with a usage reply', async () => {
    const { reply } = await ask('/golive', `<@U123> 🚀 ${'x'.repeat(3000)}`);
    expect(reply?.response_type).toBe('ephemeral');
    expect(text(reply)).toContain('/golive status');
  });

  it('shows /golive status with no audit yet, then the latest verdict once an audit ran', async () => {
    const first = await ask('/golive', 'status');
    expect(text(first.reply)).toContain('No go-live audit has run yet');
    expect(first.log).toMatchObject([{ command: 'golive status', result: 'ok' }]);

    const at = new Date('2026-11-20T10:00:00Z');
    await h.ctx.db.insert(auditRuns).values([
      { at: new Date('2026-11-19T10:00:00Z'), actor: USERS.operator, mode: 'paper', dryRun: false, passed: true, summary: 'old run', results: [] },
      { at, actor: USERS.operator, mode: 'paper', dryRun: false, passed: false, summary: '2 of 14 checks failed', results: [] },
    ]);
    const second = await ask('/golive', '');
    expect(text(second.reply)).toContain('*failed*');
    expect(text(second.reply)).toContain('2 of 14 checks failed');
    expect(text(second.reply)).toContain(`<!date^${at.getTime() / 1000}^`);
    expect(text(second.reply)).not.toContain('old run');
  });

  it('shows the go-live runbook filled in from the configuration, then every command, in /golive help', async () => {
    const { reply, log } = await ask('/golive', 'help');
    expect(reply?.response_type).toBe('ephemeral');
    expect(text(reply)).toContain('Go-live runbook: paper → live');
    for (const approver of h.ctx.config.SLACK_APPROVERS) expect(text(reply)).toContain(`<@${approver}>`);
    expect(text(reply)).toContain(`react with :${h.ctx.config.APPROVAL_EMOJI}:`);
    for (const c of ['/golive audit', '/golive status', '/stats [24h|7d|30d|all]', '/mode live', '/mode paper', '/kill [reason]', '/oncall who']) {
      expect(text(reply)).toContain(c);
    }
    expect(log).toMatchObject([{ source: 'slack', command: 'runbook', allowed: true, result: 'ok' }]);
  });

  it('answers "<command> help" with that command\'s usage', async () => {
    const { reply } = await ask('/oncall', 'help');
    expect(text(reply)).toContain('/oncall schedule');
    expect(text(reply)).not.toContain('/golive');
  });

  it('refuses /kill from a user who is not an operator: clear answer, nothing changes, no exchange call', async () => {
    const kraken = nock('https://api.kraken.com').persist().post(/.*/).reply(500).get(/.*/).reply(500);
    const stateBefore = await getBotState(h.ctx.db);
    const { reply, replies, log } = await ask('/kill', 'market is on fire', USERS.reader);
    expect(replies).toHaveLength(1);
    expect(reply?.response_type).toBe('ephemeral');
    expect(text(reply)).toContain('You are not allowed to run `/kill [reason]`');
    expect(text(reply)).toContain('SLACK_OPERATORS');
    expect(log).toMatchObject([{ actor: USERS.reader, command: 'kill', args: 'market is on fire', allowed: false, result: 'refused' }]);
    const stateAfter = await getBotState(h.ctx.db);
    expect(stateAfter).toEqual(stateBefore);
    expect(kraken.isDone()).toBe(false);
    expect(h.fake.callsTo('chat.postMessage')).toHaveLength(0);
  });

  it('refuses /mode paper from an approver who is not an operator', async () => {
    const { reply, log } = await ask('/mode', 'paper', USERS.approver1);
    expect(text(reply)).toContain('needs the operator role');
    expect(log[0]?.allowed).toBe(false);
  });

  it('applies a slash command retried by Slack (same trigger, X-Slack-Retry-Num) once', async () => {
    const before = h.responses().length;
    const logBefore = (await h.commandLog()).length;
    const first = await h.slash('/golive', 'status', { triggerId: 'trg-retry-1' });
    const retry = await h.slash('/golive', 'status', { triggerId: 'trg-retry-1', retryNum: 1, retryReason: 'http_timeout' });
    const second = await h.slash('/golive', 'status', { triggerId: 'trg-retry-1', retryNum: 2, retryReason: 'http_timeout' });
    expect([first.status, retry.status, second.status]).toEqual([200, 200, 200]);
    await h.idle();
    expect(h.responses().slice(before)).toHaveLength(1);
    expect((await h.commandLog()).slice(logBefore)).toHaveLength(1);
    const deliveries = await h.ctx.db.select().from(slackDeliveries);
    expect(deliveries.filter((d) => d.key === 'command:trg-retry-1')).toHaveLength(1);
  });

  describe('signature checks (Bolt)', () => {
    async function expectRejected(opts: Parameters<SlackHarness['slash']>[2]) {
      const before = { replies: h.responses().length, calls: h.fake.calls.length, log: (await h.commandLog()).length };
      const deliveries = (await h.ctx.db.select().from(slackDeliveries)).length;
      const res = await h.slash('/mode', 'status', { user: USERS.operator, ...opts });
      expect(res.status).toBe(401);
      await h.idle();
      expect(h.responses().length).toBe(before.replies);
      expect(h.fake.calls.length).toBe(before.calls);
      expect((await h.commandLog()).length).toBe(before.log);
      expect((await h.ctx.db.select().from(slackDeliveries)).length).toBe(deliveries);
    }

    it('rejects a forged signature with 401 and changes nothing', async () => {
      await expectRejected({ signature: `v0=${'ab'.repeat(32)}` });
    });

    it('rejects a request signed with another secret with 401', async () => {
      await expectRejected({ secret: 'not-the-signing-secret' });
    });

    it('rejects a request without signature headers with 401', async () => {
      await expectRejected({ signature: null });
    });

    it('rejects a correctly signed request older than five minutes with 401', async () => {
      await expectRejected({ timestamp: Math.floor(Date.now() / 1000) - 5 * 60 - 5 });
    });

    it('rejects a /kill with a forged signature before any role check or exchange call', async () => {
      const kraken = nock('https://api.kraken.com').persist().post(/.*/).reply(500);
      const res = await h.slash('/kill', 'now', { user: USERS.operator, signature: `v0=${'00'.repeat(32)}` });
      expect(res.status).toBe(401);
      await h.idle();
      expect(kraken.isDone()).toBe(false);
      expect((await getBotState(h.ctx.db)).halted).toBe(false);
    });
  });
});
