// An acknowledge, resolve or silence that comes while the delivery worker is handing one of the
// group's messages to Slack, on PostgreSQL with the two on separate connections: the action never
// deadlocks with a parent refresh under way, never goes ahead without the send lock (a page could
// then follow it out unsaid), and two actions at once each count what they themselves dropped.
import { and, eq, sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acknowledgeAlert, resolveAlert, silenceAlert } from '../../../src/alerts/actions.js';
import { AppError } from '../../../src/errors.js';
import { createOutboxAlertSink } from '../../../src/alerts/sink.js';
import { silentLogger } from '../../../src/logger.js';
import { alertDeliveries, alertEscalations, alertGroups } from '../../../src/db/schema/index.js';
import { usePostgresTestDb } from '../../support/db.js';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.js';
import { startTestSmtp, type TestSmtp } from '../../support/smtp.js';
import { ALERT_TABLES, ALERTS_CHANNEL, alertConfig, alertHarness, passDeliveryTime, type AlertHarness } from '../../support/alert-fixtures.js';

const database = usePostgresTestDb({ truncate: ALERT_TABLES });
let slack: FakeSlack;
let smtp: TestSmtp;
let h: AlertHarness;

beforeEach(async () => {
  slack = await startFakeSlack();
  smtp = await startTestSmtp({ user: 'alerts', pass: 'smtp-test-pass' });
  h = await alertHarness({
    database: database(),
    config: alertConfig(slack, { SMTP_URL: smtp.url, ALERT_EMAIL_TO: 'oncall@example.com', ALERT_EMAIL_FROM: 'ctb <ctb@example.com>' }),
  });
});
afterEach(async () => {
  await h?.close();
  await slack?.close();
  await smtp?.close();
});

interface Gate<T = void> { promise: Promise<T>; open(value: T): void }
function gate<T = void>(): Gate<T> {
  let open!: (value: T) => void;
  const promise = new Promise<T>((r) => (open = r));
  return { promise, open };
}

const critical = () => h.sink.record({ source: 'engine', severity: 'critical', title: 'engine loop stopped', fingerprint: 'G' });
const parents = () => slack.callsTo('chat.postMessage').filter((c) => c.body.channel === ALERTS_CHANNEL && !c.body.thread_ts);
const group = async (id: number) => (await database().db.select().from(alertGroups).where(eq(alertGroups.id, id)))[0]!;
const notes = async () => (await database().db.select().from(alertDeliveries).where(eq(alertDeliveries.kind, 'slack_thread_note')))
  .map((d) => String(d.payload.text));
async function drain(rounds = 10) {
  for (let i = 0; i < rounds; i += 1) {
    await passDeliveryTime(database().db, h.clock, 1_000);
    await h.runtime.delivery.tick();
  }
}

let tsSeq = 0;
/**
 * Slack answers at once, except the first chat.postMessage that `hold` picks: Slack has it, and
 * answers only once the test opens the returned gate. `held` resolves with its body when it arrives.
 */
function holdFirst(hold: (body: Record<string, unknown>) => boolean) {
  const held = gate<Record<string, unknown>>();
  const answer = gate();
  let holding = false;
  slack.on('chat.postMessage', async (body) => {
    if (!holding && hold(body)) {
      holding = true;
      held.open(body);
      await answer.promise;
    }
    return { body: { ok: true, channel: body.channel, ts: `1800000000.${String(++tsSeq).padStart(6, '0')}` } };
  });
  return { held: held.promise, answer: () => answer.open(undefined) };
}

/** How many backends of this test's database are waiting for a lock. */
async function lockWaiters(): Promise<number> {
  const rows = await database().db.execute(sql`
    select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`);
  return (Array.isArray(rows) ? rows : (rows as { rows: unknown[] }).rows).length;
}

/** Resolves once `p` has settled or at least `n` backends wait for a lock, whichever comes first. */
async function settledOrLockWaiters(p: Promise<unknown>, n: number): Promise<void> {
  let settled = false;
  void p.then(() => (settled = true), () => (settled = true));
  while (!settled && (await lockWaiters()) < n) await new Promise((r) => setTimeout(r, 20));
}

