// A recovery resolves the alert group it recovers, which stops its escalation: lifting a
// reconciliation block resolves the "reconciliation-blocked" critical (with who lifted it, in its
// thread), so the next person on call is not paged about a block that is gone. Real PostgreSQL, the
// fake Kraken, escalation driven by a manual clock.
import { asc, eq, desc } from 'drizzle-orm';
import { beforeEach, describe, expect, it } from 'vitest';
import { createAlertRuntime } from '../../../src/alerts/runtime.js';
import { buildAppContext, type OwnedContext } from '../../../src/app/build-context.js';
import { ManualClock } from '../../../src/clock.js';
import { testConfig } from '../../../src/config/env.js';
import { alertDeliveries, alertEscalations, alertGroups, alertPages } from '../../../src/db/schema/index.js';
import { silentLogger } from '../../../src/logger.js';
import { updateBotState } from '../../../src/services/bot-state.js';
import { saveRotation } from '../../../src/services/oncall/store.js';
import { adoptFromKraken } from '../../../src/services/reconcile/start/adopt.js';
import { runReconciliation } from '../../../src/services/reconcile/start/run.js';
import { liveKrakenBed } from '../../support/live-kraken-bed.js';
import { passEscalationTime } from '../../support/alert-fixtures.js';

const MIN = 60_000;
const bed = liveKrakenBed('ctb-recovery-resolves-');
let ctx: OwnedContext;
let clock: ManualClock;

beforeEach(async () => {
  clock = new ManualClock(new Date());
  ctx = await buildAppContext({
    config: testConfig({ ...bed.env(), SLACK_APPROVERS: 'UAPPROVER1', SLACK_ALERTS_CHANNEL: 'C0ALERTS',
      // The thread note is queued for this channel; no delivery tick runs, so nothing is sent (the URL answers nothing).
      SLACK_BOT_TOKEN: 'xoxb-0000-test-not-a-real-token', SLACK_SIGNING_SECRET: 'test-signing-secret', SLACK_API_URL: 'http://127.0.0.1:9', ESCALATION_ACK_SLA: '5m', ESCALATION_MAX_ROUNDS: '2' }),
    database: bed.current.database, clock, logger: silentLogger(),
  });
  await updateBotState(ctx.db, clock, { mode: 'live' });
  await saveRotation(ctx.db, { members: ['UALICE', 'UBOB'], handoffWeekday: 1, handoffTime: '09:00', timeZone: 'UTC', now: clock.now(), actor: 'test' });
});

describe('a recovery resolves the alert it recovers', () => {
  it('lifting a reconciliation block resolves its critical alert: its escalation stops and the thread says who lifted it', async () => {
    const escalation = createAlertRuntime(ctx, { slack: null, mailer: null }).escalation;
    const pages = async () => (await ctx.db.select().from(alertPages).orderBy(asc(alertPages.id))).map((p) => `${p.round}.${p.step}`);
    try {
      bed.current.kraken.addOrder({
        txid: 'OMANU9-AAAAA-BBBBBB', cl_ord_id: 'by-hand-9', pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '40000.0', vol: '0.01000000',
        vol_exec: '0.00000000', status: 'open', opentm: Math.floor(Date.now() / 1000) - 600,
      });
      expect((await runReconciliation(ctx, { cause: 'start' })).ok).toBe(false);
      const [blocked] = await ctx.db.select().from(alertGroups).where(eq(alertGroups.fingerprint, 'reconciliation-blocked'));
      expect(blocked).toMatchObject({ status: 'open', severity: 'critical' });
      await escalation.tick();
      expect(await pages()).toEqual(['1.0']);

      await passEscalationTime(ctx.db, clock, 2 * MIN);
      const adopted = await adoptFromKraken(ctx, 'OMANU9-AAAAA-BBBBBB', { actor: 'UBOB' });
      expect(adopted.summary).toContain('the reconciliation halt is lifted');
      const [group] = await ctx.db.select().from(alertGroups).where(eq(alertGroups.id, blocked!.id));
      expect(group).toMatchObject({ status: 'resolved', resolvedBy: 'UBOB' });
      const [esc] = await ctx.db.select().from(alertEscalations).where(eq(alertEscalations.groupId, blocked!.id));
      expect(esc).toMatchObject({ status: 'stopped', stoppedReason: 'resolved by UBOB' });
      const notes = (await ctx.db.select().from(alertDeliveries).where(eq(alertDeliveries.groupId, blocked!.id))).map((d) => JSON.stringify(d.payload));
      expect(notes.some((n) => n.includes('Resolved by <@UBOB>: reconciliation with Kraken passes (operator): nothing unexplained; the reconciliation halt is lifted'))).toBe(true);

      // Past the ACK SLA (the reviewer's 3 minutes after the lift), and for two more rounds: no one else is paged.
      for (let i = 0; i < 6; i += 1) {
        await passEscalationTime(ctx.db, clock, 5 * MIN);
        await escalation.tick();
      }
      expect(await pages()).toEqual(['1.0']);
    } finally {
      await ctx.close();
    }
  });

  it('a block lifted by `ctb reconcile` in another process is resolved in the operator\'s name, not the system\'s', async () => {
    try {
      bed.current.kraken.addOrder({
        txid: 'OMANU8-AAAAA-BBBBBB', cl_ord_id: 'by-hand-8', pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '40000.0', vol: '0.01000000',
        vol_exec: '0.00000000', status: 'open', opentm: Math.floor(Date.now() / 1000) - 600,
      });
      expect((await runReconciliation(ctx, { cause: 'start' })).ok).toBe(false);
      const [blocked] = await ctx.db.select().from(alertGroups).where(eq(alertGroups.fingerprint, 'reconciliation-blocked')).orderBy(desc(alertGroups.id)).limit(1);
      expect(blocked?.status).toBe('open');
      bed.current.kraken.state.orders.get('OMANU8-AAAAA-BBBBBB')!.status = 'canceled';
      const look = await bed.ctb(['reconcile']);
      expect(look.code, look.out + look.err).toBe(0);
      const [group] = await ctx.db.select().from(alertGroups).where(eq(alertGroups.id, blocked!.id));
      expect(group?.status).toBe('resolved');
      expect(group?.resolvedBy).toMatch(/^cli:/);
    } finally {
      await ctx.close();
    }
  });
});
