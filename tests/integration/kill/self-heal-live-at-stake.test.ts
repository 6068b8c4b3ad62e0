// Self-heal decides what is at stake from the database (the engine lease, bot_state, live intents),
// not from the IS_LIVE of the process running it: a `ctb self-heal` typed in a shell without IS_LIVE
// while the engine trades live (or while a stopped live engine left orders on Kraken) does not check
// the paper venue in its place, nor report ok: it says Kraken was not asked, why, and who asks it.
import { ALONE_BY_CONSTRUCTION } from '../../../src/engine/ledger/intent-lease.js';
import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { renderSelfHeal, selfHealExitCode } from '../../../commands/self-heal.js';
import { markIntent, writeIntent } from '../../../src/engine/ledger/intents.js';
import { updateBotState } from '../../../src/services/bot-state.js';
import { LIVE_LEFT_FINGERPRINT, selfHeal, type SelfHealOptions } from '../../../src/services/self-heal/self-heal.js';
import { acknowledgeAlert, resolveAlert } from '../../../src/alerts/actions.js';
import { liveAlertGroupId } from '../../../src/db/queries/alert-groups.js';
import { holdLease } from '../../support/held-lease.js';
import { insertTrade } from '../../support/trade-rows.js';
import { startWatchdog } from '../../../src/services/self-heal/watchdog.js';
import { trades } from '../../../src/db/schema/index.js';
import { killTestContext, recordingDatabase, useKillTestDb, whileTableLocked, type KillTestContext } from '../../support/kill-context.js';

const kill = useKillTestDb(['bot_state', 'order_intents', 'trades', 'engine_lease', 'watchdog_clocks', 'alert_groups', 'alert_events', 'alert_deliveries', 'alert_escalations']);

async function setup(opts: { armed?: boolean; keys?: boolean; dbTimeout?: string; storeAlerts?: boolean } = {}): Promise<KillTestContext> {
  const database = kill.track(recordingDatabase(kill.db().url, []));
  const t = await killTestContext({
    database, armed: opts.armed ?? false, keys: opts.keys ?? false, env: { ENGINE_STALE_AFTER: '60s', KILL_DB_TIMEOUT: opts.dbTimeout ?? '8s' }, storeAlerts: opts.storeAlerts ?? false,
  });
  kill.track(t.ctx);
  return t;
}

/** The engine of another process holding the lease (renewed while the test runs). */
async function engineHolds(t: KillTestContext, claim: { armed: boolean; hasKrakenKeys: boolean }): Promise<void> {
  const stop = await holdLease(t.ctx.db, { holderId: 'live-worker', host: 'worker-1', pid: 4242, role: 'worker', feed: 'kraken', ...claim }, 60_000);
  kill.track({ close: stop });
}

/** A live order the ledger does not know the outcome of (sent by an armed live engine now gone). */
async function liveIntentLeft(t: KillTestContext): Promise<void> {
  await updateBotState(t.ctx.db, t.clock, { mode: 'live' });
  const intent = await writeIntent(t.ctx.db, {
    mode: 'live', feed: 'kraken', strategy: 'btc-ma-cross', symbol: 'BTC/USD', side: 'buy', purpose: 'entry', type: 'limit', quantity: '0.01', limitPrice: '50000', at: t.clock.now(),
  }, { lease: ALONE_BY_CONSTRUCTION, armed: true });
  await markIntent(t.ctx.db, { id: intent!.id, status: 'sent', exchangeOrderId: 'OLEFT1-AAAAA-BBBBBB', at: t.clock.now() });
}

const once: SelfHealOptions = { attempts: 1, baseDelayMs: 1, sleep: async () => {}, alwaysResync: true, runBy: 'once' };

