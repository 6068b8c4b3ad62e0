// /oncall through the real Bolt receiver with signed requests: who, schedule, override (operators
// only), usage replies for bad text, and a Slack retry that does not add a second override.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oncallSetCommand } from '../../../commands/oncall-set.js';
import { runCommand } from '../../../commands/run-command.js';
import { ManualClock } from '../../../src/clock.js';
import { oncallOverrides } from '../../../src/db/schema/index.js';
import { startSlackHarness, USERS, type SlackHarness } from '../../support/slack-harness.js';
import { databaseNow } from '../../../src/db/queries/database-clock.js';
import { handoffFromDatabaseNow, handoffText, passOncallTime } from '../../support/oncall-fixtures.js';

const HOUR = 3_600_000;

const text = (body: unknown) => JSON.stringify(body ?? {});

describe('/oncall in Slack', () => {
  let h: SlackHarness;
  // The replica's own clock is January's; who is on call is judged at the database's now().
  const clock = new ManualClock('2026-01-12T13:00:00Z');
  beforeAll(async () => {
    // With an alerts channel: the approvers are paged through it (without one, nobody can be paged).
    h = await startSlackHarness({ clock, env: { SLACK_ALERTS_CHANNEL: 'C0ALERTS' } });
  });
  afterAll(async () => {
    await h?.close();
  });

  async function ask(words: string, user: string = USERS.reader, triggerId?: string) {
    const before = h.responses().length;
    const logBefore = (await h.commandLog()).length;
    const res = await h.slash('/oncall', words, { user, ...(triggerId ? { triggerId } : {}) });
    expect(res.status).toBe(200);
    await h.idle();
    const replies = h.responses().slice(before);
    return { replies, reply: replies[0], log: (await h.commandLog()).slice(logBefore) };
  }

  it('with no rotation says nobody is on call and that the approvers are paged instead', async () => {
    const { reply, replies, log } = await ask('');
    expect(replies).toHaveLength(1);
    expect(reply?.response_type).toBe('ephemeral');
    expect(reply?.text).toMatch(/Nobody is on call\. Alerts page the approvers: UAPPROVER1, UAPPROVER2/);
    expect(text(reply)).toContain('No rotation is set');
    expect(log).toMatchObject([{ actor: USERS.reader, command: 'oncall show', allowed: true, result: 'failed' }]);
  });

  it('shows who is on call now and next, following the handoff in the rotation time zone', async () => {
    // Handoff at New York's local time an hour after the database's now(): Alice's week ends then.
    const { handoff, at } = await handoffFromDatabaseNow(h.ctx.db, HOUR, 'America/New_York');
    await runCommand(oncallSetCommand, h.ctx, { id: 'cli:ops', source: 'cli' }, { members: 'UALICE,UBOB,UCAROL', handoff, tz: 'America/New_York' });
    expect((await ask('who')).reply?.text).toMatch(/On call now: UALICE; next: UBOB$/);
    await passOncallTime(h.ctx.db, HOUR); // the handoff has passed: Bob's week
    const { reply } = await ask('who');
    expect(reply?.text).toMatch(/On call now: UBOB; next: UCAROL$/);
    expect(text(reply)).toContain(`handoff every ${handoffText(new Date(at.getTime() - HOUR), 'America/New_York')} (America/New_York)`);
  });

  it('lists the coming weeks of the schedule', async () => {
    const { reply } = await ask('schedule 3');
    const body = text(reply);
    expect(reply?.text).toMatch(/On-call schedule: UBOB on call now; 3 shift\(s\), 0 override\(s\)/);
    const order = ['<@UBOB>', '<@UCAROL>', '<@UALICE>'].map((m) => body.indexOf(`: ${m}`));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(body).toContain('critical: on-call → next in rotation → all approvers');
  });

  it('lets an operator override for a while, posts it in the channel, and /oncall who follows it', async () => {
    const before = await databaseNow(h.ctx.db);
    const { reply, log } = await ask('override <@UDAVE|dave> 2h', USERS.operator);
    expect(reply?.response_type).toBe('in_channel');
    const [, from, to] = /UDAVE is on call from (\S+) to (\S+) \(override for 2h, set by UOPERATOR1\)/.exec(String(reply?.text)) ?? [];
    expect(new Date(to!).getTime() - new Date(from!).getTime()).toBe(2 * HOUR);
    expect(new Date(from!) >= before && new Date(from!) <= (await databaseNow(h.ctx.db)), `${from} is the database's now()`).toBe(true);
    expect(log).toMatchObject([{ actor: USERS.operator, command: 'oncall override', allowed: true, result: 'ok' }]);
    const rows = await h.ctx.db.select().from(oncallOverrides);
    expect(rows).toMatchObject([{ userId: 'UDAVE', createdBy: USERS.operator }]);
    expect((await ask('who')).reply?.text).toMatch(/On call now: UDAVE \(override\); next: UBOB$/);
    await passOncallTime(h.ctx.db, 2 * HOUR); // the override is over
    expect((await ask('who')).reply?.text).toMatch(/On call now: UBOB; next: UCAROL$/);
  });

  it('takes "me" as the person asking', async () => {
    const { reply } = await ask('override me 30m', USERS.operator);
    expect(reply?.text).toMatch(/UOPERATOR1 is on call from .* \(override for 30m, set by UOPERATOR1\)/);
    await h.ctx.db.delete(oncallOverrides);
  });

  it('refuses an override from someone who is not an operator, and writes nothing', async () => {
    const { reply, log } = await ask('override <@UDAVE> 2h', USERS.reader);
    expect(reply?.text).toMatch(/not allowed to run `\/oncall override @user <duration> \| clear`: it needs the operator role/);
    expect(log).toMatchObject([{ actor: USERS.reader, allowed: false, result: 'refused' }]);
    expect(await h.ctx.db.select().from(oncallOverrides)).toHaveLength(0);
  });

  it('answers bad text with the usage and what is expected, and writes nothing', async () => {
    const cases: Array<[string, RegExp]> = [
      ['override <@UDAVE>', /takes a person and a duration, such as `\/oncall override @alice 2h`/],
      ['override <@UDAVE> forever', /"forever" is not a usable override length: expected a duration up to 30d/],
      ['override <@UDAVE> 45d', /up to 30d/],
      ['override alice 2h', /"alice" is not a Slack member id: expected one such as U012ABCDEF, or an @mention/],
      ['schedule soon', /optional number of weeks from 1 to 26/],
      ['who now', /takes no arguments, got "now"/],
      ['pager', /I don't know `\/oncall pager`/],
    ];
    for (const [words, expected] of cases) {
      const { reply, replies } = await ask(words, USERS.operator);
      expect(replies, words).toHaveLength(1);
      expect(String(reply?.text), words).toMatch(expected);
      expect(String(reply?.text), words).toContain('Usage: /oncall');
    }
    expect(await h.ctx.db.select().from(oncallOverrides)).toHaveLength(0);
  });

  it('refuses a person Slack does not know, and accepts with a warning when Slack cannot be asked', async () => {
    h.fake.on('users.info', (body) => (body.user === 'UNOPE'
      ? { body: { ok: false, error: 'user_not_found' } }
      : body.user === 'UGONE' ? { body: { ok: true, user: { id: 'UGONE', deleted: true } } } : { body: { ok: false, error: 'fatal_error' } }));
    const { reply } = await ask('override <@UNOPE> 2h', USERS.operator);
    expect(reply?.response_type).toBe('ephemeral');
    expect(reply?.text).toMatch(/Slack has no active user UNOPE \(user_not_found\): a page to them could not be delivered\. Nothing was changed\./);
    expect((await ask('override <@UGONE> 2h', USERS.operator)).reply?.text).toMatch(/Slack has no active user UGONE \(deactivated\)/);
    expect(await h.ctx.db.select().from(oncallOverrides)).toHaveLength(0);
    await expect(runCommand(oncallSetCommand, h.ctx, { id: 'cli:ops', source: 'cli' }, { members: 'UBOB,UNOPE' })).rejects.toThrow(/Slack has no active user UNOPE/);
    expect(h.fake.callsTo('users.info').map((c) => c.body.user)).toEqual(expect.arrayContaining(['UNOPE', 'UGONE']));

    const unsure = await ask('override <@UMAYBE> 1h', USERS.operator);
    expect(unsure.reply?.response_type).toBe('in_channel');
    expect(text(unsure.reply)).toContain('Could not ask Slack whether UMAYBE exists (fatal_error); accepted unchecked.');
    expect(await h.ctx.db.select().from(oncallOverrides)).toMatchObject([{ userId: 'UMAYBE' }]);

    const cleared = await ask('override clear', USERS.operator);
    expect(cleared.reply?.response_type).toBe('in_channel');
    expect(cleared.reply?.text).toMatch(/Overrides cleared by UOPERATOR1: UMAYBE; the rotation decides who is on call again/);
    expect(cleared.log).toMatchObject([{ command: 'oncall override clear', allowed: true, result: 'ok' }]);
    expect((await ask('who')).reply?.text).toMatch(/On call now: UBOB; next: UCAROL$/);
    expect((await ask('override clear', USERS.reader)).reply?.text).toMatch(/needs the operator role/);
    await h.ctx.db.delete(oncallOverrides);
  });

  it('does not add a second override when Slack retries the same command', async () => {
    const triggerId = 'trgoncallretry1';
    await ask('override <@UDAVE> 1h', USERS.operator, triggerId);
    await h.slash('/oncall', 'override <@UDAVE> 1h', { user: USERS.operator, triggerId, retryNum: 1, retryReason: 'http_timeout' });
    await h.idle();
    expect(await h.ctx.db.select().from(oncallOverrides)).toHaveLength(1);
  });
});
