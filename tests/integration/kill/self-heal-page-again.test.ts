// The watchdog's lasting failure through the real alert pipeline: an operator who resolves the page
// while the failure goes on (a stale engine heartbeat here) is paged anew within 15 minutes, not
// never; an open alert gets no repeat on every pass. Real PostgreSQL, the outbox's groups and
// escalations, a ManualClock.
import { asc, eq, sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveAlert } from '../../../src/alerts/actions.js';
import { alertEscalations, alertGroups, botState } from '../../../src/db/schema/index.js';
import { TRANSIENT_PAGE_AFTER_MS } from '../../../src/services/self-heal/self-heal.js';
import { startWatchdog } from '../../../src/services/self-heal/watchdog.js';
import { ALERT_TABLES, alertConfig, alertHarness, type AlertHarness } from '../../support/alert-fixtures.js';
import { usePostgresTestDb } from '../../support/db.js';

const database = usePostgresTestDb({ truncate: [...ALERT_TABLES, 'bot_state'] });
let h: AlertHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('self-heal watchdog: a failure that lasts', () => {
  it('resolved while the engine heartbeat stays stale, it pages anew within 15 minutes; while open, it is not repeated on every pass', async () => {
    h = await alertHarness({ database: database(), config: alertConfig(null, { ENGINE_STALE_AFTER: '60s' }) });
    const { db } = database();
    await db.insert(botState).values({ id: 1, engineHeartbeatAt: sql`now() - interval '5 minutes'` });
    // The engine's process is another one: this one checks no exchange, only the heartbeat.
    const dog = startWatchdog(h.ctx, { timer: false, attempts: 1, sleep: async () => {}, checkExchange: () => false });
    const groups = () => db.select().from(alertGroups).where(eq(alertGroups.fingerprint, 'self-heal:engine:failed')).orderBy(asc(alertGroups.id));
    const paging = async (groupId: number) => (await db.select().from(alertEscalations).where(eq(alertEscalations.groupId, groupId)))[0]?.status;

    expect((await dog.tick())!.actions.find((a) => a.check === 'engine')).toMatchObject({ status: 'failed' });
    const [first] = await groups();
    expect(first).toMatchObject({ status: 'open', count: 1 });
    expect(await paging(first!.id)).toBe('active');
    // Open: later passes within 15 minutes add nothing to its thread.
    h.clock.advance(60_000);
    await dog.tick();
    expect(await groups()).toEqual([expect.objectContaining({ id: first!.id, count: 1 })]);

    // The operator takes it for a blip and resolves it; the heartbeat stays stale.
    await resolveAlert({ db, clock: h.clock, groupId: first!.id, actor: 'cli:op' });
    h.clock.advance(60_000);
    expect((await dog.tick())!.actions.find((a) => a.check === 'engine')).toMatchObject({ status: 'failed' });
    expect(await groups()).toHaveLength(1);
    // 15 minutes after it was raised (13 after the resolve): raised again, a new group that pages.
    h.clock.advance(TRANSIENT_PAGE_AFTER_MS - 2 * 60_000);
    await dog.tick();
    const [resolved, again] = await groups();
    expect(resolved).toMatchObject({ id: first!.id, status: 'resolved' });
    expect(again).toMatchObject({ status: 'open', severity: 'critical' });
    expect(await paging(again!.id)).toBe('active');
    await dog.stop();
  });
});
