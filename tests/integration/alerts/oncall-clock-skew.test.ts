// Two replicas whose clocks are 10 minutes off the database's, one fast and one slow, near a shift
// change: who is on call is judged at the database's now(), so both page the same person (the one
// the database's clock puts on call), let the same override holder act on an alert, check the same
// handover with Slack, and show the same person (App Home, the runbook, /oncall); a rotation or an
// override set from either starts where the database's clock is.
import { asc, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { alertAckCommand, alertResolveCommand } from '../../../commands/alert-actions.js';
import { oncallOverrideCommand } from '../../../commands/oncall-override.js';
import { oncallSetCommand } from '../../../commands/oncall-set.js';
import { oncallShowCommand } from '../../../commands/oncall-show.js';
import { runCommand } from '../../../commands/run-command.js';
import { databaseNow } from '../../../src/db/queries/database-clock.js';
import { whoIsOnCall } from '../../../src/services/oncall/who-is-on-call.js';
import { execute } from '../../../src/db/client.js';
import { alertPages } from '../../../src/db/schema/index.js';
import { readDashboard } from '../../../src/services/dashboard/read-dashboard.js';
import { collectRunbookData } from '../../../src/services/runbook/collect.js';
import { usePostgresTestDb } from '../../support/db.js';
import { ALERT_TABLES, skewedAlertReplicas, type AlertHarness } from '../../support/alert-fixtures.js';
import { handoffText, rotationOnDatabaseClock } from '../../support/oncall-fixtures.js';

const MIN = 60_000;
const database = usePostgresTestDb({ truncate: ALERT_TABLES });
const r = skewedAlertReplicas(database);
const shell = { id: 'cli:ops', source: 'cli' as const };

const firstPages = async () =>
  (await database().db.select().from(alertPages).orderBy(asc(alertPages.id))).map((p) => `${p.groupId}:${p.round}.${p.step}:${p.userId}`);

const critical = (h: AlertHarness, fingerprint: string) =>
  h.sink.record({ source: 'engine', severity: 'critical', title: 'engine loop stopped', fingerprint });

// Members UALICE, UBOB, UCAROL in that order; UALICE holds the shift running at the database's now().
// 3 to 4 minutes either side of a handoff, one replica's clock is on the other side of it.
describe.each([
  { handoff: 'a handoff 3 to 4 minutes ago (the slow replica is still in UCAROL\'s shift)', handoffInMs: -3 * MIN },
  { handoff: 'a handoff in 3 to 4 minutes (the fast replica is already in UBOB\'s shift)', handoffInMs: 4 * MIN },
])('with $handoff', ({ handoffInMs }) => {
  const rotation = () => rotationOnDatabaseClock(database().db, ['UALICE', 'UBOB', 'UCAROL'], { handoffInMs });

  it('both replicas page UALICE, the one on call on the database clock', async () => {
    await rotation();
    const a = await critical(r.fast, 'engine-down');
    expect(await r.slow.runtime.escalation.tick()).toBe(1);
    const b = await critical(r.slow, 'feed-down');
    expect(await r.fast.runtime.escalation.tick()).toBe(1);
    expect(await firstPages()).toEqual([`${a.groupId}:1.0:UALICE`, `${b.groupId}:1.0:UALICE`]);
  });

  it('both replicas check with Slack the handover that put UALICE on call', async () => {
    await rotation();
    r.slack.on('users.info', (body) => ({ body: { ok: true, user: { id: body.user, is_bot: false, deleted: false } } }));
    expect(await r.slow.runtime.handover.tick()).toBe('reachable');
    expect(await r.fast.runtime.handover.tick()).toBe('reachable');
    expect(r.slack.callsTo('users.info').map((c) => c.body.user)).toEqual(['UALICE', 'UALICE']);
  });

  it('the dashboard, the runbook and /oncall of both replicas name UALICE on call', async () => {
    await rotation();
    for (const h of [r.fast, r.slow]) {
      expect((await readDashboard(h.ctx)).onCall, 'dashboard').toMatchObject({ primary: 'UALICE', via: 'rotation' });
      expect((await collectRunbookData(h.ctx)).oncall, 'runbook').toMatchObject({ now: { user: 'UALICE' } });
      expect((await runCommand(oncallShowCommand, h.ctx, shell, {})).now, 'oncall show').toMatchObject({ primary: 'UALICE', via: 'rotation' });
    }
  });

  it('`ctb oncall set` from either replica puts the first member on call in the shift of the database clock', async () => {
    const { handoffAt } = await rotation();
    for (const h of [r.fast, r.slow]) {
      const set = await runCommand(oncallSetCommand, h.ctx, shell, { members: 'UALICE,UBOB,UCAROL', handoff: handoffText(handoffAt, 'UTC'), tz: 'UTC' });
      expect(set.onCallNow).toBe('UALICE');
      expect((await whoIsOnCall(database().db)).primary).toBe('UALICE');
    }
  });
});

describe('`ctb oncall override` from a replica 10 minutes off', () => {
  it('starts now on the database clock and lasts as long as asked, from either replica', async () => {
    for (const h of [r.fast, r.slow]) {
      await execute(database().db, sql`delete from oncall_overrides`);
      const before = await databaseNow(database().db);
      const o = await runCommand(oncallOverrideCommand, h.ctx, shell, { user: 'UDAVE', duration: '30m' });
      expect((await whoIsOnCall(database().db)).primary, 'on call at once').toBe('UDAVE');
      const startsAt = new Date(o.startsAt);
      expect(startsAt >= before && startsAt <= (await databaseNow(database().db)), `${o.startsAt} is the database's now()`).toBe(true);
      expect(new Date(o.endsAt).getTime() - startsAt.getTime()).toBe(30 * MIN);
    }
  });
});

describe('an override holder outside the rotation, from 3 minutes before the database\'s now() to 3 after', () => {
  it('may acknowledge and resolve through either replica, though neither replica\'s own clock is inside the override', async () => {
    await rotationOnDatabaseClock(database().db, ['UALICE', 'UBOB']);
    await execute(database().db, sql`insert into oncall_overrides (user_id, starts_at, ends_at, created_by, created_at)
      values ('UDAVE', now() - interval '3 minutes', now() + interval '3 minutes', 'test', now())`);
    const dave = { id: 'UDAVE', source: 'slack' as const };
    const a = await critical(r.fast, 'engine-down');
    const b = await critical(r.fast, 'feed-down');
    expect(await runCommand(alertAckCommand, r.slow.ctx, dave, { group: a.groupId })).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'UDAVE' });
    expect(await runCommand(alertResolveCommand, r.fast.ctx, dave, { group: b.groupId })).toMatchObject({ status: 'resolved', resolvedBy: 'UDAVE' });
  });
});
