import { asc, eq, sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acknowledgeAlert, resolveAlert, silenceAlert } from '../../../src/alerts/actions.js';
import { listOverdueCriticals, type OverdueCritical } from '../../../src/alerts/overdue.js';
import { Writable } from 'node:stream';
import { ManualClock } from '../../../src/clock.js';
import { execute } from '../../../src/db/client.js';
import { createLogger } from '../../../src/logger.js';
import { ctbMetrics } from '../../../src/metrics/instruments.js';
import {
  alertDeliveries, alertEscalations, alertEvents, alertGroups, alertPages, oncallOverrides, oncallRotations,
} from '../../../src/db/schema/index.js';
import { usePostgresTestDb } from '../../support/db.js';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.js';
import { passOncallTime, rotationOnDatabaseClock } from '../../support/oncall-fixtures.js';
import { ALERT_TABLES, ALERTS_CHANNEL, alertConfig, alertHarness, passEscalationTime, type AlertHarness } from '../../support/alert-fixtures.js';

const MIN = 60_000;
const database = usePostgresTestDb({ truncate: ALERT_TABLES });
let slack: FakeSlack;
let h: AlertHarness;

beforeEach(async () => {
  slack = await startFakeSlack();
  for (const t of [alertDeliveries, alertEvents, alertGroups, alertEscalations, alertPages, oncallRotations, oncallOverrides]) {
    }
  h = await alertHarness({ database: database(), config: alertConfig(slack) });
});
afterEach(async () => {
  await h?.close();
  await slack?.close();
});

async function rotation(members: string[]) {
  // Who is on call is judged at the database's now(): the shift that began 3 hours before it is running.
  await rotationOnDatabaseClock(database().db, members);
}

const pages = async () =>
  (await database().db.select().from(alertPages).orderBy(asc(alertPages.id))).map((p) => `${p.round}.${p.step}:${p.userId}`);

const critical = (fingerprint = 'engine-down') =>
  h.sink.record({ source: 'engine', severity: 'critical', title: 'engine loop stopped', fingerprint });

