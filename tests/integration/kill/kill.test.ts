import { eq, sql } from 'drizzle-orm';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execute } from '../../../src/db/client.js';
import { botState, incidentChecklistItems, incidents } from '../../../src/db/schema/index.js';
import { getBotState } from '../../../src/services/bot-state.js';
import { executeKill } from '../../../src/services/kill/kill.js';
import { pendingKillPath, readPendingKills } from '../../../src/services/kill/pending-kill.js';
import { replayPendingKills } from '../../../src/services/kill/replay-pending.js';
import { isHaltLatched, setKillHooks } from '../../../src/services/kill/runtime.js';
import { killTestContext, recordingDatabase, useKillTestDb, type KillTestContext } from '../../support/kill-context.js';
import { openOrder } from '../../support/recording-exchange.js';
import { startStallProxy, type StallProxy } from '../../support/stall-proxy.js';

const operator = { id: 'U0OPERATOR', source: 'slack' as const };

const kill = useKillTestDb(['incident_checklist_items', 'incidents', 'bot_state', 'audit_runs']);

async function setup(opts: { armed?: boolean; env?: Record<string, string> } = {}): Promise<KillTestContext> {
  const events: string[] = [];
  const database = recordingDatabase(kill.db().url, events);
  kill.track(database);
  const t = await killTestContext({ database, events, ...opts });
  kill.track(t.ctx);
  return t;
}

describe('kill', () => {
  it('cancels on Kraken and paper before its first database query, then halts in paper with an incident', async () => {
    const t = await setup({ armed: true });
    t.kraken.open.push(openOrder('K1'), openOrder('K2'));
    t.paper.open.push(openOrder('P1'));
    const result = await executeKill(t.ctx, { actor: operator, reason: 'runaway strategy', trigger: 'manual' });

    const firstDb = t.events.findIndex((e) => e.startsWith('db:'));
    expect(firstDb).toBeGreaterThan(-1);
    expect(t.events.indexOf('kraken:cancelAllOrders')).toBeGreaterThan(-1);
    expect(t.events.indexOf('kraken:cancelAllOrders')).toBeLessThan(firstDb);
    expect(t.events.indexOf('paper:cancelAllOrders')).toBeLessThan(firstDb);
    expect(t.events.indexOf('kraken:fetchOpenOrders')).toBeLessThan(firstDb);

    expect(result.ok).toBe(true);
    expect(result.state).toBe('written');
    expect(result.cancel.venues.map((v) => [v.venue, v.canceled, v.confirmed])).toEqual([['kraken', 2, true], ['paper', 1, true]]);
    const state = await getBotState(kill.db().db);
    expect(state).toMatchObject({ halted: true, mode: 'paper', haltedReason: 'runaway strategy', haltedBy: 'U0OPERATOR' });
    expect(state.version).toBeGreaterThan(0);
    expect(t.ctx.jobs.tradingPaused).toMatch(/^kill: /);
    expect(isHaltLatched(t.ctx)).toBe(true);
    expect(result.checklist.map((c) => c.item)).toEqual(['cancel_orders', 'close_positions', 'reconcile_ledger', 'notify_stakeholders']);
    expect(t.alerts).toEqual([expect.objectContaining({ source: 'kill', severity: 'critical', title: expect.stringMatching(/every open order cancelled/) })]);
  });

  it('when armed, cancels on Kraken even though the bot is in paper mode', async () => {
    const t = await setup({ armed: true });
    await kill.db().db.insert(botState).values({ id: 1, mode: 'paper' });
    t.kraken.open.push(openOrder('MANUAL1'));
    await executeKill(t.ctx, { actor: operator, reason: 'hand-placed order', trigger: 'manual' });
    expect(t.kraken.calls).toContain('cancelAllOrders');
    expect(t.kraken.open).toEqual([]);
  });

  it('when not armed, cancels paper only and never calls Kraken', async () => {
    const t = await setup({ armed: false });
    t.paper.open.push(openOrder('P1'));
    const result = await executeKill(t.ctx, { actor: operator, reason: '', trigger: 'manual' });
    expect(t.kraken.calls).toEqual([]);
    expect(result.cancel.venues.map((v) => v.venue)).toEqual(['paper']);
    expect(result.ok).toBe(true);
    expect((await getBotState(kill.db().db)).haltedReason).toBe('no reason given');
  });

  it('reports an order that survives every cancel after the bounded retries, and alerts about it', async () => {
    const t = await setup({ armed: true, env: { KILL_CONFIRM_ATTEMPTS: '3' } });
    t.kraken.open.push(openOrder('STUCK'), openOrder('K2'));
    t.kraken.sticky.add('STUCK');
    const result = await executeKill(t.ctx, { actor: operator, reason: 'x', trigger: 'manual' });
    const kraken = result.cancel.venues.find((v) => v.venue === 'kraken')!;
    expect(kraken).toMatchObject({ confirmed: false, attempts: 3, canceled: 1 });
    expect(kraken.survivors.map((s) => s.exchangeOrderId)).toEqual(['STUCK']);
    expect(t.kraken.calls.filter((c) => c === 'cancelAllOrders')).toHaveLength(3);
    expect(result.ok).toBe(false);
    expect(result.state).toBe('written');
    expect(t.alerts[0]?.title).toMatch(/could not be confirmed/);
    expect(t.alerts[0]?.details?.['survivors']).toEqual([expect.objectContaining({ venue: 'kraken', exchangeOrderId: 'STUCK' })]);
  });

  it('a second kill cancels again, says it was already killed and opens no second incident', async () => {
    const t = await setup({ armed: true });
    const first = await executeKill(t.ctx, { actor: operator, reason: 'first', trigger: 'manual' });
    const versionAfterFirst = (await getBotState(kill.db().db)).version;
    t.kraken.open.push(openOrder('LATE'));
    const second = await executeKill(t.ctx, { actor: { id: 'U0OTHER', source: 'slack' }, reason: 'second', trigger: 'manual' });
    expect(second.alreadyKilled).toBe(true);
    expect(second.incidentId).toBe(first.incidentId);
    expect(t.kraken.open).toEqual([]);
    const state = await getBotState(kill.db().db);
    expect(state.version).toBe(versionAfterFirst);
    expect(state.haltedReason).toBe('first');
    expect(await kill.db().db.select().from(incidents)).toHaveLength(1);
    expect(await kill.db().db.select().from(incidentChecklistItems)).toHaveLength(4);
    expect(t.alerts).toHaveLength(1);
  });

  it('a Slack retry of the same request maps to the same kill', async () => {
    const t = await setup({ armed: false });
    const actor = { ...operator, requestId: 'trigger-123' };
    const [a, b] = await Promise.all([
      executeKill(t.ctx, { actor, reason: 'x', trigger: 'manual' }),
      executeKill(t.ctx, { actor, reason: 'x', trigger: 'manual' }),
    ]);
    expect(a.killId).toBe(b.killId);
    expect([a.alreadyKilled, b.alreadyKilled].sort()).toEqual([false, true]);
    expect(await kill.db().db.select().from(incidents)).toHaveLength(1);
  });

  it('a stuck engine holding the order lock does not hold the kill', async () => {
    const t = await setup({ armed: true, env: { KILL_DB_TIMEOUT: '2s' } });
    setKillHooks(t.ctx, { orderLock: () => new Promise(() => {}) });
    t.kraken.open.push(openOrder('K1'));
    const started = Date.now();
    const result = await executeKill(t.ctx, { actor: operator, reason: 'engine stuck', trigger: 'manual' });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(t.kraken.open).toEqual([]);
    expect(result.state).toBe('written');
    expect((await getBotState(kill.db().db)).halted).toBe(true);
  });

  it('cancels again inside the engine order lock, catching an order the engine sent as the kill began', async () => {
    const t = await setup({ armed: true });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    setKillHooks(t.ctx, { orderLock: async (fn) => { await held; return fn(); } });
    const killing = executeKill(t.ctx, { actor: operator, reason: 'x', trigger: 'manual' });
    await new Promise((r) => setTimeout(r, 50));
    // The engine's tick, mid-flight when the kill began, sends its order and then lets go of the lock.
    t.kraken.open.push(openOrder('INFLIGHT'));
    release();
    const result = await killing;
    expect(t.kraken.open).toEqual([]);
    expect(result.cancel.allConfirmed).toBe(true);
  });
});

