// The self-heal watchdog's clocks of exchange work outlive the process: a worker that crash-loops
// (each life a new watchdog on the same database) still pages about work owed across its lives, and
// does not raise a lasting failure again at once after each restart; done work clears its rows; only
// the engine lease's holder writes them; clocks nobody kept for over 15 minutes are forgotten; a
// database that does not give them leaves the watchdog on its own memory. Real PostgreSQL, a ManualClock.
import { sql } from 'drizzle-orm';
import { describe, expect, it, vi } from 'vitest';
import { engineLease, watchdogClocks } from '../../../src/db/schema/index.js';
import { markIntent } from '../../../src/engine/ledger/intents.js';
import { startWatchdog, type WatchdogOptions } from '../../../src/services/self-heal/watchdog.js';
import { CONFIRM_EVERY_MS, persistedClocks } from '../../../src/services/self-heal/watchdog-clocks.js';
import { killTestContext, liveExitInFlight, recordingDatabase, useKillTestDb, type KillTestContext } from '../../support/kill-context.js';

const kill = useKillTestDb(['bot_state', 'order_intents', 'engine_lease', 'watchdog_clocks']);
const MIN = 60_000;

/** An armed bot with a live order sent to Kraken and not booked: the watchdog owes the reconciliation while it is in flight. */
async function liveOrderInFlight() {
  const database = kill.track(recordingDatabase(kill.db().url, []));
  const t: KillTestContext = await killTestContext({ database, armed: true, env: { KILL_DB_TIMEOUT: '2s', ENGINE_STALE_AFTER: '60s' } });
  kill.track(t.ctx);
  // Kraken's first answer fails, so the first pass resyncs (and finds the order in flight).
  const intentId = await liveExitInFlight(t);
  const reconciled: string[] = [];
  /** One life of the worker: a new watchdog (maps empty) in process `me`, on the same database. */
  const life = (me: string, extra: Partial<WatchdogOptions> = {}) => startWatchdog(t.ctx, {
    timer: false, attempts: 5, baseDelayMs: 1, sleep: async () => { t.kraken.mode = 'ok'; },
    reconcile: async () => { reconciled.push('run'); return { ok: true, summaryLine: 'ledger matches kraken', reportFile: null }; },
    clocks: persistedClocks(t.ctx, me), ...extra,
  });
  const critical = () => t.alerts.filter((a) => a.severity === 'critical');
  const rows = () => t.ctx.db.select().from(watchdogClocks).orderBy(watchdogClocks.clock);
  return { t, intentId, reconciled, life, critical, rows };
}

const reconcileOf = (result: Awaited<ReturnType<ReturnType<typeof startWatchdog>['tick']>>) => result!.actions.find((a) => a.check === 'reconcile');

