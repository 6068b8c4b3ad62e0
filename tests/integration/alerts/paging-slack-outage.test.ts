// Paging through a Slack outage (the new operator's walk, M1): the thread says "Paged X" only once
// X's page was delivered, the ACK deadline counts from that delivery, pages of one alert arrive in
// step order, and the ladder (with its overdue signal) still goes on when nobody can be reached,
// saying which step's page could not be delivered.
import { asc, eq } from 'drizzle-orm';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { alertEscalations, alertGroups } from '../../../src/db/schema/index.js';
import { usePostgresTestDb } from '../../support/db.js';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.js';
import { rotationOnDatabaseClock } from '../../support/oncall-fixtures.js';
import { ALERT_TABLES, alertConfig, alertHarness, passEscalationTime, type AlertHarness } from '../../support/alert-fixtures.js';

const database = usePostgresTestDb({ truncate: ALERT_TABLES });
let slack: FakeSlack;
let h: AlertHarness;
let slackDown = true;

beforeEach(async () => {
  slackDown = true;
  slack = await startFakeSlack();
  // Down: every post is refused with a passing error (retried, never given up by the outbox).
  slack.on('chat.postMessage', () => (slackDown ? { body: { ok: false, error: 'service_unavailable' } } : undefined));
  h = await alertHarness({ database: database(), config: alertConfig(slack, { ESCALATION_ACK_SLA: '30s', ESCALATION_MAX_ROUNDS: '1' }) });
});
afterEach(async () => {
  await h?.close();
  await slack?.close();
});

it('after a Slack outage, pages arrive in step order, "Paged" is said only when delivered, and the deadline counts from delivery', async () => {
  await rotationOnDatabaseClock(database().db, ['UALICE', 'UBOB']);
  const overdue: number[] = [];
  h.sink.onOverdueCritical((a) => void overdue.push(a.groupId));
  const { groupId } = await h.sink.record({ source: 'engine', severity: 'critical', title: 'engine loop stopped', fingerprint: 'engine-down' });
  let second = 0;
  let exhaustedAt: number | null = null;
  const deliveredAt = new Map<string, number>();
  const run = async (seconds: number) => {
    for (let i = 0; i < seconds; i += 1) {
      await h.runtime.escalation.tick();
      await h.runtime.delivery.tick();
      for (const m of slack.messages) if (m.channel.startsWith('U') && !deliveredAt.has(m.ts)) deliveredAt.set(m.ts, second);
      const [esc] = await database().db.select().from(alertEscalations).where(eq(alertEscalations.groupId, groupId));
      if (esc!.status === 'exhausted' && exhaustedAt === null) exhaustedAt = second;
      await passEscalationTime(h.ctx.db, h.clock, 1_000);
      second += 1;
    }
  };
  await run(40); // Slack down for 40 s: the on-call's page cannot go out
  slackDown = false;
  await run(150);

  // The ladder went on without the undelivered page, and the alert was overdue (auto-kill's signal).
  expect(overdue).toEqual([groupId]);
  expect(exhaustedAt).not.toBeNull();
  const dms = slack.messages.filter((m) => m.channel.startsWith('U')).map((m) => ({ to: m.channel, step: /step (\d)\/3/.exec(m.text)?.[1], at: deliveredAt.get(m.ts)! }));
  // In step order: no later step's page before an earlier step's.
  const steps = dms.map((d) => Number(d.step));
  expect(steps).toEqual([...steps].sort());
  expect(dms.map((d) => d.to)).not.toContain('UALICE');

  const [group] = await database().db.select().from(alertGroups);
  const thread = slack.messages.filter((m) => m.threadTs === group!.slackTs).map((m) => m.text);
  // "Paged X" only for X's delivered page; the undelivered one is said so.
  const paged = thread.filter((t) => t.includes(':pager: Paged')).map((t) => /<@(U\w+)>/.exec(t)?.[1]);
  expect(paged.sort()).toEqual(dms.map((d) => d.to).sort());
  expect(thread).toEqual(expect.arrayContaining([
    expect.stringMatching(/The page to <@UALICE> \(on-call, round 1\/1, step 1\/3\) could NOT be delivered before its deadline \(last error: slack refused: service_unavailable\); it is given up and the escalation goes on\./),
  ]));
  // Each next step came no sooner than 30 s after the previous step's page was delivered (the deadline
  // its note gave), less a few seconds: the database's clock also moves while the loop runs.
  const stepTimes = [...new Set(steps)].map((k) => dms.filter((d) => Number(d.step) === k).map((d) => d.at));
  for (let k = 1; k < stepTimes.length; k += 1) expect(Math.min(...stepTimes[k]!) - Math.max(...stepTimes[k - 1]!)).toBeGreaterThanOrEqual(25);
  expect(exhaustedAt! - Math.max(...dms.map((d) => d.at))).toBeGreaterThanOrEqual(25);
  expect(await database().db.select().from(alertEscalations).orderBy(asc(alertEscalations.id))).toMatchObject([{ status: 'exhausted' }]);
});
