// The Acknowledge / Resolve / Silence controls on alert messages, pressed through the real Bolt
// receiver with signed requests: the thread records who did it, the parent message is updated by
// the outbox, acknowledging stops the escalation, Slack retries and double clicks change nothing
// twice, and only the permitted people may act.
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { rotationOnDatabaseClock } from '../../support/oncall-fixtures.js';
import { createAlertRuntime, type AlertRuntime } from '../../../src/alerts/runtime.js';
import type { OutboxAlertSink } from '../../../src/alerts/sink.js';
import { ManualClock } from '../../../src/clock.js';
import { databaseNow } from '../../../src/db/queries/database-clock.js';
import { alertDeliveries, alertEscalations, alertGroups, alertPages } from '../../../src/db/schema/index.js';
import { parseAlertActionValue } from '../../../src/slack/listeners/alert-actions.js';
import { startSlackHarness, USERS, type SlackHarness } from '../../support/slack-harness.js';
import { passEscalationTime } from '../../support/alert-fixtures.js';

const ALERTS = 'C0ALERTS';
const MIN = 60_000;

describe('alert buttons in Slack', () => {
  let h: SlackHarness;
  let runtime: AlertRuntime;
  const clock = new ManualClock('2026-01-12T13:00:00Z');
  let n = 0;

  beforeAll(async () => {
    h = await startSlackHarness({ clock, env: { SLACK_ALERTS_CHANNEL: ALERTS, ESCALATION_ACK_SLA: '5m', ESCALATION_MAX_ROUNDS: '2' } });
    runtime = createAlertRuntime(h.ctx);
    // UALICE and UBOB carry the pager without being operators or approvers; UALICE's shift is the one
    // running at the database's now(), which decides who is paged.
    await rotationOnDatabaseClock(h.ctx.db, ['UALICE', 'UBOB'], { actor: 'cli:ops' });
  });
  afterAll(async () => {
    runtime?.close();
    await h?.close();
  });
  beforeEach(() => {
    n += 1;
  });

  /** Raises a critical alert, pages on-call and posts the parent; returns the group and the parent's ts. */
  async function criticalAlert() {
    const sink = h.ctx.alerts as OutboxAlertSink;
    const { groupId } = await sink.record({ source: 'exchange', severity: 'critical', title: `Kraken unreachable ${n}`, fingerprint: `kraken-${n}` });
    await runtime.escalation.tick();
    await drain();
    const [group] = await h.ctx.db.select().from(alertGroups).where(eq(alertGroups.id, groupId));
    expect(group!.slackTs).toBeTruthy();
    return { groupId, ts: group!.slackTs! };
  }

  /** Delivers until the channel's lane is empty (one message a second), at most 30 s. */
  async function drain() {
    for (let i = 0; i < 30; i += 1) {
      await passEscalationTime(h.ctx.db, clock, 1_000);
      await runtime.delivery.tick();
      const pending = await h.ctx.db.select().from(alertDeliveries)
        .where(and(eq(alertDeliveries.lane, `slack:${ALERTS}`), eq(alertDeliveries.status, 'pending')));
      if (pending.length === 0) return;
    }
  }

  async function press(input: { actionId: string; value?: string; user: string; ts: string; triggerId?: string; retryNum?: number; option?: string }) {
    const before = h.responses().length;
    const logBefore = (await h.commandLog()).length;
    const extra = input.option
      ? { actions: [{ action_id: input.actionId, block_id: 'alert_actions', type: 'static_select', selected_option: { text: { type: 'plain_text', text: input.option }, value: input.option }, action_ts: '1700000000.000300' }] }
      : undefined;
    const res = await h.action({
      actionId: input.actionId, user: input.user, channel: ALERTS, messageTs: input.ts,
      ...(input.value !== undefined ? { value: input.value } : {}),
      ...(input.triggerId ? { triggerId: input.triggerId } : {}),
      ...(input.retryNum ? { retryNum: input.retryNum, retryReason: 'http_timeout' } : {}),
      ...(extra ? { extra } : {}),
    });
    expect(res.status).toBe(200);
    await h.idle();
    return { replies: h.responses().slice(before), log: (await h.commandLog()).slice(logBefore) };
  }

  const group = async (id: number) => (await h.ctx.db.select().from(alertGroups).where(eq(alertGroups.id, id)))[0]!;
  const threadTexts = (ts: string) => h.fake.callsTo('chat.postMessage').filter((c) => c.body.thread_ts === ts).map((c) => String(c.body.text));
  const lastUpdate = (ts: string) => h.fake.callsTo('chat.update').filter((c) => c.body.ts === ts).at(-1);

  it('Acknowledge by the paged on-call person stops the escalation, records it in the thread and updates the parent', async () => {
    const { groupId, ts } = await criticalAlert();
    expect(threadTexts(ts).some((t) => t.includes('Paged <@UALICE>'))).toBe(true);

    const { replies, log } = await press({ actionId: 'alert_ack', value: String(groupId), user: 'UALICE', ts });
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatchObject({ response_type: 'ephemeral' });
    expect(String(replies[0]!.text)).toContain(`Acknowledged alert group ${groupId} (Kraken unreachable ${n}).`);
    expect(log).toMatchObject([{ source: 'slack', actor: 'UALICE', command: 'alerts ack', allowed: true, result: 'ok' }]);
    expect(await group(groupId)).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'UALICE' });
    const [esc] = await h.ctx.db.select().from(alertEscalations).where(eq(alertEscalations.groupId, groupId));
    expect(esc).toMatchObject({ status: 'stopped', stoppedReason: 'acknowledged by UALICE' });

    await drain();
    expect(threadTexts(ts).filter((t) => t.includes('Acknowledged by <@UALICE>'))).toHaveLength(1);
    const update = JSON.stringify(lastUpdate(ts)?.body.blocks);
    expect(update).toContain('Acknowledged by <@UALICE>');
    expect(update).not.toContain('alert_ack'); // the button is gone; Resolve and Silence remain
    expect(update).toContain('alert_resolve');

    // Past every ACK SLA: nobody else is paged.
    for (let i = 0; i < 4; i += 1) {
      await passEscalationTime(h.ctx.db, clock, 5 * MIN);
      await runtime.escalation.tick();
    }
    const pages = await h.ctx.db.select().from(alertPages).where(eq(alertPages.groupId, groupId));
    expect(pages.map((p) => p.userId)).toEqual(['UALICE']);
  });

  it('Acknowledge on a test alert whose escalation already ran its ladder says it had already finished', async () => {
    const sink = h.ctx.alerts as OutboxAlertSink;
    const { groupId } = await sink.record({ source: 'test', severity: 'critical', title: `Test alert ${n}`, fingerprint: `test:critical:${n}` });
    for (let i = 0; i < 4; i += 1) {
      await runtime.escalation.tick();
      await passEscalationTime(h.ctx.db, clock, 5 * MIN);
    }
    await drain();
    const [esc] = await h.ctx.db.select().from(alertEscalations).where(eq(alertEscalations.groupId, groupId));
    expect(esc).toMatchObject({ status: 'exhausted' });
    const ts = (await group(groupId)).slackTs!;

    const { replies } = await press({ actionId: 'alert_ack', value: String(groupId), user: 'UALICE', ts });
    const reply = JSON.stringify(replies[0]);
    expect(reply).toContain('The escalation had already finished (step 3 of round 1');
    expect(reply).not.toContain('Escalation stopped');
    await drain();
    expect(threadTexts(ts).find((t) => t.includes('Acknowledged by <@UALICE>'))).toMatch(/The escalation had already finished \(step 3 of round 1, at .*\); nobody was being paged\./);
  });

  it('applies a Slack retry of the same click once, and answers a second click with "already acknowledged"', async () => {
    const { groupId, ts } = await criticalAlert();
    const triggerId = `trgack${n}`;
    await press({ actionId: 'alert_ack', value: String(groupId), user: USERS.operator, ts, triggerId });
    const retry = await press({ actionId: 'alert_ack', value: String(groupId), user: USERS.operator, ts, triggerId, retryNum: 1 });
    expect(retry.replies).toHaveLength(0);
    expect(retry.log).toHaveLength(0);
    const again = await press({ actionId: 'alert_ack', value: String(groupId), user: USERS.approver1, ts });
    expect(String(again.replies[0]!.text)).toContain(`Alert group ${groupId} (Kraken unreachable ${n}) was already acknowledged by UOPERATOR1; nothing changed.`);
    await drain();
    expect(threadTexts(ts).filter((t) => t.includes('Acknowledged by'))).toHaveLength(1);
    expect(await group(groupId)).toMatchObject({ acknowledgedBy: USERS.operator, version: 2 });
  });

  it('answers each of several Acknowledge presses made before the first was applied once, and acknowledges once', async () => {
    const { groupId, ts } = await criticalAlert();
    const before = h.responses().length;
    const presses = [USERS.operator, USERS.operator, USERS.approver1].map((user, i) =>
      h.action({ actionId: 'alert_ack', value: String(groupId), user, channel: ALERTS, messageTs: ts, triggerId: `trgmany${n}-${i}` }));
    expect((await Promise.all(presses)).map((r) => r.status)).toEqual([200, 200, 200]);
    await h.idle();
    const replies = h.responses().slice(before).map((r) => String(r.text));
    expect(replies).toHaveLength(3);
    expect(replies.filter((t) => t.includes('Acknowledged alert group'))).toHaveLength(1);
    expect(replies.filter((t) => t.includes('was already acknowledged'))).toHaveLength(2);
    await drain();
    expect(threadTexts(ts).filter((t) => t.includes('Acknowledged by'))).toHaveLength(1);
    expect(await group(groupId)).toMatchObject({ status: 'acknowledged', version: 2 });
  });

  it('takes a Silence pressed again with the same choice as the same silence: one thread line, the second press told so', async () => {
    const { groupId, ts } = await criticalAlert();
    const first = await press({ actionId: 'alert_silence', user: USERS.approver2, ts, option: `${groupId}:1h` });
    expect(String(first.replies[0]!.text)).toContain(`Silenced alert group ${groupId}`);
    const until = (await group(groupId)).silencedUntil!;
    await passEscalationTime(h.ctx.db, clock, 2_000); // pressed again while Slack was slow to show the first
    const again = await press({ actionId: 'alert_silence', user: USERS.approver2, ts, option: `${groupId}:1h` });
    expect(String(again.replies[0]!.text)).toContain(`was already silenced by ${USERS.approver2} until`);
    expect(String(again.replies[0]!.text)).toContain('nothing changed');
    // The same silence: its end as set (two seconds nearer the database's now(), as time passed).
    expect(await group(groupId)).toMatchObject({ silencedUntil: new Date(until.getTime() - 2_000), version: 2 });
    await drain();
    expect(threadTexts(ts).filter((t) => t.includes(':mute: Silenced for 1h'))).toHaveLength(1);
    expect(await group(groupId)).toMatchObject({ version: 2 });
    // A different choice is a new decision: a longer silence is applied and said.
    const longer = await press({ actionId: 'alert_silence', user: USERS.approver2, ts, option: `${groupId}:4h` });
    expect(String(longer.replies[0]!.text)).toContain(`Silenced alert group ${groupId}`);
    await drain();
    expect(threadTexts(ts).filter((t) => t.includes(':mute: Silenced for 4h'))).toHaveLength(1);
  });

  it('refuses people who are neither operators, approvers nor on call, and changes nothing', async () => {
    const { groupId, ts } = await criticalAlert();
    for (const [actionId, extra] of [['alert_ack', {}], ['alert_resolve', {}], ['alert_silence', { option: `${groupId}:1h` }]] as const) {
      const { replies, log } = await press({ actionId, value: String(groupId), user: USERS.reader, ts, ...extra });
      // Refused once, at the command door: one reply, one trail row (with the reason), no second check.
      expect(replies).toHaveLength(1);
      expect(log).toHaveLength(1);
      expect(log[0]!.details).toMatchObject({ reason: expect.stringMatching(/^Only .* may (acknowledge|resolve|silence) alerts\.$/) });
      expect(String(replies[0]!.text)).toMatch(/^(\[PAPER\] )?:no_entry: Only .* may (acknowledge|resolve|silence) alerts\. Nothing was done\./);
      expect(log).toMatchObject([{ actor: USERS.reader, allowed: false, result: 'refused' }]);
    }
    // A rotation member may acknowledge and resolve, but silencing is for operators and approvers.
    const silence = await press({ actionId: 'alert_silence', user: 'UBOB', ts, option: `${groupId}:4h` });
    expect(String(silence.replies[0]!.text)).toContain('Only operators and approvers (silencing stops the paging) may silence alerts.');
    expect(await group(groupId)).toMatchObject({ status: 'open', silencedUntil: null, version: 1 });
  });

  it('Silence for a chosen duration stops the paging and says so in the thread', async () => {
    const { groupId, ts } = await criticalAlert();
    const before = await databaseNow(h.ctx.db);
    const { replies, log } = await press({ actionId: 'alert_silence', user: USERS.approver2, ts, option: `${groupId}:4h` });
    const after = await databaseNow(h.ctx.db);
    expect(String(replies[0]!.text)).toContain(`Silenced alert group ${groupId}`);
    expect(log).toMatchObject([{ actor: USERS.approver2, command: 'alerts silence', result: 'ok' }]);
    const g = await group(groupId);
    expect(g.silencedBy).toBe(USERS.approver2);
    // Four hours after the database's now() as it silenced (whatever this process's clock reads).
    expect(g.silencedUntil!.getTime()).toBeGreaterThanOrEqual(before.getTime() + 4 * 60 * MIN);
    expect(g.silencedUntil!.getTime()).toBeLessThanOrEqual(after.getTime() + 1 + 4 * 60 * MIN);
    await drain();
    expect(threadTexts(ts).some((t) => t.includes(`Silenced for 4h by <@${USERS.approver2}>`))).toBe(true);
    await passEscalationTime(h.ctx.db, clock, 10 * MIN);
    await runtime.escalation.tick();
    expect((await h.ctx.db.select().from(alertPages).where(eq(alertPages.groupId, groupId))).map((p) => p.userId)).toEqual(['UALICE']);
  });

  it('Resolve closes the group: the parent loses its controls and the thread says who resolved it', async () => {
    const { groupId, ts } = await criticalAlert();
    const { replies } = await press({ actionId: 'alert_resolve', value: String(groupId), user: 'UBOB', ts });
    expect(String(replies[0]!.text)).toContain(`Resolved alert group ${groupId}`);
    expect(await group(groupId)).toMatchObject({ status: 'resolved', resolvedBy: 'UBOB' });
    await drain();
    expect(threadTexts(ts).some((t) => t.includes('Resolved by <@UBOB>'))).toBe(true);
    const update = JSON.stringify(lastUpdate(ts)?.body.blocks);
    expect(update).toContain('Resolved by <@UBOB>');
    expect(update).not.toContain('alert_resolve');
    // Acknowledging a resolved alert says so instead of reopening it.
    const late = await press({ actionId: 'alert_ack', value: String(groupId), user: USERS.operator, ts });
    expect(String(late.replies[0]!.text)).toContain(`Alert group ${groupId} is already resolved by UBOB`);
  });

  it('puts the pressed alert ahead of a storm backlog on the channel: its thread line, then its parent', async () => {
    const { groupId, ts } = await criticalAlert();
    const sink = h.ctx.alerts as OutboxAlertSink;
    for (let k = 0; k < 5; k += 1) {
      await sink.record({ source: 'exchange', severity: 'critical', title: `storm ${n}.${k}`, fingerprint: `storm-${n}-${k}` });
    }
    await press({ actionId: 'alert_ack', value: String(groupId), user: USERS.operator, ts });
    const before = h.fake.calls.length;
    for (let i = 0; i < 2; i += 1) {
      await passEscalationTime(h.ctx.db, clock, 1_000);
      await runtime.delivery.tick();
    }
    const sent = h.fake.calls.slice(before).filter((c) => c.body.channel === ALERTS);
    expect(sent).toHaveLength(2); // one a second on the channel, backlog or not
    expect(sent[0]).toMatchObject({ method: 'chat.postMessage', body: { thread_ts: ts } });
    expect(String(sent[0]!.body.text)).toContain(`Acknowledged by <@${USERS.operator}>`);
    expect(sent[1]).toMatchObject({ method: 'chat.update', body: { ts } });
    expect(JSON.stringify(sent[1]!.body.blocks)).toContain(`Acknowledged by <@${USERS.operator}>`);
    await drain(); // the storm's parents follow
  });

  it('answers a control carrying something unexpected with what was expected', async () => {
    const { ts } = await criticalAlert();
    const { replies } = await press({ actionId: 'alert_silence', user: USERS.operator, ts, option: '12:forever' });
    expect(String(replies[0]!.text)).toContain('expected "<group>:<30m|1h|4h|24h>"');
    expect(() => parseAlertActionValue('ack', { value: 'abc' })).toThrow(/expected an alert group number/);
    expect(parseAlertActionValue('silence', { selected_option: { value: '42:24h' } })).toEqual({ group: 42, duration: '24h' });
  });
});