describe("self-heal watchdog: its clocks of exchange work outlive the process", () => {
  it('a worker restarted while a reconciliation is owed goes on counting: owed 10 min in one life and 6 in the next, it pages, saying where the clock began', async () => {
    const { t, life, critical } = await liveOrderInFlight();
    const first = life('worker-a:101');
    expect(reconcileOf(await first.tick())).toMatchObject({ status: 'skipped', detail: expect.stringMatching(/^1 live order\(s\) still in flight: /) });
    t.clock.advance(10 * MIN);
    expect(reconcileOf(await first.tick())).toMatchObject({ status: 'skipped' });
    await first.stop();
    // The worker crashes and its manager starts it again: a new process, new maps, the same database.
    const second = life('worker-a:202');
    t.clock.advance(1 * MIN);
    expect(reconcileOf(await second.tick())).toMatchObject({ status: 'skipped' });
    expect(critical()).toEqual([]);
    t.clock.advance(5 * MIN);
    const late = await second.tick();
    expect(reconcileOf(late)).toMatchObject({
      status: 'failed',
      detail: expect.stringMatching(/^1 live order\(s\) still in flight; the reconciliation has been owed for 16 min \(limit 15 min; its clock began in the engine process worker-a:101 and goes on here\): look those orders up on Kraken/),
    });
    expect(critical()).toEqual([expect.objectContaining({ fingerprint: 'self-heal:reconcile_owed:failed', title: expect.stringMatching(/owed for 16 min/) })]);
    await second.stop();
  });

  it('a lasting failure raised in one life is not raised again at once by the next: again only 15 minutes after it was raised', async () => {
    const { t, life, critical } = await liveOrderInFlight();
    const first = life('worker-a:101');
    await first.tick();
    t.clock.advance(15 * MIN);
    expect(reconcileOf(await first.tick())).toMatchObject({ status: 'failed' });
    expect(critical()).toHaveLength(1);
    await first.stop();
    const second = life('worker-a:202');
    t.clock.advance(1 * MIN);
    expect(reconcileOf(await second.tick())).toMatchObject({ status: 'failed', detail: expect.stringMatching(/owed for 16 min/) });
    expect(critical()).toHaveLength(1);
    t.clock.advance(13 * MIN);
    await second.tick();
    expect(critical()).toHaveLength(1);
    t.clock.advance(1 * MIN);
    await second.tick();
    expect(critical()).toHaveLength(2);
    expect(critical()[1]).toMatchObject({ title: expect.stringMatching(/owed for 30 min/) });
    await second.stop();
  });

  it('writes the clocks when they change, not on every pass (confirmed every 5 minutes while owed), and clears them once the work is done', async () => {
    const { t, intentId, reconciled, life, rows } = await liveOrderInFlight();
    const start = t.clock.now();
    const dog = life('worker-a:101');
    await dog.tick();
    expect(await rows()).toEqual([expect.objectContaining({ clock: 'deferred:reconcile_owed', at: start, begunBy: 'worker-a:101', writtenBy: 'worker-a:101' })]);
    // confirmed_at is the database's now(): marked here to see whether a pass writes it again.
    const marked = new Date('2000-01-01T00:00:00Z');
    await t.ctx.db.update(watchdogClocks).set({ confirmedAt: marked });
    // Nothing changed: not written again within CONFIRM_EVERY_MS.
    t.clock.advance(CONFIRM_EVERY_MS - 1);
    await dog.tick();
    expect(await rows()).toEqual([expect.objectContaining({ at: start, confirmedAt: marked })]);
    t.clock.advance(1);
    await dog.tick();
    expect(await rows()).toEqual([expect.objectContaining({ at: start, confirmedAt: expect.any(Date) })]);
    expect((await rows())[0]!.confirmedAt.getTime()).toBeGreaterThan(marked.getTime());
    // The order's fills are booked: the next pass reconciles, and the owed clock's row goes.
    await markIntent(t.ctx.db, { id: intentId, status: 'filled', at: t.clock.now() });
    expect(reconcileOf(await dog.tick())).toMatchObject({ status: 'ok' });
    expect(reconciled).toEqual(['run']);
    expect(await rows()).toEqual([]);
    await dog.stop();
  });

  it('clocks nobody kept for over 15 minutes (the worker was down for a day) are forgotten: the next life owes from now, and does not page "owed for 1440 min"', async () => {
    const { t, life, critical } = await liveOrderInFlight();
    const first = life('worker-a:101');
    await first.tick();
    await first.stop();
    t.clock.advance(24 * 60 * MIN);
    // Confirmed a day ago on the database's clock, which their age is judged on.
    await t.ctx.db.execute(sql`update watchdog_clocks set confirmed_at = now() - interval '1 day'`);
    t.kraken.mode = 'network_error';
    const next = life('worker-a:202');
    expect(reconcileOf(await next.tick())).toMatchObject({ status: 'skipped' });
    expect(critical()).toEqual([]);
    t.clock.advance(15 * MIN);
    expect(reconcileOf(await next.tick())).toMatchObject({ status: 'failed', detail: expect.stringMatching(/owed for 15 min \(limit 15 min\):/) });
    await next.stop();
  });

  it('only the engine lease holder writes them: a process whose holder id is not in the lease row writes nothing', async () => {
    const { t, life, rows } = await liveOrderInFlight();
    await t.ctx.db.insert(engineLease).values({
      holderId: 'worker-b:303:beef', host: 'worker-b', pid: 303, role: 'worker', feed: 'kraken', armed: true, hasKrakenKeys: true,
      acquiredAt: t.clock.now(), heartbeatAt: t.clock.now(),
    });
    const lost = life('worker-a:101', { holderId: () => 'worker-a:101:cafe' });
    expect(reconcileOf(await lost.tick())).toMatchObject({ status: 'skipped', detail: expect.stringMatching(/^1 live order\(s\) still in flight: /) });
    expect(await rows()).toEqual([]);
    await lost.stop();
    t.kraken.mode = 'network_error';
    const holder = life('worker-b:303', { holderId: () => 'worker-b:303:beef' });
    await holder.tick();
    expect(await rows()).toEqual([expect.objectContaining({ clock: 'deferred:reconcile_owed', writtenBy: 'worker-b:303' })]);
    await holder.stop();
  });

  it('a process that stands by (another holds the lease) neither reads nor writes them: the holder\'s stay as it wrote them', async () => {
    const { t, life, rows } = await liveOrderInFlight();
    const holder = life('worker-a:101');
    await holder.tick();
    const written = await rows();
    expect(written).toEqual([expect.objectContaining({ clock: 'deferred:reconcile_owed', writtenBy: 'worker-a:101' })]);
    const web = life('web-1:404', { checkExchange: () => false });
    for (let pass = 0; pass < 4; pass += 1) {
      t.clock.advance(CONFIRM_EVERY_MS);
      expect((await web.tick())!.actions.find((a) => a.check === 'exchange')).toMatchObject({ status: 'skipped' });
    }
    expect(await rows()).toEqual(written);
    await web.stop();
    await holder.stop();
  });

  it('a database that does not give them does not stop the watchdog: it goes on with its own clocks (saying so in the log once), and writes them once it answers', async () => {
    const { t, life, critical, rows } = await liveOrderInFlight();
    const warn = vi.spyOn(t.ctx.logger, 'warn');
    const db = kill.db().db;
    await db.execute(sql.raw('alter table watchdog_clocks rename to watchdog_clocks_away'));
    let dog: ReturnType<typeof startWatchdog>;
    try {
      dog = life('worker-a:101');
      expect(reconcileOf(await dog.tick())).toMatchObject({ status: 'skipped' });
      t.clock.advance(15 * MIN);
      expect(reconcileOf(await dog.tick())).toMatchObject({ status: 'failed', detail: expect.stringMatching(/owed for 15 min/) });
      expect(critical()).toHaveLength(1);
      const said = warn.mock.calls.filter(([, msg]) => typeof msg === 'string' && msg.includes('clocks of exchange work'));
      expect(said).toEqual([[expect.anything(), expect.stringMatching(/could not read its clocks of exchange work in the database; keeping them in this process's memory only/)]]);
    } finally {
      warn.mockRestore();
      await db.execute(sql.raw('alter table watchdog_clocks_away rename to watchdog_clocks'));
    }
    t.clock.advance(1 * MIN);
    await dog.tick();
    expect(critical()).toHaveLength(1);
    expect(await rows()).toEqual([
      expect.objectContaining({ clock: 'deferred:reconcile_owed', at: new Date(t.clock.now().getTime() - 16 * MIN) }),
      expect.objectContaining({ clock: 'raised:reconcile_owed:failed', at: new Date(t.clock.now().getTime() - 1 * MIN) }),
    ]);
    await dog.stop();
  });

  it('a write that failed, then a brief loss of the lease: the next read merges, and the owed period goes on from where it began', async () => {
    const { t, life, critical } = await liveOrderInFlight();
    const db = kill.db().db;
    // Reads answer, writes fail.
    await db.execute(sql.raw(`create or replace function watchdog_clocks_refuse() returns trigger language plpgsql as $$ begin raise exception 'refused for the test'; end $$;
      create trigger watchdog_clocks_refuse before insert on watchdog_clocks for each row execute function watchdog_clocks_refuse()`));
    let holds = true;
    let dog: ReturnType<typeof startWatchdog>;
    try {
      dog = life('worker-a:101', { checkExchange: () => holds });
      expect(reconcileOf(await dog.tick())).toMatchObject({ status: 'skipped' });
      t.clock.advance(5 * MIN);
      await dog.tick();
    } finally {
      await db.execute(sql.raw('drop trigger watchdog_clocks_refuse on watchdog_clocks; drop function watchdog_clocks_refuse()'));
    }
    // Another process held the lease for one pass; this one takes it back and reads the (empty) table.
    holds = false;
    t.clock.advance(1 * MIN);
    await dog.tick();
    holds = true;
    t.clock.advance(1 * MIN);
    expect(reconcileOf(await dog.tick())).toMatchObject({ status: 'skipped' });
    expect(critical()).toEqual([]);
    t.clock.advance(8 * MIN);
    expect(reconcileOf(await dog.tick())).toMatchObject({ status: 'failed', detail: expect.stringMatching(/owed for 15 min \(limit 15 min\)/) });
    expect(critical()).toHaveLength(1);
    await dog.stop();
  });

  it("their age is judged on the database's clock: a host whose clock is 20 minutes ahead of the last writer's continues them at once", async () => {
    const { t, life, critical } = await liveOrderInFlight();
    const first = life('worker-a:101');
    await first.tick();
    await first.stop();
    // Another host takes over at once; its clock is 20 minutes ahead (the database's has not moved).
    t.clock.advance(20 * MIN);
    const next = life('worker-b:202');
    expect(reconcileOf(await next.tick())).toMatchObject({
      status: 'failed', detail: expect.stringMatching(/owed for 20 min \(limit 15 min; its clock began in the engine process worker-a:101 and goes on here\)/),
    });
    expect(critical()).toHaveLength(1);
    await next.stop();
  });
});