describe('self-heal decides live or paper from the database, not from its own IS_LIVE', () => {
  it('a shell without IS_LIVE while the armed engine trades live: Kraken not asked, paper not checked instead, not ok (exit 1), saying why and who checks it', async () => {
    const t = await setup();
    await updateBotState(t.ctx.db, t.clock, { mode: 'live' });
    await engineHolds(t, { armed: true, hasKrakenKeys: true });
    const result = await selfHeal(t.ctx, once);
    expect(result.ok).toBe(false);
    expect(selfHealExitCode(result)).toBe(1);
    const exchange = result.actions.find((a) => a.check === 'exchange');
    expect(exchange?.status).toBe('failed');
    expect(exchange?.detail).toContain('Kraken was not asked: the engine trades LIVE (engine lease: worker-1:4242, armed)');
    expect(exchange?.detail).toContain('IS_LIVE is not set here and this process has no Kraken keys');
    expect(exchange?.detail).toContain("the engine's own watchdog (worker-1:4242) checks it");
    // The engine checks Kraken: no second process with its key is suggested (nonce clashes).
    expect(exchange?.detail).toContain('read its alerts and logs rather than run a second process with the same Kraken key');
    expect(exchange?.detail).not.toContain("with the bot's environment");
    expect(result.actions.find((a) => a.check === 'reconcile')).toMatchObject({ status: 'skipped', detail: 'not reconciled: Kraken was not asked (see exchange)' });
    expect(t.paper.calls).toEqual([]);
    expect(t.kraken.calls).toEqual([]);
    expect(renderSelfHeal(result)).toMatch(/^FAILED\s+exchange\s+Kraken was not asked/m);
    expect(renderSelfHeal(result)).not.toMatch(/nothing left broken|paper: the ledger is the venue/);
    expect(t.alerts.map((a) => a.title)).toContainEqual(expect.stringMatching(/^Self-heal could not repair exchange: Kraken was not asked/));
  });

  it('a stale lease whose holder was armed, the database live: Kraken not asked from a shell without IS_LIVE, paper not checked, not ok — it may resume LIVE trading if it wakes', async () => {
    const t = await setup();
    await updateBotState(t.ctx.db, t.clock, { mode: 'live' });
    // Nothing live in the ledger: only the hung holder, last renewed an hour ago.
    await t.ctx.db.execute(sql`insert into engine_lease (id, holder_id, host, pid, role, feed, armed, has_kraken_keys, acquired_at, heartbeat_at)
      values (1, 'live-worker', 'worker-1', 4242, 'worker', 'kraken', true, true, now() - interval '2 hours', now() - interval '1 hour')`);
    const result = await selfHeal(t.ctx, once);
    expect(result.ok).toBe(false);
    const exchange = result.actions.find((a) => a.check === 'exchange');
    expect(exchange?.status).toBe('failed');
    expect(exchange?.detail).toMatch(/^Kraken was not asked: the engine may resume LIVE trading if it wakes \(engine lease: worker-1:4242, stale since \S+, armed; the database says live\); IS_LIVE is not set here/);
    expect(exchange?.detail).toContain('no running engine with the keys checks it either');
    expect(t.paper.calls).toEqual([]);
    expect(t.kraken.calls).toEqual([]);
  });

  it('a shell with the keys but without IS_LIVE says only that IS_LIVE is not set here', async () => {
    const t = await setup({ keys: true });
    await updateBotState(t.ctx.db, t.clock, { mode: 'live' });
    await engineHolds(t, { armed: true, hasKrakenKeys: true });
    const result = await selfHeal(t.ctx, once);
    expect(result.ok).toBe(false);
    const exchange = result.actions.find((a) => a.check === 'exchange');
    expect(exchange?.detail).toMatch(/; IS_LIVE is not set here, so nothing was checked from here/);
    expect(t.paper.calls).toEqual([]);
    expect(t.kraken.calls).toEqual([]);
  });

  it('no engine running but a live intent left unresolved: Kraken not asked, paper not checked, not ok, naming what the ledger holds', async () => {
    const t = await setup();
    await liveIntentLeft(t);
    const result = await selfHeal(t.ctx, once);
    expect(result.ok).toBe(false);
    expect(selfHealExitCode(result)).toBe(1);
    const exchange = result.actions.find((a) => a.check === 'exchange');
    expect(exchange?.status).toBe('failed');
    expect(exchange?.detail).toContain('Kraken was not asked: the ledger holds 1 unresolved live order intent(s) on Kraken and no engine runs');
    expect(exchange?.detail).toContain("no running engine with the keys checks it either; to check from here, run `ctb self-heal` with the bot's environment (IS_LIVE=true and its Kraken keys)");
    expect(t.paper.calls).toEqual([]);
    expect(t.kraken.calls).toEqual([]);
  });

  it('a halted live bot with a live intent left, run with the bot\'s environment: Kraken is asked (not paper)', async () => {
    const t = await setup({ armed: true });
    await liveIntentLeft(t);
    await updateBotState(t.ctx.db, t.clock, { halted: true, haltedReason: 'test', haltedBy: 'cli:ops', haltedAt: t.clock.now() });
    const result = await selfHeal(t.ctx, { ...once, reconcile: async () => ({ ok: true, summaryLine: 'reconciled', reportFile: null }) });
    expect(result.actions.find((a) => a.check === 'exchange')?.detail).toMatch(/on kraken/);
    expect(t.kraken.calls).toContain('fetchOpenOrders');
    expect(t.paper.calls).toEqual([]);
    expect(result.halted).toBe(true);
  });

  it('a shell without IS_LIVE that cannot read the live intents checks no venue on a guess of paper: not ok', async () => {
    // KILL_DB_TIMEOUT bounds every read of the pass, the mode's too: 1 s was hit by the mode's own read
    // on a machine at load 13 (then "the database did not answer", skipped), before the intents' read.
    // Only the intents' read waits for the lock below; 5 s leaves the others a busy machine's room.
    const t = await setup({ dbTimeout: '5s' });
    // Another session holds the intents locked: the read waits, as on a stalled database.
    await whileTableLocked(kill.db().url, 'order_intents', async () => {
      const result = await selfHeal(t.ctx, once);
      expect(result.ok).toBe(false);
      expect(selfHealExitCode(result)).toBe(1);
      expect(result.actions.find((a) => a.check === 'exchange')).toMatchObject({
        status: 'failed',
        detail: expect.stringContaining('not checked: whether live is at stake could not be read (the unresolved live order intents could not be read, so neither the open live positions: deadline: the database did not answer within 5000 ms)'),
      });
      expect(t.paper.calls).toEqual([]);
      expect(t.kraken.calls).toEqual([]);
    });
  });

  it('a web replica that leaves the exchange to the worker reads nothing of what is at stake there: no lease, intents or positions read every pass for nothing', async () => {
    const queries: string[] = [];
    const database = kill.track(recordingDatabase(kill.db().url, queries, 10_000));
    const t = await killTestContext({ database, armed: false, keys: false, env: { ENGINE_STALE_AFTER: '60s', KILL_DB_TIMEOUT: '8s' } });
    kill.track(t.ctx);
    await liveIntentLeft(t);
    queries.length = 0;
    const result = await selfHeal(t.ctx, { ...once, checkExchange: () => false });
    expect(result.actions.find((a) => a.check === 'exchange')).toEqual({ check: 'exchange', status: 'skipped', detail: 'checked by the worker that trades' });
    expect(queries.filter((q) => /engine_lease|order_intents|"trades"/.test(q))).toEqual([]);
    expect(queries.length).toBeGreaterThan(0);
    // The same shell, checking the exchange itself, does read them (and finds the live intent).
    await selfHeal(t.ctx, once);
    expect(queries.filter((q) => /order_intents/.test(q)).length).toBeGreaterThan(0);
  });

  it('nothing live anywhere (no engine, or an unarmed one; bot_state paper): paper is checked from any shell, and ok', async () => {
    const t = await setup();
    const none = await selfHeal(t.ctx, once);
    expect(none.ok).toBe(true);
    expect(none.actions.find((a) => a.check === 'exchange')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/on paper/) });
    expect(t.paper.calls).toContain('fetchOpenOrders');
    // bot_state live but the engine that holds the lease is not armed: it trades paper.
    await updateBotState(t.ctx.db, t.clock, { mode: 'live' });
    await engineHolds(t, { armed: false, hasKrakenKeys: false });
    const unarmed = await selfHeal(t.ctx, once);
    expect(unarmed.ok).toBe(true);
    expect(unarmed.actions.find((a) => a.check === 'reconcile')).toMatchObject({ status: 'skipped', detail: 'paper: the ledger is the venue' });
    expect(t.kraken.calls).toEqual([]);
  });
});