describe('an action while the parent message is being posted', () => {
  it('an acknowledge from another connection neither deadlocks with the refresh nor makes a second parent message', async () => {
    const slackCall = holdFirst((body) => body.channel === ALERTS_CHANNEL && !body.thread_ts);
    const { groupId } = await critical();
    await passDeliveryTime(database().db, h.clock, 1_000);
    const worker = h.runtime.delivery.tick(); // locks the group's slack_sync and posts the parent
    await slackCall.held;

    const ack = acknowledgeAlert({ db: database().db, clock: h.clock, groupId, actor: 'UAPPROVER1' });
    await settledOrLockWaiters(ack, 1);
    slackCall.answer(); // the worker now records the parent's ts on the group row
    const [workerDone, ackDone] = await Promise.allSettled([worker, ack]);

    expect(ackDone.status, ackDone.status === 'rejected' ? String(ackDone.reason) : '').toBe('fulfilled');
    expect(workerDone.status, workerDone.status === 'rejected' ? String(workerDone.reason) : '').toBe('fulfilled');
    await drain();
    expect(parents()).toHaveLength(1);
    const g = await group(groupId);
    expect(g.status).toBe('acknowledged');
    expect(g.slackTs).not.toBeNull();
    expect(g.reportedVersion).toBe(g.version); // the refresh caught up with the acknowledge
    const updates = slack.callsTo('chat.update').filter((c) => c.body.ts === g.slackTs);
    expect(updates.length).toBeGreaterThan(0);
    expect(JSON.stringify(updates.at(-1)!.body)).toContain('Acknowledged');
  });
});

describe('a send still under way when the action has waited long enough', () => {
  const cases: Array<[string, (body: Record<string, unknown>) => boolean, (target: string) => string]> = [
    ['a page by DM', (body) => String(body.channel).startsWith('U'), (target) => `the page to <@${target}>, being sent right now,`],
    ['a "Paged …" line in the thread', (body) => Boolean(body.thread_ts) && String(body.text).includes(':pager:'), () => 'a message in its Slack thread, being sent right now,'],
  ];
  it.each(cases)('a resolve that cannot wait out %s changes nothing, says to try again, and no page follows the resolve out', async (_what, hold, named) => {
    const { groupId } = await critical();
    await drain(1); // the parent message
    const slackCall = holdFirst(hold);
    const statusAtSlack: string[] = [];
    await h.runtime.escalation.tick(); // pages both approvers: DMs and email ("Paged …" lines once delivered)
    await passDeliveryTime(database().db, h.clock, 1_000);
    let worker = h.runtime.delivery.tick();
    // A "Paged …" line is queued as its DM is delivered: the next tick sends it.
    const body = await Promise.race([slackCall.held, worker.then(async () => {
      await passDeliveryTime(database().db, h.clock, 1_000);
      worker = h.runtime.delivery.tick();
      return slackCall.held;
    })]);

    const first = await resolveAlert({ db: database().db, clock: h.clock, groupId, actor: 'cli:op', sendWaitMs: 300 }).then(
      () => undefined, (err: unknown) => err);
    expect(first).toBeInstanceOf(AppError);
    expect(first).toMatchObject({ kind: 'retryable', code: 'alert_send_under_way' });
    expect((first as AppError).message).toBe(
      `Alert group ${groupId} was not resolved: ${named(String(body.channel))} had not finished within 300ms. Nothing was changed.`);
    expect((first as AppError).hint).toBe('Try again in a moment.');
    expect(await group(groupId)).toMatchObject({ status: 'open', resolvedBy: null });
    const [esc] = await database().db.select().from(alertEscalations).where(eq(alertEscalations.groupId, groupId));
    expect(esc!.status).toBe('active');
    expect((await notes()).some((t) => t.includes('Resolved by'))).toBe(false);

    // Every page Slack gets from here on is checked against the group as Slack gets it (a reply
    // under a page already delivered, saying it was resolved, is no page).
    slack.on('chat.postMessage', async (b) => {
      if ((String(b.channel).startsWith('U') && !b.thread_ts) || String(b.text).includes(':pager:')) statusAtSlack.push((await group(groupId)).status);
      return { body: { ok: true, channel: b.channel, ts: `1800000001.${String(++tsSeq).padStart(6, '0')}` } };
    });
    slackCall.answer();
    await worker;
    await resolveAlert({ db: database().db, clock: h.clock, groupId, actor: 'cli:op' });
    await drain(20);
    expect(await group(groupId)).toMatchObject({ status: 'resolved', resolvedBy: 'cli:op' });
    expect(statusAtSlack.every((s) => s === 'open')).toBe(true); // none reached Slack after the resolve
    const pending = await database().db.select().from(alertDeliveries)
      .where(and(eq(alertDeliveries.groupId, groupId), eq(alertDeliveries.status, 'pending')));
    expect(pending).toEqual([]);
  });
});