describe('kill while the database is unreachable', () => {
  let proxy: StallProxy;
  beforeAll(async () => {
    proxy = await startStallProxy();
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it.each(['stall', 'down'] as const)('database %s: cancels at once, saves the halt to DATA_DIR, writes it when the database returns', async (failure) => {
    proxy.set('forward');
    const t = await setup({ armed: true });
    const viaProxy = recordingDatabase(proxy.urlFor(kill.db().url), []);
    kill.track(viaProxy);
    const t2 = await killTestContext({ database: viaProxy, armed: true, dataDir: t.dataDir, env: { KILL_DB_TIMEOUT: '1s' } });
    kill.track(t2.ctx);
    await getBotState(t2.ctx.db); // connection established before the failure
    t2.kraken.open.push(openOrder('K1'));
    proxy.set(failure);

    const result = await executeKill(t2.ctx, { actor: operator, reason: 'db outage', trigger: 'manual' });
    expect(t2.kraken.calls.slice(0, 2)).toEqual(['cancelAllOrders', 'fetchOpenOrders']);
    expect(t2.kraken.open).toEqual([]);
    expect(result.state).toBe('pending');
    expect(result.pendingFile).toBe(pendingKillPath(t.dataDir));
    expect(readPendingKills(t.dataDir)).toEqual([expect.objectContaining({ killId: result.killId, reason: 'db outage' })]);
    expect(isHaltLatched(t2.ctx)).toBe(true);
    expect(t2.ctx.jobs.tradingPaused).toMatch(/^kill: /);
    expect((await getBotState(kill.db().db)).halted).toBe(false);

    proxy.set('forward');
    const replay = await replayPendingKills(t2.ctx);
    expect(replay).toMatchObject({ written: [result.killId], remaining: 0 });
    expect(existsSync(pendingKillPath(t.dataDir))).toBe(false);
    expect(await getBotState(kill.db().db)).toMatchObject({ halted: true, mode: 'paper', haltedReason: 'db outage' });
    const [incident] = await kill.db().db.select().from(incidents).where(eq(incidents.killId, result.killId));
    expect(incident).toBeDefined();
    expect(t2.alerts.map((a) => a.title)).toContainEqual(expect.stringMatching(/after it came back/));
    // Replaying again changes nothing.
    expect(await replayPendingKills(t2.ctx)).toEqual({ written: [], remaining: 0 });
    expect((await execute<{ n: number }>(kill.db().db, sql`select count(*)::int as n from incidents`))[0]?.n).toBe(1);
  });
});
