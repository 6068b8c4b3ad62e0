// Two replicas whose clocks are 10 minutes off the database's, one fast and one slow, share one alert
// group and its silence: the silence ends durationMs after the database's now() when it was set, and
// every replica judges "still silenced" on that clock — the escalation tick, the outbox's check as a
// page is about to go out, the alert list, and a Silence pressed again — so a silence is neither kept
// past its end (a missed page) nor ended early.
import { asc, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { alertsListCommand } from '../../../commands/alerts-list.js';
import { runCommand } from '../../../commands/run-command.js';
import { silenceAlert } from '../../../src/alerts/actions.js';
import { alertDeliveries, alertGroups, alertPages } from '../../../src/db/schema/index.js';
import { usePostgresTestDb } from '../../support/db.js';
import { ALERT_TABLES, skewedAlertReplicas, passDeliveryTime, passEscalationTime, type AlertHarness } from '../../support/alert-fixtures.js';

const MIN = 60_000;
const database = usePostgresTestDb({ truncate: ALERT_TABLES });
const operator = { id: 'cli:op', source: 'cli' as const };
const r = skewedAlertReplicas(database);

const critical = async (h: AlertHarness) => {
  await h.sink.record({ source: 'engine', severity: 'critical', title: 'engine loop stopped', fingerprint: 'engine-down' });
  const [group] = await database().db.select().from(alertGroups);
  return group!.id;
};
const silence = (h: AlertHarness, groupId: number, durationMs = 30 * MIN) =>
  silenceAlert({ db: database().db, clock: h.clock, groupId, actor: 'cli:op', durationMs });
/** The rungs paged so far (round.step), once each. */
const steps = async () =>
  [...new Set((await database().db.select().from(alertPages).orderBy(asc(alertPages.id))).map((p) => `${p.round}.${p.step}`))];
const dms = () => r.slack.callsTo('chat.postMessage').filter((c) => String(c.body.channel).startsWith('U')).map((c) => String(c.body.channel));
const silencedUntil = async (h: AlertHarness) => (await runCommand(alertsListCommand, h.ctx, operator, { limit: 10 })).groups[0]!.silencedUntil;

describe('a silence shared by a replica 10 minutes fast and one 10 minutes slow', () => {
  it('a 30-minute silence the fast replica set is over for the slow one after 30 minutes: it pages again, and the page goes out', async () => {
    const groupId = await critical(r.fast);
    expect(await r.fast.runtime.escalation.tick()).toBe(1);
    await silence(r.fast, groupId);
    await passEscalationTime(database().db, null, 29 * MIN);
    expect(await r.slow.runtime.escalation.tick(), 'slow replica, 29 of 30 minutes passed').toBe(0);
    expect(await silencedUntil(r.slow), 'still silenced: shown').not.toBeNull();
    await passEscalationTime(database().db, null, MIN + 1_000);
    expect(await silencedUntil(r.slow), 'the silence ended: not shown').toBeNull();
    expect(await r.slow.runtime.escalation.tick(), 'slow replica, the silence ended').toBe(1);
    expect(await steps()).toEqual(['1.0', '2.0']);
    r.slack.calls.length = 0;
    for (let i = 0; i < 6; i += 1) await r.slow.runtime.delivery.tick();
    const pages = await database().db.select().from(alertDeliveries).where(eq(alertDeliveries.kind, 'slack_dm'));
    expect(pages.filter((d) => d.status === 'cancelled').map((d) => d.cancelledReason), 'pages of the first round, let go at the silence').toHaveLength(2);
    expect(dms().sort(), 'the second round\'s pages went out from the slow replica').toEqual(['UAPPROVER1', 'UAPPROVER2']);
  });

  it('a 30-minute silence the slow replica set still holds for the fast one 25 minutes in', async () => {
    const groupId = await critical(r.slow);
    expect(await r.slow.runtime.escalation.tick()).toBe(1);
    await silence(r.slow, groupId);
    await passEscalationTime(database().db, null, 25 * MIN);
    expect(await silencedUntil(r.fast), 'the fast replica\'s list, 25 of 30 minutes passed').not.toBeNull();
    expect(await r.fast.runtime.escalation.tick()).toBe(0);
    expect(await steps()).toEqual(['1.0']);
    await passEscalationTime(database().db, null, 5 * MIN + 1_000);
    expect(await silencedUntil(r.fast), 'the fast replica\'s list, the silence ended').toBeNull();
    expect(await r.fast.runtime.escalation.tick()).toBe(1);
    expect(await steps()).toEqual(['1.0', '2.0']);
  });

  it('repeats after the silence ended are posted in the thread by the slow replica, not absorbed', async () => {
    const groupId = await critical(r.slow);
    /** The slow replica's outbox, a second per round (the lane's pace, on the database's clock). */
    const drain = async () => {
      for (let i = 0; i < 6; i += 1) {
        await passDeliveryTime(database().db, r.slow.clock, 1_000);
        await r.slow.runtime.delivery.tick();
      }
    };
    await drain();
    await silence(r.slow, groupId);
    await drain();
    await passEscalationTime(database().db, null, 30 * MIN + 1_000);
    r.slack.calls.length = 0;
    await critical(r.slow);
    await drain();
    const thread = r.slack.callsTo('chat.postMessage').filter((c) => c.body.thread_ts).map((c) => String(c.body.text));
    expect(thread.filter((t) => t.includes('Again:')), 'the repeat, posted in the thread once the silence ended').toHaveLength(1);
  });

  it('the same silence pressed on the other replica is the same decision, whichever is ahead', async () => {
    const groupId = await critical(r.fast);
    expect((await silence(r.fast, groupId)).changed).toBe(true);
    const until = (await silence(r.fast, groupId)).group.silencedUntil;
    const again = await silence(r.slow, groupId);
    expect(again.changed, 'pressed again on the slow replica').toBe(false);
    expect(again.group.silencedUntil).toEqual(until);
    expect((await silence(r.fast, groupId)).changed, 'and on the fast one').toBe(false);
    expect((await silence(r.slow, groupId, 60 * MIN)).changed, 'a longer one is a new decision').toBe(true);
  });
});