/**
 * Another writer of the group (a repeat of the alert being recorded) holds its row; a silence then
 * takes the group's send lock and waits for that row. `letGo` ends the writer's transaction.
 */
async function silenceBehindAGroupWriter(groupId: number) {
  const rowHeld = gate();
  const letGo = gate();
  const writer = database().db.transaction(async (tx) => {
    await tx.execute(sql`select id from alert_groups where id = ${groupId} for update`);
    rowHeld.open();
    await letGo.promise;
  });
  await rowHeld.promise;
  const silence = silenceAlert({ db: database().db, clock: h.clock, groupId, actor: 'cli:op', durationMs: 3_600_000 });
  await settledOrLockWaiters(silence, 1); // holds the send lock, waits for the group row
  return { writer, letGo, silence };
}

describe('two actions on one group at once', () => {
  it('the silence counts every queued page it dropped, though an acknowledge was looking for sends under way meanwhile', async () => {
    const { groupId } = await critical();
    await h.runtime.escalation.tick(); // queues 2 DMs and 1 email (each DM's "Paged …" line waits for its delivery)
    const { writer, letGo, silence } = await silenceBehindAGroupWriter(groupId);
    const ack = acknowledgeAlert({ db: database().db, clock: h.clock, groupId, actor: 'UAPPROVER1' });
    await settledOrLockWaiters(ack, 2); // has looked for sends under way, waits for the silence's send lock
    letGo.open();
    await writer;
    await Promise.all([silence, ack]);

    const silenced = (await notes()).find((t) => t.includes(':mute:'));
    expect(silenced).toContain('3 queued page messages dropped.');
    const cancelled = await database().db.select().from(alertDeliveries)
      .where(and(eq(alertDeliveries.groupId, groupId), eq(alertDeliveries.status, 'cancelled')));
    expect(cancelled.map((r) => r.kind).sort()).toEqual(['email', 'slack_dm', 'slack_dm']);
    expect(cancelled.every((r) => r.cancelledReason?.startsWith('group silenced by cli:op until '))).toBe(true);
    expect(await group(groupId)).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'UAPPROVER1' });
  });

  it('an action that cannot wait out another one on the group changes nothing and says what held it', async () => {
    const { groupId } = await critical();
    const { writer, letGo, silence } = await silenceBehindAGroupWriter(groupId);
    const resolved = await resolveAlert({ db: database().db, clock: h.clock, groupId, actor: 'UAPPROVER1', sendWaitMs: 300 }).then(
      () => undefined, (err: unknown) => err);
    letGo.open();
    await writer;
    await silence;

    expect(resolved).toBeInstanceOf(AppError);
    expect((resolved as AppError).message).toBe(
      `Alert group ${groupId} was not resolved: another acknowledge, resolve or silence of it had not finished within 300ms. Nothing was changed.`);
    expect(await group(groupId)).toMatchObject({ status: 'open', resolvedBy: null, silencedBy: 'cli:op' });
  });
});

describe('a recovery while a send is under way', () => {
  it('resolves once the send is done instead of failing: a condition that cleared does not stay open and paging', async () => {
    const { groupId } = await critical();
    await drain(1); // the parent message
    const slackCall = holdFirst((body) => String(body.channel).startsWith('U'));
    await h.runtime.escalation.tick(); // pages: the first DM is held at Slack
    await passDeliveryTime(database().db, h.clock, 1_000);
    const worker = h.runtime.delivery.tick();
    await slackCall.held;
    const sink = createOutboxAlertSink({ db: database().db, clock: h.clock, logger: silentLogger(), config: h.ctx.config, resolveSendWaitMs: 300 });
    const resolving = sink.resolve!({ fingerprint: 'G', by: 'system:engine', note: 'engine loop running again' });
    // Two tries waited out the held DM (300 ms each) and neither changed anything.
    await new Promise((r) => setTimeout(r, 700));
    expect(await group(groupId)).toMatchObject({ status: 'open' });
    slackCall.answer();
    await worker;
    expect(await resolving).toBe(groupId);
    expect(await group(groupId)).toMatchObject({ status: 'resolved', resolvedBy: 'system:engine' });
  });
});