describe("the watchdog of an unarmed engine while the ledger holds live positions no engine trades", () => {
  it('checks the paper venue it trades on every pass, and pages once while its alert stays open (not every 15 minutes) saying to restart the worker armed', async () => {
    const t = await setup({ storeAlerts: true });
    await updateBotState(t.ctx.db, t.clock, { mode: 'paper' });
    // This process is the engine (unarmed, no keys); an armed live engine before it left a position open.
    await engineHolds(t, { armed: false, hasKrakenKeys: false });
    const position = await insertTrade(t.ctx.db, { mode: 'live' });
    const dog = startWatchdog(t.ctx, { timer: false, attempts: 1, baseDelayMs: 1, sleep: async () => {}, checkExchange: () => true });
    const pages = () => t.alerts.filter((a) => a.fingerprint === 'self-heal:live_left:failed');
    for (const minutes of [0, 15, 30, 45]) {
      if (minutes > 0) t.clock.advance(15 * 60_000);
      t.paper.calls.length = 0;
      const result = await dog.tick();
      expect(result!.ok).toBe(false);
      expect(result!.actions.filter((a) => a.check === 'exchange')).toEqual([
        expect.objectContaining({
          status: 'failed',
          detail: expect.stringMatching(/^Nobody checks live orders or positions on Kraken: restart the worker armed \(IS_LIVE=true, its Kraken keys\) so that its watchdog checks them there; .* Kraken was not asked: the ledger holds 1 open live position\(s\) on Kraken and the engine worker-1:4242 trades paper \(not armed\)/),
        }),
        expect.objectContaining({ status: 'ok', detail: expect.stringMatching(/^paper answers/) }),
      ]);
      expect({ minutes, calls: t.paper.calls }).toEqual({ minutes, calls: ['fetchOpenOrders'] });
    }
    expect(pages()).toEqual([expect.objectContaining({ severity: 'critical', title: expect.stringMatching(/restart the worker armed \(IS_LIVE=true, its Kraken keys\) so that its watchdog checks them there/) })]);
    // The position is dealt with: the episode ends; another one left later pages anew.
    await t.ctx.db.delete(trades).where(eq(trades.id, position.id));
    expect((await dog.tick())!.actions.filter((a) => a.check === 'exchange')).toEqual([expect.objectContaining({ status: 'ok' })]);
    await insertTrade(t.ctx.db, { mode: 'live' });
    await dog.tick();
    expect(pages()).toHaveLength(2);
    await dog.stop();
  });

  it('quiet while its alert is acknowledged; resolved while the position stays, it pages anew within 15 minutes', async () => {
    const t = await setup({ storeAlerts: true });
    await updateBotState(t.ctx.db, t.clock, { mode: 'paper' });
    await engineHolds(t, { armed: false, hasKrakenKeys: false });
    await insertTrade(t.ctx.db, { mode: 'live' });
    const dog = startWatchdog(t.ctx, { timer: false, attempts: 1, baseDelayMs: 1, sleep: async () => {}, checkExchange: () => true });
    const pages = () => t.alerts.filter((a) => a.fingerprint === LIVE_LEFT_FINGERPRINT);
    await dog.tick();
    expect(pages()).toHaveLength(1);
    const groupId = await liveAlertGroupId(t.ctx.db, LIVE_LEFT_FINGERPRINT);
    expect(groupId).not.toBeNull();
    await acknowledgeAlert({ db: t.ctx.db, clock: t.clock, groupId: groupId!, actor: 'U_ONCALL' });
    for (let i = 0; i < 4; i += 1) {
      t.clock.advance(15 * 60_000);
      await dog.tick();
    }
    expect(pages()).toHaveLength(1);
    // Resolved as done while the position is still in the ledger: the next look (within 15 minutes) pages again.
    await resolveAlert({ db: t.ctx.db, clock: t.clock, groupId: groupId!, actor: 'U_ONCALL' });
    await dog.tick();
    expect(pages()).toHaveLength(1);
    t.clock.advance(15 * 60_000);
    await dog.tick();
    expect(pages()).toEqual([expect.anything(), expect.objectContaining({ severity: 'critical', title: expect.stringMatching(/restart the worker armed/) })]);
    const again = await liveAlertGroupId(t.ctx.db, LIVE_LEFT_FINGERPRINT);
    expect(again).not.toBeNull();
    expect(again).not.toBe(groupId);
    // Open again: quiet again.
    t.clock.advance(15 * 60_000);
    await dog.tick();
    expect(pages()).toHaveLength(2);
    await dog.stop();
  });

  it('bot_state live: the page says an armed restart resumes LIVE trading with no new approval, and `ctb mode paper` first to only have them checked, within the title even for a long host name', async () => {
    const t = await setup({ storeAlerts: true });
    await updateBotState(t.ctx.db, t.clock, { mode: 'live' });
    const host = `${'worker-with-a-long-name.'.repeat(9)}example`;
    kill.track({ close: await holdLease(t.ctx.db, { holderId: 'live-worker', host, pid: 4242, role: 'worker', feed: 'kraken', armed: false, hasKrakenKeys: false }, 60_000) });
    await insertTrade(t.ctx.db, { mode: 'live' });
    const dog = startWatchdog(t.ctx, { timer: false, attempts: 1, baseDelayMs: 1, sleep: async () => {}, checkExchange: () => true });
    const result = await dog.tick();
    const step = 'Nobody checks live orders or positions on Kraken: restart the worker armed (IS_LIVE=true, its Kraken keys); bot_state says live, so it trades LIVE once its start reconciliation passes, with no new approval (to only have them checked, `ctb mode paper` first)';
    expect(result!.actions.find((a) => a.check === 'exchange')!.detail).toContain(`${step}; or check them with`);
    expect(result!.actions.find((a) => a.check === 'exchange')!.detail).toContain(host);
    const [page] = t.alerts.filter((a) => a.fingerprint === LIVE_LEFT_FINGERPRINT);
    // The title is cut at 300 characters: the whole step is in it, the long host name is not.
    expect(page!.title.length).toBe(300);
    expect(page!.title.startsWith(`Self-heal could not repair exchange: ${step};`)).toBe(true);
    // Halted: the restart does not trade until the halt is lifted, and says so.
    await updateBotState(t.ctx.db, t.clock, { halted: true });
    expect((await dog.tick())!.actions.find((a) => a.check === 'exchange')!.detail)
      .toContain('bot_state says live, so once the halt is lifted it trades LIVE, with no new approval (to only have them checked, `ctb mode paper` first)');
    await dog.stop();
  });
});