describe('escalation of critical alerts', () => {
  it('walks the ladder on-call → next → all approvers every ACK SLA, repeats for the round limit, then stops', async () => {
    await rotation(['UALICE', 'UBOB', 'UCAROL']);
    const { groupId } = await critical();
    // Each step's pages are delivered within seconds; its ACK SLA counts from that delivery.
    const deliver = async () => {
      for (let i = 0; i < 5; i += 1) {
        await passEscalationTime(h.ctx.db, h.clock, 1_000);
        await h.runtime.delivery.tick();
      }
    };
    expect(await h.runtime.escalation.tick()).toBe(1);
    expect(await pages()).toEqual(['1.0:UALICE']);
    expect(await h.runtime.escalation.tick()).toBe(0); // not due again before the SLA
    await deliver();
    await passEscalationTime(h.ctx.db, h.clock, 4 * MIN);
    expect(await h.runtime.escalation.tick()).toBe(0);
    await passEscalationTime(h.ctx.db, h.clock, 1 * MIN);
    await h.runtime.escalation.tick();
    expect(await pages()).toEqual(['1.0:UALICE', '1.1:UBOB']);
    await deliver();
    await passEscalationTime(h.ctx.db, h.clock, 5 * MIN);
    await h.runtime.escalation.tick();
    expect((await pages()).slice(2)).toEqual(['1.2:UAPPROVER1', '1.2:UAPPROVER2']);
    for (let i = 0; i < 4; i += 1) {
      await deliver();
      await passEscalationTime(h.ctx.db, h.clock, 5 * MIN);
      await h.runtime.escalation.tick();
    }
    expect((await pages()).slice(4)).toEqual(['2.0:UALICE', '2.1:UBOB', '2.2:UAPPROVER1', '2.2:UAPPROVER2']);
    await deliver();
    await passEscalationTime(h.ctx.db, h.clock, 5 * MIN);
    await h.runtime.escalation.tick();
    const [esc] = await database().db.select().from(alertEscalations).where(eq(alertEscalations.groupId, groupId));
    expect(esc).toMatchObject({ status: 'exhausted' });
    // /metrics counts each rung fired (two rounds of three).
    const fired = (await ctbMetrics(h.ctx.metrics).escalations.get()).values.map((v) => [v.labels.step, v.value]);
    expect(fired).toEqual(expect.arrayContaining([['oncall', 2], ['next', 2], ['approvers', 2]]));

    // The thread is the timeline: each page delivered is a mention in the thread, and a DM to the person paged.
    for (let i = 0; i < 30; i += 1) {
      await passEscalationTime(h.ctx.db, h.clock, 1_000);
      await h.runtime.delivery.tick();
    }
    const [parent] = slack.callsTo('chat.postMessage').filter((c) => c.body.channel === ALERTS_CHANNEL && !c.body.thread_ts);
    const [group] = await database().db.select().from(alertGroups);
    const thread = slack.callsTo('chat.postMessage').filter((c) => c.body.thread_ts === group!.slackTs).map((c) => String(c.body.text));
    expect(parent).toBeDefined();
    expect(thread.slice(0, 4)).toEqual([
      expect.stringMatching(/Paged <@UALICE> \(on-call, round 1\/2, step 1\/3/),
      expect.stringMatching(/Paged <@UBOB> \(next in rotation/),
      expect.stringMatching(/Paged <@UAPPROVER[12]> \(all approvers/),
      expect.stringMatching(/Paged <@UAPPROVER[12]> \(all approvers/),
    ]);
    expect(thread.filter((t) => t.includes('could NOT be delivered'))).toEqual([]);
    expect(thread.at(-1)).toMatch(/Escalation exhausted after 2 round/);
    const dms = slack.callsTo('chat.postMessage').filter((c) => String(c.body.channel).startsWith('U')).map((c) => c.body.channel);
    expect(dms.sort()).toEqual(['UALICE', 'UALICE', 'UAPPROVER1', 'UAPPROVER1', 'UAPPROVER2', 'UAPPROVER2', 'UBOB', 'UBOB']);
  });

  it('after a handoff mid-round, "next" pages the incoming on-call before anyone further down', async () => {
    // The handoff is 1 to 2 minutes after the database's now(); Alice's week ends then and Bob's begins.
    await rotationOnDatabaseClock(database().db, ['UALICE', 'UBOB', 'UCAROL'], { handoffInMs: 2 * MIN });
    await critical();
    await h.runtime.escalation.tick();
    expect(await pages()).toEqual(['1.0:UALICE']);
    await passEscalationTime(h.ctx.db, h.clock, 5 * MIN);
    await passOncallTime(h.ctx.db, 5 * MIN); // Bob on call for 3 to 4 minutes
    await h.runtime.escalation.tick();
    expect(await pages()).toEqual(['1.0:UALICE', '1.1:UBOB']);
    const [page] = (await database().db.select().from(alertPages).orderBy(asc(alertPages.id))).slice(1);
    expect(page!.reason).toMatch(/on-call now, not yet paged this round/);
    // Round 2 starts from whoever is on call now, then the next one after them.
    for (let i = 0; i < 3; i += 1) {
      await passEscalationTime(h.ctx.db, h.clock, 5 * MIN);
      await h.runtime.escalation.tick();
    }
    expect((await pages()).slice(4)).toEqual(['2.0:UBOB', '2.1:UCAROL']);
  });

  it('with someone outside the rotation holding an override, "next" pages the scheduled member', async () => {
    await rotation(['UALICE', 'UBOB', 'UCAROL']);
    await execute(database().db, sql`insert into oncall_overrides (user_id, starts_at, ends_at, created_by, created_at)
      values ('UDAVE', now() - interval '1 hour', now() + interval '6 hours', 'test', now() - interval '1 hour')`);
    await critical();
    await h.runtime.escalation.tick();
    await passEscalationTime(h.ctx.db, h.clock, 5 * MIN);
    await h.runtime.escalation.tick();
    expect(await pages()).toEqual(['1.0:UDAVE', '1.1:UALICE']);
  });

  it('pages an override that began mid-round on the "next" rung, and never pages anyone twice in a round', async () => {
    await rotation(['UALICE', 'UBOB']);
    await critical();
    await h.runtime.escalation.tick();
    // Begins a minute after the first page, on the database's clock; 5 minutes pass.
    await execute(database().db, sql`insert into oncall_overrides (user_id, starts_at, ends_at, created_by, created_at)
      values ('UDAVE', now() + interval '1 minute', now() + interval '6 hours', 'test', now())`);
    await passEscalationTime(h.ctx.db, h.clock, 5 * MIN);
    await passOncallTime(h.ctx.db, 5 * MIN);
    await h.runtime.escalation.tick();
    expect(await pages()).toEqual(['1.0:UALICE', '1.1:UDAVE']);
  });

  it('never pages anyone twice in one round when rotation members are also approvers', async () => {
    await rotation(['UAPPROVER1', 'UAPPROVER2']);
    await critical();
    for (let i = 0; i < 3; i += 1) {
      await h.runtime.escalation.tick();
      await passEscalationTime(h.ctx.db, h.clock, 5 * MIN);
    }
    // Round 1: on-call, next; the approvers' rung finds both already paged this round and pages nobody.
    expect(await pages()).toEqual(['1.0:UAPPROVER1', '1.1:UAPPROVER2']);
    const notes = (await database().db.select().from(alertDeliveries).where(eq(alertDeliveries.kind, 'slack_thread_note')).orderBy(asc(alertDeliveries.id)))
      .map((n) => String(n.payload.text));
    expect(notes.at(-1)).toMatch(/Nobody paged at all approvers, round 1\/2, step 3\/3: every approver was already paged this round/);
    // With a third approver outside the rotation, that rung pages only them.
    await h.close();
    h = await alertHarness({ database: database(), config: alertConfig(slack, { SLACK_APPROVERS: 'UAPPROVER1,UAPPROVER2,UAPPROVER3' }) });
    await h.runtime.escalation.tick();
    await passEscalationTime(h.ctx.db, h.clock, 5 * MIN);
    await h.runtime.escalation.tick();
    await passEscalationTime(h.ctx.db, h.clock, 5 * MIN);
    await h.runtime.escalation.tick();
    expect((await pages()).slice(2)).toEqual(['2.0:UAPPROVER1', '2.1:UAPPROVER2', '2.2:UAPPROVER3']);
  });

  it('a page Slack refuses for good fails at once, says so in the thread, and the escalation moves on', async () => {
    slack.on('chat.postMessage', (body) =>
      body.channel === 'UNOPE'
        ? { body: { ok: false, error: 'user_not_found' } }
        : { body: { ok: true, channel: body.channel, ts: `${Date.now()}.${Math.floor(Math.random() * 1e6)}` } });
    await rotation(['UNOPE', 'UBOB']);
    const { groupId } = await critical();
    await h.runtime.escalation.tick();
    for (let i = 0; i < 10; i += 1) {
      await passEscalationTime(h.ctx.db, h.clock, 1_000);
      await h.runtime.delivery.tick();
    }
    const dms = await database().db.select().from(alertDeliveries).where(eq(alertDeliveries.target, 'UNOPE'));
    expect(dms).toMatchObject([{ kind: 'slack_dm', status: 'failed', attempts: 1, lastError: 'slack refused: user_not_found' }]);
    expect(slack.callsTo('chat.postMessage').filter((c) => c.body.channel === 'UNOPE')).toHaveLength(1);
    // Well before the ACK SLA, the next step is due and pages Bob.
    const [esc] = await execute<{ due: boolean }>(database().db, sql`select due_at <= now() as due from alert_escalations where group_id = ${groupId}`);
    expect(esc!.due, 'due on the database clock').toBe(true);
    await h.runtime.escalation.tick();
    expect(await pages()).toEqual(['1.0:UNOPE', '1.1:UBOB']);
    for (let i = 0; i < 10; i += 1) {
      await passEscalationTime(h.ctx.db, h.clock, 1_000);
      await h.runtime.delivery.tick();
    }
    const [group] = await database().db.select().from(alertGroups);
    const thread = slack.callsTo('chat.postMessage').filter((c) => c.body.thread_ts === group!.slackTs).map((c) => String(c.body.text));
    expect(thread).toEqual(expect.arrayContaining([
      expect.stringMatching(/The page could NOT be delivered to <@UNOPE> \(slack refused: user_not_found\); it is not retried\. Escalating to the next step now\./),
      expect.stringMatching(/Paged <@UBOB>/),
    ]));
    expect(slack.callsTo('chat.postMessage').filter((c) => c.body.channel === 'UBOB')).toHaveLength(1);
  });

  it('stops paging when the alert is acknowledged, and says who acked in the thread', async () => {
    await rotation(['UALICE', 'UBOB']);
    const { groupId } = await critical();
    await h.runtime.escalation.tick();
    await h.runtime.delivery.tick(); // the parent goes out open, with its Acknowledge button
    expect(JSON.stringify(slack.callsTo('chat.postMessage')[0]!.body.blocks)).toContain('alert_ack');
    await passEscalationTime(h.ctx.db, h.clock, 2 * MIN);
    const acked = await acknowledgeAlert({ db: database().db, clock: h.clock, groupId, actor: 'UALICE' });
    expect(acked).toMatchObject({ changed: true, group: { status: 'acknowledged', acknowledgedBy: 'UALICE' } });
    expect((await acknowledgeAlert({ db: database().db, clock: h.clock, groupId, actor: 'UALICE' })).changed).toBe(false);
    for (let i = 0; i < 6; i += 1) {
      await passEscalationTime(h.ctx.db, h.clock, 5 * MIN);
      await h.runtime.escalation.tick();
    }
    expect(await pages()).toEqual(['1.0:UALICE']);
    const [esc] = await database().db.select().from(alertEscalations);
    expect(esc).toMatchObject({ status: 'stopped', stoppedReason: 'acknowledged by UALICE' });
    // Another occurrence of the acknowledged alert is counted but pages nobody.
    await critical();
    await passEscalationTime(h.ctx.db, h.clock, 5 * MIN);
    await h.runtime.escalation.tick();
    expect(await pages()).toEqual(['1.0:UALICE']);

    for (let i = 0; i < 10; i += 1) {
      await passEscalationTime(h.ctx.db, h.clock, 1_000);
      await h.runtime.delivery.tick();
    }
    const texts = slack.callsTo('chat.postMessage').map((c) => String(c.body.text));
    expect(texts.some((t) => t.includes('Acknowledged by <@UALICE>'))).toBe(true);
    const lastUpdate = slack.callsTo('chat.update').at(-1);
    expect(JSON.stringify(lastUpdate?.body.blocks)).toContain('Acknowledged by <@UALICE>');
    expect(JSON.stringify(lastUpdate?.body.blocks)).not.toContain('alert_ack');
  });

  it('resolving closes the group: the next alert with that fingerprint opens a new thread and pages again', async () => {
    await rotation(['UALICE', 'UBOB']);
    const first = await critical();
    await h.runtime.escalation.tick();
    await resolveAlert({ db: database().db, clock: h.clock, groupId: first.groupId, actor: 'UBOB', note: 'restarted the engine' });
    await passEscalationTime(h.ctx.db, h.clock, 10 * MIN);
    await h.runtime.escalation.tick();
    expect(await pages()).toEqual(['1.0:UALICE']);
    const second = await critical();
    expect(second.groupId).not.toBe(first.groupId);
    await h.runtime.escalation.tick();
    expect(await pages()).toEqual(['1.0:UALICE', '1.0:UALICE']);
  });

  it('silencing stops the paging for the group', async () => {
    await rotation(['UALICE', 'UBOB']);
    const { groupId } = await critical();
    await h.runtime.escalation.tick();
    await silenceAlert({ db: database().db, clock: h.clock, groupId, actor: 'UALICE', durationMs: 60 * MIN });
    await passEscalationTime(h.ctx.db, h.clock, 5 * MIN);
    await h.runtime.escalation.tick();
    expect(await pages()).toEqual(['1.0:UALICE']);
  });

  it('pages the approvers when nobody is on call (empty rotation), never dropping the page', async () => {
    await critical();
    await h.runtime.escalation.tick();
    expect(await pages()).toEqual(['1.0:UAPPROVER1', '1.0:UAPPROVER2']);
    // Said in the thread once each page is delivered.
    const dms = await database().db.select().from(alertDeliveries).where(eq(alertDeliveries.kind, 'slack_dm'));
    expect(String(dms[0]!.payload.pagedNote)).toContain('nobody is on call: paging all approvers');
  });

  it('with nobody on call and no approvers configured, pages the whole channel', async () => {
    await h.close();
    h = await alertHarness({ database: database(), config: alertConfig(slack, { SLACK_APPROVERS: '' }) });
    await critical();
    await h.runtime.escalation.tick();
    const notes = await database().db.select().from(alertDeliveries).where(eq(alertDeliveries.kind, 'slack_thread_note'));
    expect(String(notes[0]!.payload.text)).toContain('<!channel>');
  });

  it('logs whom it paged and how, and with no Slack alerts channel and no email says nobody was paged (the demo)', async () => {
    const lines: Array<{ msg: string; users: string[]; email: boolean }> = [];
    const logTo = (config: ReturnType<typeof alertConfig>) => createLogger({
      config, stdout: false, files: false, destination: new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(String(chunk))); done(); } }),
    });
    const pageLines = () => lines.filter((l) => /paged/.test(l.msg)).map(({ msg, users, email }) => ({ msg, users, email }));
    await h.close();
    const withSlack = alertConfig(slack);
    h = await alertHarness({ database: database(), config: withSlack, logger: logTo(withSlack) });
    await critical('with-slack');
    await h.runtime.escalation.tick();
    expect(pageLines()).toEqual([{ msg: 'paged UAPPROVER1, UAPPROVER2 on Slack for [CRITICAL] engine loop stopped', users: ['UAPPROVER1', 'UAPPROVER2'], email: false }]);

    await h.close();
    lines.length = 0;
    const alone = alertConfig(null, { SLACK_ALERTS_CHANNEL: undefined, SLACK_APPROVERS: '' });
    h = await alertHarness({ database: database(), config: alone, logger: logTo(alone) });
    await critical('alone');
    await h.runtime.escalation.tick();
    expect(pageLines()).toEqual([{
      msg: 'nobody paged for [CRITICAL] engine loop stopped: no Slack alerts channel and no email configured (on-call, round 1/2, step 1/3)', users: [], email: false,
    }]);
  });

  it('two replicas ticking the same due timers page each person once', async () => {
    await rotation(['UALICE', 'UBOB']);
    const other = await alertHarness({ database: database(), config: alertConfig(slack), clock: h.clock });
    try {
      for (let i = 0; i < 8; i += 1) await critical(`fp-${i}`);
      const ran = await Promise.all([h.runtime.escalation.tick(), other.runtime.escalation.tick(), h.runtime.escalation.tick()]);
      expect(ran.reduce((a, b) => a + b, 0)).toBe(8);
      // The first pages are delivered (one a second to one person); each deadline counts from its delivery.
      for (let i = 0; i < 12; i += 1) {
        await passEscalationTime(h.ctx.db, h.clock, 1_000);
        await Promise.all([h.runtime.delivery.tick(), other.runtime.delivery.tick()]);
      }
      await passEscalationTime(h.ctx.db, h.clock, 5 * MIN);
      await Promise.all([h.runtime.escalation.tick(), other.runtime.escalation.tick()]);
      const all = await database().db.select().from(alertPages);
      expect(all).toHaveLength(16);
      const dms = await database().db.select().from(alertDeliveries).where(eq(alertDeliveries.kind, 'slack_dm'));
      expect(dms).toHaveLength(16);
      // And the two replicas' delivery workers send each DM once.
      for (let i = 0; i < 10; i += 1) {
        await passEscalationTime(h.ctx.db, h.clock, 1_000);
        await Promise.all([h.runtime.delivery.tick(), other.runtime.delivery.tick()]);
      }
      const sentDms = slack.callsTo('chat.postMessage').filter((c) => String(c.body.channel).startsWith('U'));
      expect(sentDms).toHaveLength(16);
    } finally {
      await other.close();
    }
  });

  it('reports an unacknowledged critical past its deadline once, to subscribers and to a poll', async () => {
    await rotation(['UALICE', 'UBOB']);
    const seen: OverdueCritical[] = [];
    h.sink.onOverdueCritical((a) => void seen.push(a as OverdueCritical));
    const { groupId } = await critical();
    await h.runtime.escalation.tick();
    expect(await listOverdueCriticals(database().db)).toEqual([]);
    await passEscalationTime(h.ctx.db, h.clock, 5 * MIN);
    await h.runtime.escalation.tick();
    await passEscalationTime(h.ctx.db, h.clock, 5 * MIN);
    await h.runtime.escalation.tick();
    expect(seen.map((a) => a.groupId)).toEqual([groupId]);
    expect((await listOverdueCriticals(database().db)).map((a) => a.groupId)).toEqual([groupId]);
    await acknowledgeAlert({ db: database().db, clock: h.clock, groupId, actor: 'UBOB' });
    expect(await listOverdueCriticals(database().db)).toEqual([]);
  });
});

describe('escalation across a restart', () => {
  it('keeps its timers in the database: a new process continues the ladder where the old one stopped', async () => {
    await rotation(['UALICE', 'UBOB']);
    await critical();
    await h.runtime.escalation.tick();
    await h.close();
    const clock = new ManualClock(new Date(h.clock.now().getTime() + 5 * MIN));
    await passEscalationTime(database().db, null, 5 * MIN);
    h = await alertHarness({ database: database(), config: alertConfig(slack), clock });
    await h.runtime.escalation.tick();
    expect(await pages()).toEqual(['1.0:UALICE', '1.1:UBOB']);
  });
});
