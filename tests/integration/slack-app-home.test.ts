// App Home through the real receiver: a signed app_home_opened event publishes the dashboard read
// from the database (mode, halt, equity, today's PnL, positions, on-call, alerts) for that user, once
// per event even when Slack retries it, and nothing for the Messages tab.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { alertGroups } from '../../src/db/schema/index.js';
import { updateBotState } from '../../src/services/bot-state.js';
import { rotationOnDatabaseClock } from '../support/oncall-fixtures.js';
import { closedTrade, insertSnapshots, insertTrades, openTrade } from '../support/factories/ledger.js';
import { startSlackHarness, USERS, type SlackHarness } from '../support/slack-harness.js';

describe('App Home', () => {
  let h: SlackHarness;
  const clock = new ManualClock('2026-01-05T12:00:00Z');
  beforeAll(async () => {
    h = await startSlackHarness({ clock });
    const db = h.ctx.db;
    await insertTrades(db, [
      closedTrade({ at: '2026-01-04T15:00:00Z', exitPrice: '90' }), // yesterday: not today's PnL
      closedTrade({ at: '2026-01-05T09:00:00Z', exitPrice: '112.5' }),
      openTrade({ at: '2026-01-05T11:00:00Z', symbol: 'ETH/USD', quantity: '0.5', entryPrice: '3000', strategy: 'momentum' }),
    ]);
    await insertSnapshots(db, [{ at: '2026-01-05T11:30:00Z', equity: '10002.5', cash: '8502.5' }]);
    await rotationOnDatabaseClock(db, [USERS.operator, USERS.approver1], { actor: 'cli:ops' }); // on call is judged at the database's now()
    await db.insert(alertGroups).values([
      { fingerprint: 'hb', source: 'engine', severity: 'critical', title: 'Engine heartbeat stale', count: 3, firstAt: new Date('2026-01-05T11:50:00Z'), lastAt: new Date('2026-01-05T11:58:00Z') },
      { fingerprint: 'old', source: 'engine', severity: 'warning', title: 'Resolved long ago', status: 'resolved', firstAt: new Date('2026-01-04T11:00:00Z'), lastAt: new Date('2026-01-04T11:00:00Z') },
    ]);
    await updateBotState(db, clock, { halted: true, haltedReason: 'exchange outage', haltedBy: USERS.operator, haltedAt: clock.now() });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('publishes the dashboard to the user who opened the Home tab, once per event', async () => {
    const event = { type: 'app_home_opened', user: USERS.reader, channel: 'D0HOME', tab: 'home' };
    await h.event(event, { eventId: 'Ev-home-1' });
    await h.event(event, { eventId: 'Ev-home-1', retryNum: 1, retryReason: 'http_timeout' });
    await h.idle();
    const calls = h.fake.callsTo('views.publish');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.body.user_id).toBe(USERS.reader);
    const view = calls[0]!.body.view as { type: string; blocks: unknown[] };
    expect(view.type).toBe('home');
    const text = JSON.stringify(view.blocks);
    expect(text).toContain(':page_facing_up: *PAPER* — simulated fills · :octagonal_sign: *HALTED*');
    expect(text).toContain('*HALTED* — exchange outage by <@UOPERATOR1>');
    expect(text).toContain('Equity 10,002.50');
    // Today's realised PnL is the 09:00 trade only: (112.5 − 100) × 1.
    expect(text).toContain('Today +12.50 realised, 1 closed (1W/0L), fees 0.00');
    expect(text).toContain('*Open positions (1)*\\n• *ETH/USD* 0.5 @ 3,000.00 — momentum, paper');
    expect(text).toContain('*On call*\\n<@UOPERATOR1> (rotation');
    expect(text).toContain('Next: <@UAPPROVER1>');
    expect(text).toContain('*Open alerts (1)*\\n:rotating_light: Engine heartbeat stale ×3 — *not acknowledged*');
    expect(text).not.toContain('Resolved long ago');
    // Opening a tab is not an operator command.
    expect((await h.commandLog()).filter((r) => r.command.includes('home'))).toHaveLength(0);
  });

  it('publishes nothing when the Messages tab is opened', async () => {
    const before = h.fake.callsTo('views.publish').length;
    await h.event({ type: 'app_home_opened', user: USERS.reader, channel: 'D0HOME', tab: 'messages' });
    await h.idle();
    expect(h.fake.callsTo('views.publish')).toHaveLength(before);
  });
});
