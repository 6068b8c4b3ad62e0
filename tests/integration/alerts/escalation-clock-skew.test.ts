// Two replicas whose clocks are 10 minutes off the database's, one fast and one slow, share one
// escalation ladder: its due times are written and judged on the database's clock, so whichever
// replica ticks pages each step when the ACK SLA has passed there — never early, never late — and
// the "overdue" moment that feeds the automatic kill is the database's too.
import { asc } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OverdueCritical } from '../../../src/alerts/overdue.js';
import { ManualClock } from '../../../src/clock.js';
import { alertPages } from '../../../src/db/schema/index.js';
import { usePostgresTestDb } from '../../support/db.js';
import { rotationOnDatabaseClock } from '../../support/oncall-fixtures.js';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.js';
import { ALERT_TABLES, alertConfig, alertHarness, passEscalationTime, type AlertHarness } from '../../support/alert-fixtures.js';

const MIN = 60_000;
const SKEW = 10 * MIN;
const database = usePostgresTestDb({ truncate: ALERT_TABLES });
let slack: FakeSlack;
let fast: AlertHarness;
let slow: AlertHarness;
const overdue: Array<{ by: string; alert: OverdueCritical }> = [];

beforeEach(async () => {
  slack = await startFakeSlack();
  overdue.length = 0;
  // ESCALATION_ACK_SLA 5m: a step is due 5 minutes after the one before, on the database's clock.
  fast = await alertHarness({ database: database(), config: alertConfig(slack), clock: new ManualClock(new Date(Date.now() + SKEW)) });
  slow = await alertHarness({ database: database(), config: alertConfig(slack), clock: new ManualClock(new Date(Date.now() - SKEW)) });
  // Each step pages someone new (nobody is paged twice in one round).
  await rotationOnDatabaseClock(database().db, ['UALICE', 'UBOB']);
  fast.sink.onOverdueCritical((a) => void overdue.push({ by: 'fast', alert: a as OverdueCritical }));
  slow.sink.onOverdueCritical((a) => void overdue.push({ by: 'slow', alert: a as OverdueCritical }));
});
afterEach(async () => {
  await fast?.close();
  await slow?.close();
  await slack?.close();
});

/** The rungs paged so far (round.step), once each. */
const steps = async () =>
  [...new Set((await database().db.select().from(alertPages).orderBy(asc(alertPages.id))).map((p) => `${p.round}.${p.step}`))];

const critical = (h: AlertHarness) => h.sink.record({ source: 'engine', severity: 'critical', title: 'engine loop stopped', fingerprint: 'engine-down' });

/** The overdue moment is the database's now() when the second step ran (this machine's clock: the database is local). */
function expectOverdueOnDatabaseClock(by: string) {
  expect(overdue.map((o) => o.by)).toEqual([by]);
  expect(Math.abs(overdue[0]!.alert.overdueAt.getTime() - Date.now()), 'overdue_at, ms off the database clock').toBeLessThan(MIN);
}

describe('an escalation shared by a replica 10 minutes fast and one 10 minutes slow', () => {
  it('an alert the fast replica stored is paged at once by the slow one, and its next step is not taken early by the fast one', async () => {
    await critical(fast);
    expect(await slow.runtime.escalation.tick(), 'first page, due when stored').toBe(1);
    expect(await fast.runtime.escalation.tick(), 'fast replica, no time passed').toBe(0);
    await passEscalationTime(database().db, null, 4 * MIN);
    expect(await fast.runtime.escalation.tick(), 'fast replica, 4 of 5 minutes passed').toBe(0);
    expect(await steps()).toEqual(['1.0']);
    expect(overdue).toEqual([]);
    await passEscalationTime(database().db, null, MIN + 1_000);
    expect(await fast.runtime.escalation.tick(), 'fast replica, the ACK SLA passed').toBe(1);
    expect(await steps()).toEqual(['1.0', '1.1']);
    expectOverdueOnDatabaseClock('fast');
  });

  it('a step the fast replica ran is due for the slow one when the ACK SLA has passed, not 20 minutes later', async () => {
    await critical(slow);
    expect(await fast.runtime.escalation.tick()).toBe(1);
    await passEscalationTime(database().db, null, 4 * MIN);
    expect(await slow.runtime.escalation.tick(), 'slow replica, 4 of 5 minutes passed').toBe(0);
    await passEscalationTime(database().db, null, MIN + 1_000);
    expect(await slow.runtime.escalation.tick(), 'slow replica, the ACK SLA passed').toBe(1);
    expect(await steps()).toEqual(['1.0', '1.1']);
    expectOverdueOnDatabaseClock('slow');
  });

  it('a step the slow replica ran is not taken early by the fast one', async () => {
    await critical(slow);
    expect(await slow.runtime.escalation.tick()).toBe(1);
    expect(await fast.runtime.escalation.tick(), 'fast replica, no time passed').toBe(0);
    await passEscalationTime(database().db, null, 4 * MIN);
    expect(await fast.runtime.escalation.tick(), 'fast replica, 4 of 5 minutes passed').toBe(0);
    expect(overdue, 'not overdue before the ACK SLA passed').toEqual([]);
    await passEscalationTime(database().db, null, MIN + 1_000);
    expect(await fast.runtime.escalation.tick()).toBe(1);
    expectOverdueOnDatabaseClock('fast');
  });
});
