// An acknowledge, resolve or silence that comes while the delivery worker is handing one of the
// group's messages to Slack, on PostgreSQL with the two on separate connections: the action never
// deadlocks with a parent refresh under way.
import { eq, sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acknowledgeAlert } from '../../../src/alerts/actions.js';
import { alertGroups } from '../../../src/db/schema/index.js';
import { usePostgresTestDb } from '../../support/db.js';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.js';
import { startTestSmtp, type TestSmtp } from '../../support/smtp.js';
import { ALERT_TABLES, ALERTS_CHANNEL, alertConfig, alertHarness, type AlertHarness } from '../../support/alert-fixtures.js';

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
async function drain(rounds = 10) {
  for (let i = 0; i < rounds; i += 1) {
    h.clock.advance(1_000);
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
    h.clock.advance(1_000);
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
