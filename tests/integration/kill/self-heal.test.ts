// Self-heal and its watchdog: a lost database (stall proxy taken down, then back) is retried with
// backoff and reported healed; repeated exchange network errors are retried, then open orders and
// intents are resynced; a stale engine heartbeat and a database that never returns are failures;
// every action alerts (the watchdog: a failure once until that check is ok again); an unread
// trading mode is not guessed; a halted bot stays halted; a saved kill is written once the database is back.
import { ALONE_BY_CONSTRUCTION } from '../../../src/engine/ledger/intent-lease.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../../src/cli/io.js';
import { runCli } from '../../../src/cli/program.js';
import { botState } from '../../../src/db/schema/index.js';
import { engineHeartbeatAgeMs } from '../../../src/db/queries/bot-state-row.js';
import { markIntent, writeIntent } from '../../../src/engine/ledger/intents.js';
import { getBotState, updateBotState } from '../../../src/services/bot-state.js';
import { addPendingKill, readPendingKills, removePendingKills } from '../../../src/services/kill/pending-kill.js';
import { isHaltLatched } from '../../../src/services/kill/runtime.js';
import { selfHeal } from '../../../src/services/self-heal/self-heal.js';
import { ENGINE_STALE_EXIT_CODE, staleEngineHandler, startWatchdog } from '../../../src/services/self-heal/watchdog.js';
import { killTestContext, liveExitInFlight, recordingDatabase, useKillTestDb, whileTableLocked, type KillTestContext } from '../../support/kill-context.js';
import { openOrder } from '../../support/recording-exchange.js';
import { startStallProxy, type StallProxy } from '../../support/stall-proxy.js';
import { ADVISORY_LOCKS, takeAdvisoryLock } from '../../../src/db/advisory-lock.js';
import { renderSelfHeal, SELF_HEAL_TRY_AGAIN_EXIT, selfHealExitCode } from '../../../commands/self-heal.js';
import { systemClock } from '../../../src/clock.js';
import { ctbInShell } from '../../support/ctb-shell.js';
import { startFakeKraken } from '../../support/fake-kraken.js';
import { ExchangeError } from '../../../src/exchange/errors.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';

let proxy: StallProxy;
const kill = useKillTestDb(['incident_checklist_items', 'incidents', 'bot_state', 'order_intents', 'watchdog_clocks']);

async function setup(opts: { viaProxy?: boolean; armed?: boolean; dbTimeout?: string } = {}): Promise<KillTestContext> {
  let url = kill.db().url;
  if (opts.viaProxy) {
    proxy = await startStallProxy();
    kill.track(proxy);
    url = proxy.urlFor(kill.db().url);
  }
  const database = recordingDatabase(url, []);
  kill.track(database);
  const t = await killTestContext({ database, armed: opts.armed ?? false, env: { KILL_DB_TIMEOUT: opts.dbTimeout ?? '1s', ENGINE_STALE_AFTER: '60s' } });
  kill.track(t.ctx);
  return t;
}

const noWait = async () => {};

/**
 * The seconds an engine check reports, against a heartbeat the test set `setS` seconds back on the
 * database's clock: at least that, and at most its age read on that same clock right after the run —
 * never a guess at how long the run took on a loaded machine.
 */
async function expectEngineAge(detail: string | undefined, pattern: RegExp, setS: number, label: string): Promise<void> {
  const afterMs = await engineHeartbeatAgeMs(kill.db().db);
  const reported = Number(pattern.exec(detail ?? '')?.[1]);
  expect(detail, label).toMatch(pattern);
  expect(reported, label).toBeGreaterThanOrEqual(setS);
  expect(reported, label).toBeLessThanOrEqual(Math.round((afterMs ?? Number.NaN) / 1000));
}

describe('self-heal', () => {
  it('retries a lost database with backoff and reports it healed (with an alert)', async () => {
    // Once the proxy forwards again, the next probe opens a new connection through it: room for that
    // on a loaded machine (a probe that ran out of time would be one more retry, not the heal). Each
    // probe while it is down waits out this time: postgres.js keeps reconnecting until the deadline.
    const t = await setup({ viaProxy: true, dbTimeout: '4s' });
    proxy.set('down');
    const waits: number[] = [];
    const result = await selfHeal(t.ctx, {
      attempts: 5, baseDelayMs: 100,
      sleep: async (ms) => {
        waits.push(ms);
        if (waits.length === 2) proxy.set('forward');
      },
    });
    expect(waits).toEqual([100, 200]);
    expect(result.actions.find((a) => a.check === 'database')).toMatchObject({ status: 'healed', attempts: 3 });
    expect(result.ok).toBe(true);
    expect(t.alerts).toContainEqual(expect.objectContaining({ source: 'self_heal', severity: 'warning', title: expect.stringMatching(/repaired database/) }));
  });

  it('a database that never returns is a failure: critical alert, halt state unknown, nothing else assumed', async () => {
    const t = await setup({ viaProxy: true });
    proxy.set('down');
    const result = await selfHeal(t.ctx, { attempts: 2, baseDelayMs: 1, sleep: noWait });
    expect(result.ok).toBe(false);
    expect(result.halted).toBeNull();
    expect(result.actions.find((a) => a.check === 'database')).toMatchObject({ status: 'failed', attempts: 2 });
    // Paper's orders are in that database: no second round of attempts against it as "the exchange".
    expect(result.actions.find((a) => a.check === 'exchange')).toMatchObject({ status: 'skipped', detail: expect.stringMatching(/^not checked: the database did not answer/) });
    expect(result.actions.find((a) => a.check === 'engine')).toMatchObject({ status: 'skipped' });
    expect(t.alerts).toContainEqual(expect.objectContaining({ severity: 'critical', title: expect.stringMatching(/could not repair database/) }));
  });

  it('retries repeated exchange network errors, then resyncs open orders from the exchange', async () => {
    const t = await setup();
    t.paper.open.push(openOrder('P1'));
    t.paper.mode = 'network_error';
    let waits = 0;
    const result = await selfHeal(t.ctx, { attempts: 5, baseDelayMs: 1, sleep: async () => { if (++waits === 2) t.paper.mode = 'ok'; } });
    const action = result.actions.find((a) => a.check === 'exchange')!;
    expect(action).toMatchObject({ status: 'healed', attempts: 3 });
    expect(action.detail).toMatch(/paper unreachable \(test\).*resynced: 1 open order\(s\) on paper; intents resolved: 0 recorded/);
    expect(t.paper.calls.filter((c) => c === 'fetchOpenOrders')).toHaveLength(3);
    expect(t.alerts).toContainEqual(expect.objectContaining({ title: expect.stringMatching(/repaired exchange/) }));

    t.paper.mode = 'network_error';
    const down = await selfHeal(t.ctx, { attempts: 3, baseDelayMs: 1, sleep: noWait });
    expect(down.actions.find((a) => a.check === 'exchange')).toMatchObject({ status: 'failed', attempts: 3 });
    expect(down.ok).toBe(false);
  });

  it('intents left unresolved are not ok: failed when the balance read fails, deferred when Kraken refuses for now or an order lookup fails', async () => {
    const t = await setup();
    await updateBotState(t.ctx.db, t.clock, { mode: 'paper' });
    const pending = await writeIntent(t.ctx.db, {
      mode: 'paper', feed: 'kraken', strategy: 'btc-ma-cross', symbol: 'BTC/USD', side: 'buy', purpose: 'entry', type: 'market', quantity: '0.01', at: t.clock.now(),
    }, { lease: ALONE_BY_CONSTRUCTION, armed: false });
    expect(pending).not.toBeNull();
    // Open orders answer; the balances the intents are resolved against do not.
    let balances: Error | null = new Error('balance endpoint down (test)');
    t.paper.fetchBalances = async () => { if (balances) throw balances; return []; };
    const failed = await selfHeal(t.ctx, { attempts: 1, sleep: noWait, alwaysResync: true });
    expect(failed.ok, JSON.stringify(failed.actions)).toBe(false);
    expect(selfHealExitCode(failed)).toBe(1);
    expect(failed.actions.find((a) => a.check === 'exchange')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/intents not resolved \(see intents\)$/) });
    expect(failed.actions.find((a) => a.check === 'intents')).toMatchObject({ status: 'failed', detail: 'not resolved: balance endpoint down (test)' });
    expect(t.alerts).toContainEqual(expect.objectContaining({ severity: 'critical', fingerprint: 'self-heal:intents:failed' }));

    balances = new ExchangeError('retryable', 'rate_limited', 'rate limit exceeded (test)');
    const refused = await selfHeal(t.ctx, { attempts: 1, sleep: noWait, alwaysResync: true });
    expect(refused.ok).toBe(false);
    // Kraken refusing for now is all that is left: try again (EX_TEMPFAIL), not a failure.
    expect(selfHealExitCode(refused)).toBe(SELF_HEAL_TRY_AGAIN_EXIT);
    expect(refused.actions.find((a) => a.check === 'intents')).toMatchObject({ status: 'deferred', detail: expect.stringMatching(/^not resolved: rate_limited: rate limit exceeded \(test\); Kraken refuses for now \(rate_limited\)/) });

    // Balances answer, but the order's lookup does not: the intent stays unresolved.
    balances = null;
    t.paper.fetchOrderByClientId = async () => { throw new ExchangeError('retryable', 'network', 'paper unreachable (test)'); };
    const unreachable = await selfHeal(t.ctx, { attempts: 1, sleep: noWait, alwaysResync: true });
    expect(unreachable.ok).toBe(false);
    // Why the lookup failed is not known to pass by itself: 1, not "try again".
    expect(selfHealExitCode(unreachable)).toBe(1);
    expect(unreachable.actions.find((a) => a.check === 'exchange')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/1 unreachable$/) });
    expect(unreachable.actions.find((a) => a.check === 'intents')).toMatchObject({ status: 'deferred', detail: expect.stringMatching(/^1 intent\(s\) not resolved/) });
  });

  it('after resyncing a live exchange, reconciles the ledger against it and fails (critical) on differences', async () => {
    const t = await setup({ armed: true });
    await updateBotState(t.ctx.db, t.clock, { mode: 'live' });
    t.kraken.mode = 'network_error';
    let waits = 0;
    const reconciled: string[] = [];
    const result = await selfHeal(t.ctx, {
      attempts: 5, baseDelayMs: 1, sleep: async () => { if (++waits === 1) t.kraken.mode = 'ok'; },
      reconcile: async () => {
        reconciled.push('run');
        return { ok: false, summaryLine: '1 mismatched, 2 recent unmatched', reportFile: '/tmp/reports/reconcile.json' };
      },
    });
    expect(result.actions.find((a) => a.check === 'exchange')).toMatchObject({ status: 'healed' });
    expect(reconciled).toEqual(['run']);
    const action = result.actions.find((a) => a.check === 'reconcile')!;
    expect(action).toMatchObject({ status: 'failed' });
    expect(action.detail).toBe('1 mismatched, 2 recent unmatched; check the ledger before resuming (report: /tmp/reports/reconcile.json)');
    expect(result.ok).toBe(false);
    expect(t.alerts).toContainEqual(expect.objectContaining({ severity: 'critical', title: expect.stringMatching(/could not repair reconcile/) }));
  });

  /** A live order sent to Kraken and not booked yet; Kraken's first answer is a network error (so the probe retries and resyncs). */
  async function liveOrderInFlight() {
    const t = await setup({ armed: true });
    const intentId = await liveExitInFlight(t);
    const reconciled: string[] = [];
    const options = {
      attempts: 5, baseDelayMs: 1, sleep: async () => { t.kraken.mode = 'ok'; },
      reconcile: async () => { reconciled.push('run'); return { ok: true, summaryLine: 'ledger matches kraken', reportFile: null }; },
    };
    return { t, intentId, reconciled, options };
  }

  it.each([undefined, 'once'] as const)('a one-off run (runBy %s) does not reconcile while a live order is still in flight: deferred, says to run it again, exits 75, nobody paged', async (runBy) => {
    const { t, reconciled, options } = await liveOrderInFlight();
    const result = await selfHeal(t.ctx, { ...options, ...(runBy ? { runBy } : {}) });
    expect(result.actions.find((a) => a.check === 'exchange')).toMatchObject({ status: 'healed' });
    expect(reconciled).toEqual([]);
    const reconcile = result.actions.find((a) => a.check === 'reconcile');
    expect(reconcile).toMatchObject({ status: 'deferred', waitingFor: 'fills_booked', detail: '1 live order(s) still in flight: the ledger is not reconciled; run `ctb self-heal` again once their fills are booked' });
    expect(result.ok).toBe(false);
    expect(selfHealExitCode(result)).toBe(SELF_HEAL_TRY_AGAIN_EXIT);
    expect(t.alerts.filter((a) => a.severity === 'critical')).toEqual([]);
  });

  it('the watchdog skips reconciling while a live order is in flight and owes it: the first pass that finds none in flight reconciles, then no more', async () => {
    const { t, intentId, reconciled, options } = await liveOrderInFlight();
    const dog = startWatchdog(t.ctx, { timer: false, ...options });
    const first = await dog.tick();
    expect(reconciled).toEqual([]);
    expect(first!.actions.find((a) => a.check === 'reconcile')).toMatchObject({ status: 'skipped', detail: expect.stringMatching(/^1 live order\(s\) still in flight: .*; the next pass that finds none in flight reconciles$/) });
    expect(t.alerts.filter((a) => a.severity === 'critical')).toEqual([]);
    // Kraken answers at once from here on: only the owed reconciliation makes a pass resync.
    await markIntent(t.ctx.db, { id: intentId, status: 'filled', at: t.clock.now() });
    const second = await dog.tick();
    expect(reconciled).toEqual(['run']);
    expect(second!.actions.find((a) => a.check === 'reconcile')).toMatchObject({ status: 'ok', detail: 'ledger matches kraken' });
    t.kraken.calls.length = 0;
    const third = await dog.tick();
    expect(reconciled).toEqual(['run']);
    expect(third!.actions.find((a) => a.check === 'reconcile')).toBeUndefined();
    expect(t.kraken.calls).toEqual(['fetchOpenOrders']);
    await dog.stop();
  });

  it('while only a reconciliation is owed, the watchdog does not resync each pass: it counts orders in flight again and reconciles once none is', async () => {
    const { t, intentId, reconciled, options } = await liveOrderInFlight();
    // Resyncing asks Kraken's private API for the orders and the balances: count those calls too.
    const { fetchOrderByClientId, fetchBalances } = t.kraken;
    t.kraken.fetchOrderByClientId = async (...args) => { t.kraken.calls.push('fetchOrderByClientId'); return fetchOrderByClientId(...args); };
    t.kraken.fetchBalances = async () => { t.kraken.calls.push('fetchBalances'); return fetchBalances(); };
    const dog = startWatchdog(t.ctx, { timer: false, ...options });
    await dog.tick();
    expect(t.kraken.calls).toContain('fetchOrderByClientId');
    for (const pass of [2, 3]) {
      t.kraken.calls.length = 0;
      const result = await dog.tick();
      expect({ pass, calls: t.kraken.calls }).toEqual({ pass, calls: ['fetchOpenOrders'] });
      expect(result!.actions.find((a) => a.check === 'reconcile')).toMatchObject({ status: 'skipped', detail: expect.stringMatching(/^1 live order\(s\) still in flight/) });
    }
    expect(reconciled).toEqual([]);
    // The engine's follower books its fills: the next pass reconciles, still without a resync.
    await markIntent(t.ctx.db, { id: intentId, status: 'filled', at: t.clock.now() });
    t.kraken.calls.length = 0;
    const settled = await dog.tick();
    expect(reconciled).toEqual(['run']);
    expect(settled!.actions.find((a) => a.check === 'reconcile')).toMatchObject({ status: 'ok', detail: 'ledger matches kraken' });
    expect(t.kraken.calls).toEqual(['fetchOpenOrders']);
    expect(t.alerts.filter((a) => a.severity === 'critical')).toEqual([]);
    await dog.stop();
  });

  it('the watchdog pages once a reconciliation has been owed for orders in flight over 15 minutes, not before', async () => {
    const { t, reconciled, options } = await liveOrderInFlight();
    const dog = startWatchdog(t.ctx, { timer: false, ...options });
    await dog.tick();
    t.clock.advance(14 * 60_000);
    const early = await dog.tick();
    expect(early!.actions.find((a) => a.check === 'reconcile')).toMatchObject({ status: 'skipped' });
    expect(t.alerts.filter((a) => a.severity === 'critical')).toEqual([]);
    t.clock.advance(60_000);
    const late = await dog.tick();
    expect(reconciled).toEqual([]);
    expect(late!.ok).toBe(false);
    expect(late!.actions.find((a) => a.check === 'reconcile')).toMatchObject({
      status: 'failed', detail: expect.stringMatching(/^1 live order\(s\) still in flight; the reconciliation has been owed for 15 min \(limit 15 min\): look those orders up on Kraken/),
    });
    expect(t.alerts).toContainEqual(expect.objectContaining({ source: 'self_heal', severity: 'critical', title: expect.stringMatching(/could not repair reconcile: 1 live order\(s\) still in flight; the reconciliation has been owed for 15 min/) }));
    await dog.stop();
  });

  it('the watchdog raises an owed reconciliation again only every 15 minutes while it stays owed, not on every pass; a reconciliation that runs ends the period, and the next one pages at once', async () => {
    const { t, intentId, reconciled, options } = await liveOrderInFlight();
    const dog = startWatchdog(t.ctx, { timer: false, ...options });
    const critical = () => t.alerts.filter((a) => a.severity === 'critical');
    await dog.tick();
    t.clock.advance(15 * 60_000);
    await dog.tick();
    expect(critical()).toHaveLength(1);
    // Every later pass still says the reconciliation failed, but raises nothing more for 15 minutes: a
    // repeat of the alert's fingerprint on every pass would be one more message in its thread each pass.
    for (const minutes of [16, 17, 29]) {
      t.clock.advance((minutes === 29 ? 12 : 1) * 60_000);
      const again = await dog.tick();
      expect(again!.ok).toBe(false);
      expect(again!.actions.find((a) => a.check === 'reconcile')).toMatchObject({ status: 'failed', detail: expect.stringMatching(new RegExp(`^1 live order\\(s\\) still in flight; the reconciliation has been owed for ${minutes} min`)) });
    }
    expect(critical()).toHaveLength(1);
    // 15 minutes after it was raised, still owed: raised again (one "Again:" line, or a new page if it was resolved).
    t.clock.advance(60_000);
    await dog.tick();
    expect(critical()).toHaveLength(2);
    expect(critical()[1]).toMatchObject({ fingerprint: 'self-heal:reconcile_owed:failed', title: expect.stringMatching(/owed for 30 min/) });
    // Its fills are booked: the next pass reconciles, which ends the owed period.
    await markIntent(t.ctx.db, { id: intentId, status: 'filled', at: t.clock.now() });
    const settled = await dog.tick();
    expect(reconciled).toEqual(['run']);
    expect(settled!.actions.find((a) => a.check === 'reconcile')).toMatchObject({ status: 'ok' });
    // Another order stays in flight past 15 minutes (Kraken's first answer fails, so the pass resyncs): a new period, a new page.
    const next = await writeIntent(t.ctx.db, {
      mode: 'live', feed: 'kraken', strategy: 'btc-ma-cross', symbol: 'BTC/USD', side: 'buy', purpose: 'entry', type: 'market', quantity: '0.01', at: t.clock.now(),
    }, { lease: ALONE_BY_CONSTRUCTION, armed: true });
    await markIntent(t.ctx.db, { id: next!.id, status: 'sent', exchangeOrderId: 'OENTRY2-AAAAA-BBBBBB', at: t.clock.now() });
    t.kraken.mode = 'network_error';
    const owedAgain = await dog.tick();
    expect(owedAgain!.actions.find((a) => a.check === 'reconcile')).toMatchObject({ status: 'skipped', detail: expect.stringMatching(/^1 live order\(s\) still in flight: /) });
    t.clock.advance(15 * 60_000);
    await dog.tick();
    expect(critical()).toHaveLength(3);
    expect(critical()[2]).toMatchObject({ fingerprint: 'self-heal:reconcile_owed:failed', title: expect.stringMatching(/could not repair reconcile: 1 live order\(s\) still in flight; the reconciliation has been owed for 15 min/) });
    await dog.stop();
  });

  /** `work` run with `table`.`column` renamed away: a read that selects it fails as the database answers it; put back after. */
  async function withColumnAway<T>(table: string, column: string, work: () => Promise<T>): Promise<T> {
    const db = kill.db().db;
    await db.execute(sql.raw(`alter table ${table} rename column ${column} to ${column}_away`));
    try {
      return await work();
    } finally {
      await db.execute(sql.raw(`alter table ${table} rename column ${column}_away to ${column}`));
    }
  }
  const countFailed = 'the live orders in flight could not be counted (a database query failed: column "charged_fee_currency" does not exist)';

  it("a one-off run whose count of orders in flight the database did not give does not reconcile on a guess: the check fails, says what to run, exits 1", async () => {
    // The ledger's fills of a resting order cannot be read: whether it is in flight is not known.
    const { t, reconciled, reconcile } = await liveOrderResting('0');
    const result = await withColumnAway('fills', 'charged_fee_currency', () => selfHeal(t.ctx, { attempts: 1, baseDelayMs: 1, sleep: noWait, alwaysResync: true, runBy: 'once', reconcile }));
    expect(reconciled).toEqual([]);
    expect(result.actions.find((a) => a.check === 'reconcile')).toEqual({
      check: 'reconcile', status: 'failed', detail: `${countFailed}: the ledger is not reconciled; the query failed: find why (see the error), then run \`ctb self-heal\` again`,
    });
    expect(result.ok).toBe(false);
    expect(selfHealExitCode(result)).toBe(1);
    expect(t.alerts).toContainEqual(expect.objectContaining({ severity: 'critical', fingerprint: 'self-heal:reconcile:failed' }));
  });

  it("the watchdog owes a reconciliation whose count of orders in flight the database did not give, pages once it has been owed over 15 minutes, and reconciles once the count reads none", async () => {
    const { t, reconciled, reconcile } = await liveOrderResting('0');
    // Kraken's first answer fails: the first pass resyncs, as after any retried probe.
    t.kraken.mode = 'network_error';
    const dog = startWatchdog(t.ctx, { timer: false, attempts: 5, baseDelayMs: 1, sleep: async () => { t.kraken.mode = 'ok'; }, reconcile });
    const critical = () => t.alerts.filter((a) => a.severity === 'critical');
    await withColumnAway('fills', 'charged_fee_currency', async () => {
      const first = await dog.tick();
      expect(first!.actions.find((a) => a.check === 'reconcile')).toEqual({
        check: 'reconcile', status: 'skipped', detail: `${countFailed}: the ledger is not reconciled; the next pass counts them again and reconciles once none is in flight`,
      });
      t.clock.advance(14 * 60_000);
      const early = await dog.tick();
      expect(early!.actions.find((a) => a.check === 'reconcile')).toMatchObject({ status: 'skipped', detail: expect.stringMatching(/^the live orders in flight could not be counted/) });
      expect(critical()).toEqual([]);
      t.clock.advance(60_000);
      const late = await dog.tick();
      expect(late!.ok).toBe(false);
      expect(late!.actions.find((a) => a.check === 'reconcile')).toEqual({
        check: 'reconcile', status: 'failed',
        detail: `${countFailed}; the reconciliation has been owed for 15 min (limit 15 min): find why the database does not answer that count, and run \`ctb reconcile\``,
      });
      t.clock.advance(60_000);
      await dog.tick();
      expect(critical()).toEqual([expect.objectContaining({ fingerprint: 'self-heal:reconcile_owed:failed', title: `Self-heal could not repair reconcile: ${countFailed}; the reconciliation has been owed for 15 min (limit 15 min): find why the database does not answer that count, and run \`ctb reconcile\``.slice(0, 300) })]);
    });
    expect(reconciled).toEqual([]);
    const read = await dog.tick();
    expect(reconciled).toEqual(['run']);
    expect(read!.actions.find((a) => a.check === 'reconcile')).toMatchObject({ status: 'ok', detail: 'ledger matches kraken' });
    await dog.stop();
  });

  it('the watchdog does not wait on a count of orders in flight the database does not answer: past KILL_DB_TIMEOUT the reconciliation stays owed', async () => {
    const { t, reconciled, options } = await liveOrderInFlight();
    const dog = startWatchdog(t.ctx, { timer: false, ...options });
    await dog.tick();
    // Another session holds the intents locked: the count waits, as on a stalled database.
    await whileTableLocked(kill.db().url, 'order_intents', async () => {
      const stalled = await dog.tick();
      expect(stalled!.actions.find((a) => a.check === 'reconcile')).toEqual({
        check: 'reconcile', status: 'skipped',
        detail: 'the live orders in flight could not be counted (deadline: the database did not answer within 1000 ms): the ledger is not reconciled; the next pass counts them again and reconciles once none is in flight',
      });
    });
    expect(reconciled).toEqual([]);
    expect(t.alerts.filter((a) => a.severity === 'critical')).toEqual([]);
    await dog.stop();
  });

  const modeUnread = 'the trading mode could not be read (a database query failed: column "mode" does not exist)';
  const notChecked = `not checked: ${modeUnread}, so whether the bot trades on kraken or on paper is not known: no venue asked, no intent resolved, the ledger not reconciled`;

  it('a one-off run that cannot read the trading mode of an armed bot checks no venue on a guess: the exchange check fails, nothing is reconciled, exits 1', async () => {
    const t = await setup({ armed: true });
    await updateBotState(t.ctx.db, t.clock, { mode: 'live' });
    const reconciled: string[] = [];
    const reconcile = async () => { reconciled.push('run'); return { ok: true, summaryLine: 'ledger matches kraken', reportFile: null }; };
    const result = await withColumnAway('bot_state', 'mode', () => selfHeal(t.ctx, { attempts: 1, baseDelayMs: 1, sleep: noWait, alwaysResync: true, runBy: 'once', reconcile }));
    // Neither venue asked: as paper a live bot would be reported ok with Kraken never asked.
    expect(t.kraken.calls).toEqual([]);
    expect(t.paper.calls).toEqual([]);
    expect(reconciled).toEqual([]);
    expect(result.halted).toBeNull();
    expect(result.actions.find((a) => a.check === 'exchange')).toEqual({
      check: 'exchange', status: 'failed', detail: `${notChecked}; run \`ctb self-heal\` again once the database answers`,
    });
    expect(result.actions.find((a) => a.check === 'reconcile')).toEqual({ check: 'reconcile', status: 'skipped', detail: `not reconciled: ${modeUnread}` });
    expect(result.ok).toBe(false);
    // As a database that does not answer: 1, not "try again".
    expect(selfHealExitCode(result)).toBe(1);
    expect(t.alerts).toContainEqual(expect.objectContaining({ severity: 'critical', fingerprint: 'self-heal:mode:failed', title: `Self-heal could not repair exchange: ${notChecked}; run \`ctb self-heal\` again once the database answers`.slice(0, 300) }));
    expect(renderSelfHeal(result)).toMatch(/^FAILED\s+exchange\s+not checked: the trading mode could not be read \(/m);
    expect(renderSelfHeal(result)).toMatch(/^Self-heal: something is still broken \(see FAILED\); halt state unknown \(the database did not give it\)\.$/m);

    // Unarmed, the engine trades paper whatever bot_state says: paper is checked, as before.
    const unarmed = await setup();
    const paper = await withColumnAway('bot_state', 'mode', () => selfHeal(unarmed.ctx, { attempts: 1, baseDelayMs: 1, sleep: noWait, alwaysResync: true, runBy: 'once' }));
    expect(paper.actions.find((a) => a.check === 'exchange')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/on paper/) });
    expect(unarmed.kraken.calls).toEqual([]);
  });

  it('with bot_state read but a read of what is live at stake failing, the page names that read and its table, not bot_state', async () => {
    const t = await setup();
    const dog = startWatchdog(t.ctx, { timer: false, attempts: 1, baseDelayMs: 1, sleep: noWait });
    const unread = 'whether live is at stake could not be read (the unresolved live order intents could not be read, so neither the open live positions: '
      + 'a database query failed: column "status" does not exist)';
    const what = `not checked: ${unread}, so whether the bot trades on kraken or on paper is not known: no venue asked, no intent resolved, the ledger not reconciled`;
    await withColumnAway('order_intents', 'status', async () => {
      const first = await dog.tick();
      expect(first!.actions.find((a) => a.check === 'exchange')).toEqual({ check: 'exchange', status: 'deferred', detail: `${what}; the next pass reads it again` });
      expect(first!.actions.find((a) => a.check === 'reconcile')).toEqual({ check: 'reconcile', status: 'skipped', detail: `not reconciled: ${unread}` });
      t.clock.advance(15 * 60_000);
      const late = await dog.tick();
      expect(late!.actions.find((a) => a.check === 'exchange')).toEqual({
        check: 'exchange', status: 'failed', detail: `${what}, for 15 min (limit 15 min): find why the database does not answer the read of the unresolved live order intents (table order_intents)`,
      });
    });
    expect(t.alerts.filter((a) => a.severity === 'critical').map((a) => a.title)).toEqual([expect.not.stringContaining('bot_state')]);
    expect(t.kraken.calls).toEqual([]);
    expect(t.paper.calls).toEqual([]);
    await dog.stop();
  });

  it("the watchdog defers an armed bot's exchange check while the trading mode cannot be read, pages once that has lasted 15 minutes, and resyncs and reconciles once it reads it", async () => {
    const t = await setup({ armed: true });
    await updateBotState(t.ctx.db, t.clock, { mode: 'live' });
    const reconciled: string[] = [];
    const reconcile = async () => { reconciled.push('run'); return { ok: true, summaryLine: 'ledger matches kraken', reportFile: null }; };
    const dog = startWatchdog(t.ctx, { timer: false, attempts: 1, baseDelayMs: 1, sleep: noWait, reconcile });
    const ofMode = () => t.alerts.filter((a) => a.fingerprint?.startsWith('self-heal:mode:')).map((a) => `${a.severity} ${a.fingerprint}`);
    await withColumnAway('bot_state', 'mode', async () => {
      const first = await dog.tick();
      expect(first!.ok).toBe(false);
      expect(first!.actions.find((a) => a.check === 'exchange')).toEqual({ check: 'exchange', status: 'deferred', detail: `${notChecked}; the next pass reads it again` });
      expect(first!.actions.find((a) => a.check === 'reconcile')).toEqual({ check: 'reconcile', status: 'skipped', detail: `not reconciled: ${modeUnread}` });
      t.clock.advance(14 * 60_000);
      const early = await dog.tick();
      expect(early!.actions.find((a) => a.check === 'exchange')).toMatchObject({ status: 'deferred' });
      expect(ofMode()).toEqual(['warning self-heal:mode:deferred']);
      t.clock.advance(60_000);
      const late = await dog.tick();
      expect(late!.ok).toBe(false);
      expect(late!.actions.find((a) => a.check === 'exchange')).toEqual({
        check: 'exchange', status: 'failed', detail: `${notChecked}, for 15 min (limit 15 min): find why the database does not give the bot_state row`,
      });
      t.clock.advance(60_000);
      const later = await dog.tick();
      expect(later!.actions.find((a) => a.check === 'exchange')).toMatchObject({ status: 'failed', detail: expect.stringMatching(/, for 16 min \(limit 15 min\)/) });
      expect(ofMode()).toEqual(['warning self-heal:mode:deferred', 'critical self-heal:mode:failed']);
    });
    expect(t.kraken.calls).toEqual([]);
    expect(t.paper.calls).toEqual([]);
    expect(reconciled).toEqual([]);
    // Read again: live, so the pass resyncs and reconciles what went unchecked meanwhile.
    const read = await dog.tick();
    expect(read!.ok, JSON.stringify(read!.actions)).toBe(true);
    expect(read!.actions.find((a) => a.check === 'exchange')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/resynced: 0 open order\(s\) on kraken/) });
    expect(reconciled).toEqual(['run']);
    // Unread again: a new period, a new warning.
    await withColumnAway('bot_state', 'mode', () => dog.tick());
    expect(ofMode()).toEqual(['warning self-heal:mode:deferred', 'critical self-heal:mode:failed', 'warning self-heal:mode:deferred']);
    await dog.stop();
  });

  it('the watchdog raises a stale engine heartbeat once per episode, not on every pass; a fresh heartbeat ends it, and the next stale one alerts again', async () => {
    const t = await setup();
    await kill.db().db.insert(botState).values({ id: 1, engineHeartbeatAt: sql`now() - interval '5 minutes'` });
    const dog = startWatchdog(t.ctx, { timer: false, attempts: 1, sleep: noWait });
    const stale = () => t.alerts.filter((a) => a.fingerprint === 'self-heal:engine:failed');
    // The alert pipeline does not take the first one: not raised, so the next pass raises it.
    const { raise } = t.ctx.alerts;
    let refuse = true;
    t.ctx.alerts.raise = async (a) => { if (refuse) { refuse = false; throw new Error('outbox down (test)'); } return raise(a); };
    for (const pass of [1, 2, 3, 4]) {
      const result = await dog.tick();
      // Every pass still reports it.
      expect({ pass, engine: result!.actions.find((a) => a.check === 'engine')?.status }).toEqual({ pass, engine: 'failed' });
    }
    expect(stale()).toHaveLength(1);
    await kill.db().db.update(botState).set({ engineHeartbeatAt: sql`now() - interval '2 seconds'` });
    expect((await dog.tick())!.actions.find((a) => a.check === 'engine')).toMatchObject({ status: 'ok' });
    await kill.db().db.update(botState).set({ engineHeartbeatAt: sql`now() - interval '5 minutes'` });
    await dog.tick();
    await dog.tick();
    expect(stale()).toHaveLength(2);
    await dog.stop();
  });

  it("the watchdog raises Kraken's refusal as a warning, and as a page past 15 minutes, each again only 15 minutes after it was last raised, not on every pass; the exchange answering ends it", async () => {
    const t = await setup();
    let refusing = true;
    const { fetchOpenOrders } = t.paper;
    t.paper.fetchOpenOrders = async () => {
      if (refusing) throw new ExchangeError('retryable', 'rate_limited', 'rate limit exceeded (test)');
      return fetchOpenOrders();
    };
    const dog = startWatchdog(t.ctx, { timer: false, attempts: 1, sleep: noWait });
    const ofExchange = () => t.alerts.filter((a) => a.fingerprint?.startsWith('self-heal:exchange:')).map((a) => a.fingerprint);
    await dog.tick();
    t.clock.advance(14 * 60_000);
    expect((await dog.tick())!.actions.find((a) => a.check === 'exchange')).toMatchObject({ status: 'deferred' });
    expect(ofExchange()).toEqual(['self-heal:exchange:deferred']);
    t.clock.advance(60_000);
    expect((await dog.tick())!.actions.find((a) => a.check === 'exchange')).toMatchObject({ status: 'failed', detail: expect.stringMatching(/for 15 min \(limit 15 min\)$/) });
    // Still refused: every pass reports it (a new 15-minute bound after each failure); each alert is
    // raised again only once 15 minutes have passed since it was last raised.
    const raisedAt: string[] = [];
    for (const [minute, status] of [[16, 'deferred'], [29, 'deferred'], [31, 'failed'], [32, 'deferred'], [46, 'deferred'], [47, 'failed']] as const) {
      t.clock.set(new Date(Date.parse('2026-03-02T10:00:00Z') + minute * 60_000));
      const before = ofExchange().length;
      expect({ minute, action: (await dog.tick())!.actions.find((a) => a.check === 'exchange') }).toMatchObject({ minute, action: { status } });
      if (ofExchange().length > before) raisedAt.push(`${minute}:${ofExchange().at(-1)}`);
    }
    expect(raisedAt).toEqual(['16:self-heal:exchange:deferred', '31:self-heal:exchange:failed', '32:self-heal:exchange:deferred', '47:self-heal:exchange:failed']);
    refusing = false;
    expect((await dog.tick())!.actions.find((a) => a.check === 'exchange')).toMatchObject({ status: 'ok' });
    refusing = true;
    const before = ofExchange().length;
    await dog.tick();
    expect(ofExchange().slice(before)).toEqual(['self-heal:exchange:deferred']);
    await dog.stop();
  });

  it('the watchdog raises intents it could not resolve once, until a pass resolves them all; the next failure alerts again', async () => {
    const t = await setup();
    const pendingIntent = () => writeIntent(t.ctx.db, {
      mode: 'paper', feed: 'kraken', strategy: 'btc-ma-cross', symbol: 'BTC/USD', side: 'buy', purpose: 'entry', type: 'market', quantity: '0.01', at: t.clock.now(),
    }, { lease: ALONE_BY_CONSTRUCTION, armed: false });
    await updateBotState(t.ctx.db, t.clock, { mode: 'paper' });
    expect(await pendingIntent()).not.toBeNull();
    let balances: Error | null = new Error('balance endpoint down (test)');
    t.paper.fetchBalances = async () => { if (balances) throw balances; return []; };
    const dog = startWatchdog(t.ctx, { timer: false, attempts: 1, sleep: noWait, alwaysResync: true });
    const ofIntents = () => t.alerts.filter((a) => a.fingerprint === 'self-heal:intents:failed');
    for (const pass of [1, 2, 3]) {
      const result = await dog.tick();
      expect({ pass, intents: result!.actions.find((a) => a.check === 'intents') }).toEqual({ pass, intents: { check: 'intents', status: 'failed', detail: 'not resolved: balance endpoint down (test)' } });
    }
    expect(ofIntents()).toHaveLength(1);
    balances = null;
    const resolved = await dog.tick();
    expect(resolved!.actions.find((a) => a.check === 'intents')).toBeUndefined();
    expect(resolved!.actions.find((a) => a.check === 'exchange')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/0 unreachable$/) });
    expect(await pendingIntent()).not.toBeNull();
    balances = new Error('balance endpoint down (test)');
    await dog.tick();
    expect(ofIntents()).toHaveLength(2);
    await dog.stop();
  });

  it('the watchdog raises a saved kill it cannot write once, until no saved kill waits; a new one it cannot write alerts again', async () => {
    const t = await setup();
    const save = (killId: string) => addPendingKill(t.dataDir, { killId, at: t.clock.now().toISOString(), actor: 'cli:ops', actorSource: 'cli', trigger: 'manual', reason: 'db was down', cancelReport: {} });
    const dog = startWatchdog(t.ctx, { timer: false, attempts: 1, sleep: noWait });
    const ofKill = () => t.alerts.filter((a) => a.fingerprint === 'self-heal:pending_kill:failed');
    await save('saved-1');
    await withColumnAway('incidents', 'kill_id', async () => {
      for (const pass of [1, 2, 3]) {
        const result = await dog.tick();
        expect({ pass, status: result!.actions.find((a) => a.check === 'pending_kill')?.status }).toEqual({ pass, status: 'failed' });
      }
    });
    expect(ofKill()).toHaveLength(1);
    // Another process wrote it: nothing waits, which ends the episode.
    await removePendingKills(t.dataDir, ['saved-1']);
    expect((await dog.tick())!.actions.find((a) => a.check === 'pending_kill')).toBeUndefined();
    await save('saved-2');
    await withColumnAway('incidents', 'kill_id', () => dog.tick());
    expect(ofKill()).toHaveLength(2);
    await dog.stop();
  });

  /** A live order resting in Kraken's book (adopted, or a limit order): its intent is open and Kraken lists it open, `filled` filled. */
  async function liveOrderResting(filled: string) {
    const t = await setup({ armed: true });
    await updateBotState(t.ctx.db, t.clock, { mode: 'live' });
    const intent = await writeIntent(t.ctx.db, {
      mode: 'live', feed: 'kraken', strategy: 'external', symbol: 'BTC/USD', side: 'buy', purpose: 'entry', type: 'limit', quantity: '0.01', limitPrice: '50000', at: t.clock.now(),
    }, { lease: ALONE_BY_CONSTRUCTION, armed: true });
    await markIntent(t.ctx.db, { id: intent!.id, status: 'open', exchangeOrderId: 'OREST1-AAAAA-BBBBBB', at: t.clock.now() });
    t.kraken.open.push(openOrder('OREST1-AAAAA-BBBBBB', { clientOrderId: intent!.clientOrderId, filledQuantity: filled }));
    const reconciled: string[] = [];
    const reconcile = async () => { reconciled.push('run'); return { ok: true, summaryLine: 'ledger matches kraken', reportFile: null }; };
    return { t, reconciled, reconcile };
  }

  it.each(['once', 'watchdog'] as const)('an order resting in Kraken\'s book with its fills booked is not in flight: a %s run reconciles', async (runBy) => {
    const { t, reconciled, reconcile } = await liveOrderResting('0');
    const result = await selfHeal(t.ctx, { attempts: 1, baseDelayMs: 1, sleep: noWait, alwaysResync: true, runBy, reconcile });
    expect(reconciled).toEqual(['run']);
    expect(result.actions.find((a) => a.check === 'reconcile')).toMatchObject({ status: 'ok', detail: 'ledger matches kraken' });
    expect(result.ok).toBe(true);
    expect(selfHealExitCode(result)).toBe(0);
  });

  it("judges a resting order's fill against the quote tolerance the reconciliation allowed (on its balance diff), not one of its own", async () => {
    const { t } = await liveOrderResting('0');
    // The order fills 0.01 at 50,000 (fee 1.25 USD) while Kraken is read; Kraken holds 3 USD less
    // beyond that, within the 5 USD the reconciliation allowed for the quote (its rounding).
    const report = {
      ok: false, summaryLine: '1 recent unmatched; 1 balance shortfall(s)', reportFile: null, mismatched: [], missingOnExchange: [],
      recentUnmatched: [{ tradeId: 'TREST1', orderId: 'OREST1-AAAAA-BBBBBB', symbol: 'BTC/USD', side: 'buy' as const, quantity: '0.01', price: '50000', fee: '1.25', feeCurrency: 'USD', at: t.clock.now().toISOString() }],
      balances: [{ asset: 'USD', ledger: '10000', exchange: '9495.75', diff: '-504.25', tolerance: '5', status: 'exchange_holds_less' as const }],
    };
    const result = await selfHeal(t.ctx, { attempts: 1, baseDelayMs: 1, sleep: noWait, alwaysResync: true, runBy: 'watchdog', reconcile: async () => report });
    expect(result.actions.find((a) => a.check === 'reconcile')).toMatchObject({ status: 'skipped', detail: expect.stringMatching(/^an order resting in Kraken's book filled while reconciling \(1 trade\(s\) not booked yet/) });
    expect(t.alerts.filter((a) => a.severity === 'critical')).toEqual([]);
  });

  it('an order resting in Kraken\'s book that has filled more than the ledger booked is in flight: not reconciled yet', async () => {
    const { t, reconciled, reconcile } = await liveOrderResting('0.004');
    const result = await selfHeal(t.ctx, { attempts: 1, baseDelayMs: 1, sleep: noWait, alwaysResync: true, reconcile });
    expect(reconciled).toEqual([]);
    expect(result.actions.find((a) => a.check === 'reconcile')).toMatchObject({ status: 'deferred', waitingFor: 'fills_booked', detail: expect.stringMatching(/^1 live order\(s\) still in flight/) });
    expect(selfHealExitCode(result)).toBe(SELF_HEAL_TRY_AGAIN_EXIT);
  });

  /** A live self-heal whose reconciliation sees an order go out while it reads Kraken's history. */
  async function orderSentWhileReconciling(runBy?: 'watchdog' | 'once') {
    const t = await setup({ armed: true });
    await updateBotState(t.ctx.db, t.clock, { mode: 'live' });
    t.kraken.mode = 'network_error';
    const result = await selfHeal(t.ctx, {
      attempts: 5, baseDelayMs: 1, sleep: async () => { t.kraken.mode = 'ok'; }, ...(runBy ? { runBy } : {}),
      reconcile: async () => {
        // The engine sends an order while the reconciliation reads Kraken's history: its trades are
        // at Kraken, not yet in the ledger.
        await writeIntent(t.ctx.db, {
          mode: 'live', feed: 'kraken', strategy: 'btc-ma-cross', symbol: 'BTC/USD', side: 'buy', purpose: 'entry', type: 'market', quantity: '0.01', at: t.clock.now(),
        }, { lease: ALONE_BY_CONSTRUCTION, armed: true });
        return { ok: false, summaryLine: '3 recent unmatched; 1 balance shortfall(s)', reportFile: null };
      },
    });
    return { t, result };
  }

  it('an order that goes out while the watchdog reads Kraken makes the differences timing, not a failure: skipped, nobody paged', async () => {
    const { t, result } = await orderSentWhileReconciling('watchdog');
    expect(result.actions.find((a) => a.check === 'reconcile')).toMatchObject({ status: 'skipped', detail: expect.stringMatching(/^an order went out or was booked while reconciling \(3 recent unmatched.*: the next pass reconciles once its fills are booked$/) });
    expect(t.alerts.filter((a) => a.severity === 'critical')).toEqual([]);
  });

  it("the watchdog's next pass reconciles what an order interrupted, once its fills are booked (though Kraken answers at once), then asks Kraken nothing more", async () => {
    const t = await setup({ armed: true });
    await updateBotState(t.ctx.db, t.clock, { mode: 'live' });
    t.kraken.mode = 'network_error';
    const reconciled: string[] = [];
    let sent: number | undefined;
    const dog = startWatchdog(t.ctx, {
      timer: false, attempts: 5, baseDelayMs: 1, sleep: async () => { t.kraken.mode = 'ok'; },
      reconcile: async () => {
        reconciled.push('run');
        if (reconciled.length > 1) return { ok: true, summaryLine: 'ledger matches kraken', reportFile: null };
        const intent = await writeIntent(t.ctx.db, {
          mode: 'live', feed: 'kraken', strategy: 'btc-ma-cross', symbol: 'BTC/USD', side: 'buy', purpose: 'entry', type: 'market', quantity: '0.01', at: t.clock.now(),
        }, { lease: ALONE_BY_CONSTRUCTION, armed: true });
        sent = intent!.id;
        return { ok: false, summaryLine: '3 recent unmatched; 1 balance shortfall(s)', reportFile: null };
      },
    });
    const first = await dog.tick();
    expect(first!.actions.find((a) => a.check === 'reconcile')).toMatchObject({ status: 'skipped', detail: expect.stringMatching(/the next pass reconciles once its fills are booked$/) });
    // The order's fills are booked before the next pass.
    await markIntent(t.ctx.db, { id: sent!, status: 'filled', at: t.clock.now() });
    const second = await dog.tick();
    expect(reconciled).toEqual(['run', 'run']);
    expect(second!.actions.find((a) => a.check === 'reconcile')).toMatchObject({ status: 'ok', detail: 'ledger matches kraken' });
    t.kraken.calls.length = 0;
    const third = await dog.tick();
    expect(reconciled).toHaveLength(2);
    expect(third!.actions.find((a) => a.check === 'reconcile')).toBeUndefined();
    expect(t.kraken.calls).toEqual(['fetchOpenOrders']);
    expect(t.alerts.filter((a) => a.severity === 'critical')).toEqual([]);
    await dog.stop();
  });

  it('the watchdog pages once every attempt for 15 minutes saw an order go out while reading Kraken: the reconciliation owed that long pages, under its own fingerprint', async () => {
    const t = await setup({ armed: true });
    await updateBotState(t.ctx.db, t.clock, { mode: 'live' });
    t.kraken.mode = 'network_error';
    let sent: number | undefined;
    const dog = startWatchdog(t.ctx, {
      timer: false, attempts: 5, baseDelayMs: 1, sleep: async () => { t.kraken.mode = 'ok'; },
      // A real difference, and an order going out during every read of Kraken's history.
      reconcile: async () => {
        sent = (await writeIntent(t.ctx.db, {
          mode: 'live', feed: 'kraken', strategy: 'btc-ma-cross', symbol: 'BTC/USD', side: 'buy', purpose: 'entry', type: 'market', quantity: '0.01', at: t.clock.now(),
        }, { lease: ALONE_BY_CONSTRUCTION, armed: true }))!.id;
        return { ok: false, summaryLine: '3 recent unmatched; 1 balance shortfall(s)', reportFile: '/tmp/reports/reconcile.json' };
      },
    });
    const critical = () => t.alerts.filter((a) => a.severity === 'critical');
    for (const minutes of [0, 5, 10, 14]) {
      t.clock.set(new Date(Date.parse('2026-03-02T10:00:00Z') + minutes * 60_000));
      const pass = await dog.tick();
      expect({ minutes, reconcile: pass!.actions.find((a) => a.check === 'reconcile')?.status }).toEqual({ minutes, reconcile: 'skipped' });
      // Each order's fills are booked before the next pass, which reconciles again.
      await markIntent(t.ctx.db, { id: sent!, status: 'filled', at: t.clock.now() });
    }
    expect(critical()).toEqual([]);
    t.clock.set(new Date(Date.parse('2026-03-02T10:15:00Z')));
    const late = await dog.tick();
    // Only the last attempt is known to have seen an order go out: not claimed of every attempt.
    const detail = 'the reconciliation has been owed for 15 min (limit 15 min); '
      + 'on the last attempt an order went out or was booked while reconciling (3 recent unmatched; 1 balance shortfall(s)); run `ctb reconcile` (report: /tmp/reports/reconcile.json)';
    expect(late!.actions.find((a) => a.check === 'reconcile')).toEqual({ check: 'reconcile', status: 'failed', detail });
    expect(late!.ok).toBe(false);
    expect(critical()).toEqual([expect.objectContaining({ fingerprint: 'self-heal:reconcile_owed:failed', title: `Self-heal could not repair reconcile: ${detail}`.slice(0, 300) })]);
    await dog.stop();
  });

  it('a reconciliation that finally runs after the owed page and finds differences pages under its own fingerprint, not as a repeat of the owed one', async () => {
    const { t, intentId, options } = await liveOrderInFlight();
    const dog = startWatchdog(t.ctx, {
      timer: false, ...options, reconcile: async () => ({ ok: false, summaryLine: '1 mismatched', reportFile: null }),
    });
    await dog.tick();
    t.clock.advance(15 * 60_000);
    await dog.tick();
    await markIntent(t.ctx.db, { id: intentId, status: 'filled', at: t.clock.now() });
    expect((await dog.tick())!.actions.find((a) => a.check === 'reconcile')).toMatchObject({ status: 'failed', detail: '1 mismatched; check the ledger before resuming' });
    expect(t.alerts.filter((a) => a.severity === 'critical').map((a) => a.fingerprint)).toEqual(['self-heal:reconcile_owed:failed', 'self-heal:reconcile:failed']);
    await dog.stop();
  });

  it('a process that stood by (another held the engine lease) over 15 minutes forgets what it owed: taking the lease back, it does not call the ledger unreconciled for hours', async () => {
    const { t, options } = await liveOrderInFlight();
    let holdsLease = true;
    const dog = startWatchdog(t.ctx, { timer: false, ...options, checkExchange: () => holdsLease });
    expect((await dog.tick())!.actions.find((a) => a.check === 'reconcile')).toMatchObject({ status: 'skipped', detail: expect.stringMatching(/^1 live order\(s\) still in flight: /) });
    // Another process takes the lease for five hours (and reconciles meanwhile); this one stands by.
    holdsLease = false;
    for (let hour = 1; hour <= 5; hour += 1) {
      t.clock.advance(60 * 60_000);
      expect((await dog.tick())!.actions.find((a) => a.check === 'exchange')).toMatchObject({ status: 'skipped' });
    }
    // The clocks it wrote as the holder were last confirmed five hours ago on the database's clock too.
    await t.ctx.db.execute(sql`update watchdog_clocks set confirmed_at = now() - interval '5 hours'`);
    // It takes the lease back (Kraken's first answer fails, so the pass resyncs): the order is still in flight, owed from now.
    holdsLease = true;
    t.kraken.mode = 'network_error';
    const back = await dog.tick();
    expect(back!.actions.find((a) => a.check === 'reconcile')).toMatchObject({ status: 'skipped', detail: expect.stringMatching(/^1 live order\(s\) still in flight: /) });
    expect(t.alerts.filter((a) => a.severity === 'critical')).toEqual([]);
    t.clock.advance(15 * 60_000);
    expect((await dog.tick())!.actions.find((a) => a.check === 'reconcile')).toMatchObject({ status: 'failed', detail: expect.stringMatching(/owed for 15 min/) });
    await dog.stop();
  });

  it.each([undefined, 'once'] as const)('a one-off run (runBy %s) that an order interrupts leaves the ledger unreconciled: deferred, says to run it again, exits 75, nobody paged', async (runBy) => {
    const { t, result } = await orderSentWhileReconciling(runBy);
    const reconcile = result.actions.find((a) => a.check === 'reconcile');
    expect(reconcile).toMatchObject({ status: 'deferred', detail: expect.stringMatching(/^an order went out or was booked while reconciling \(3 recent unmatched.*: the ledger is not reconciled; run `ctb self-heal` again once its fills are booked$/) });
    expect(reconcile?.detail).not.toMatch(/next pass/);
    expect(result.ok).toBe(false);
    expect(selfHealExitCode(result)).toBe(SELF_HEAL_TRY_AGAIN_EXIT);
    expect(t.alerts.filter((a) => a.severity === 'critical')).toEqual([]);
  });

  it('does not reconcile against Kraken while trading paper', async () => {
    const t = await setup();
    let ran = false;
    const result = await selfHeal(t.ctx, { attempts: 2, baseDelayMs: 1, sleep: noWait, alwaysResync: true, reconcile: async () => { ran = true; return { ok: true, summaryLine: '', reportFile: null }; } });
    expect(ran).toBe(false);
    expect(result.actions.find((a) => a.check === 'reconcile')).toMatchObject({ status: 'skipped' });
    // Its "exchange answers" is the paper venue's, and says so: not to be read as Kraken's.
    expect(result.actions.find((a) => a.check === 'exchange')).toMatchObject({
      status: 'ok', detail: expect.stringMatching(/^answers \(the paper venue: trading is paper, so Kraken was not asked\); resynced: \d+ open order\(s\) on paper/),
    });
  });

  it('reports a stale engine heartbeat as a failure and a fresh one as ok', async () => {
    const t = await setup();
    // The engine beats on the database's clock (this shell's reads 2026-03-02).
    await kill.db().db.insert(botState).values({ id: 1, engineHeartbeatAt: sql`now() - interval '5 minutes'` });
    const stale = await selfHeal(t.ctx, { attempts: 1, sleep: noWait });
    const staleEngine = stale.actions.find((a) => a.check === 'engine');
    expect(staleEngine).toMatchObject({ status: 'failed' });
    await expectEngineAge(staleEngine?.detail, /^heartbeat stale for (\d+)s \(over 60s\)/, 300, 'stale');
    expect(t.alerts).toContainEqual(expect.objectContaining({ severity: 'critical', fingerprint: 'self-heal:engine:failed' }));
    await kill.db().db.update(botState).set({ engineHeartbeatAt: sql`now() - interval '2 seconds'` });
    const fresh = await selfHeal(t.ctx, { attempts: 1, sleep: noWait });
    expect(fresh.actions.find((a) => a.check === 'engine')).toMatchObject({ status: 'ok' });
    expect(fresh.ok).toBe(true);
  });

  it("judges the engine's heartbeat on the database's clock from a process whose clock runs 10 minutes ahead of the engine's, or behind it", async () => {
    const t = await setup();
    await kill.db().db.insert(botState).values({ id: 1, engineHeartbeatAt: sql`now() - interval '2 seconds'` });
    for (const skewMs of [10 * 60_000, -10 * 60_000]) {
      t.clock.set(new Date(Date.now() + skewMs));
      await kill.db().db.update(botState).set({ engineHeartbeatAt: sql`now() - interval '2 seconds'` });
      const fresh = await selfHeal(t.ctx, { attempts: 1, sleep: noWait });
      const engine = fresh.actions.find((a) => a.check === 'engine');
      const side = skewMs > 0 ? 'ahead' : 'behind';
      expect(engine, side).toMatchObject({ status: 'ok' });
      // Read on the database's clock: the 2 s the test set (more under load), never the reader's 600 s skew.
      await expectEngineAge(engine?.detail, /^heartbeat (\d+)s old$/, 2, side);
      await kill.db().db.update(botState).set({ engineHeartbeatAt: sql`now() - interval '5 minutes'` });
      const stale = await selfHeal(t.ctx, { attempts: 1, sleep: noWait });
      const staleEngine = stale.actions.find((a) => a.check === 'engine');
      expect(staleEngine, side).toMatchObject({ status: 'failed' });
      await expectEngineAge(staleEngine?.detail, /^heartbeat stale for (\d+)s \(over 60s\)/, 300, side);
    }
  });

  it('a worker whose engine heartbeat is stale exits for its process manager to restart it (not right after start, not on the web side)', async () => {
    const t = await setup();
    await kill.db().db.insert(botState).values({ id: 1, engineHeartbeatAt: sql`now() - interval '5 minutes'` });
    const exits: number[] = [];
    let runsEngine = true;
    const startedAt = t.clock.now();
    const onEngineStale = staleEngineHandler(t.ctx, { role: 'worker', runsEngine: () => runsEngine, startedAt, exit: (code) => exits.push(code) });
    const watchdog = startWatchdog(t.ctx, { timer: false, attempts: 1, sleep: noWait, ...(onEngineStale ? { onEngineStale } : {}) });
    const settle = () => new Promise((r) => setTimeout(r, 700)); // the exit waits 0.5 s for the log line

    await watchdog.tick(); // just started: the heartbeat is the previous run's
    await settle();
    expect(exits).toEqual([]);

    t.clock.advance(61_000); // past ENGINE_STALE_AFTER since start
    runsEngine = false; // another worker holds the engine lock: not ours to restart
    await watchdog.tick();
    await settle();
    expect(exits).toEqual([]);

    runsEngine = true;
    await watchdog.tick();
    await settle();
    expect(exits).toEqual([ENGINE_STALE_EXIT_CODE]);
    expect(t.alerts).toContainEqual(expect.objectContaining({ severity: 'critical', fingerprint: 'self-heal:engine:failed' }));
    await watchdog.stop();

    // The all-in-one `npm start` has no process manager: auto only alerts; exit can be asked for.
    expect(staleEngineHandler(t.ctx, { role: 'all', runsEngine: () => true, startedAt })).toBeUndefined();
    expect(staleEngineHandler(t.ctx, { role: 'web', runsEngine: () => true, startedAt })).toBeUndefined();
  });

  it('never resumes a halted bot, and writes a saved kill once the database answers', async () => {
    const t = await setup();
    await addPendingKill(t.dataDir, { killId: 'saved-1', at: t.clock.now().toISOString(), actor: 'cli:ops', actorSource: 'cli', trigger: 'manual', reason: 'db was down', cancelReport: {} });
    const result = await selfHeal(t.ctx, { attempts: 1, sleep: noWait });
    expect(result.actions.find((a) => a.check === 'pending_kill')).toMatchObject({ status: 'healed' });
    expect(readPendingKills(t.dataDir)).toEqual([]);
    expect(result.halted).toBe(true);
    expect(isHaltLatched(t.ctx)).toBe(true);
    // Everything healthy, run again: still halted.
    const again = await selfHeal(t.ctx, { attempts: 1, sleep: noWait });
    expect(again.ok).toBe(true);
    expect((await getBotState(kill.db().db)).halted).toBe(true);
    expect(isHaltLatched(t.ctx)).toBe(true);
  });

  it('leaves the exchange to the worker that trades when told to (one Kraken key, one process)', async () => {
    const t = await setup();
    const result = await selfHeal(t.ctx, { attempts: 1, sleep: noWait, checkExchange: () => false });
    expect(result.actions.find((a) => a.check === 'exchange')).toMatchObject({ status: 'skipped' });
    expect(t.paper.calls).toEqual([]);
    expect(result.ok).toBe(true);
  });

  it('the watchdog runs one self-heal at a time', async () => {
    const t = await setup();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    t.paper.mode = 'network_error';
    const dog = startWatchdog(t.ctx, { timer: false, attempts: 2, baseDelayMs: 1, sleep: () => gate.then(() => { t.paper.mode = 'ok'; }) });
    const first = dog.tick();
    const second = dog.tick();
    expect(second).toBe(first);
    release();
    expect((await first)!.actions.find((a) => a.check === 'exchange')).toMatchObject({ status: 'healed' });
    await dog.stop();
  });
});

describe('ctb self-heal', () => {
  function io(env: Record<string, string>): CliIo & { out: () => string } {
    let out = '';
    const cwd = mkdtempSync(join(tmpdir(), 'ctb-heal-'));
    return { env: { LOG_LEVEL: 'error', LOG_DIR: join(cwd, 'logs'), DATA_DIR: join(cwd, 'data'), ...env }, cwd, stdout: { write: (s: string) => (out += s) }, stderr: { write: () => true }, out: () => out };
  }

  it('exits 0 when nothing is broken and 1 (naming the database) when it cannot reach it', async () => {
    const ok = io({ DATABASE_URL: kill.db().url });
    expect(await runCli(['self-heal'], ok)).toBe(0);
    expect(ok.out()).toMatch(/ok\s+database\s+answers/);
    expect(ok.out()).toMatch(/nothing left broken; not halted/);

    const down = io({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none', KILL_DB_TIMEOUT: '1s' });
    expect(await runCli(['self-heal', '--attempts', '1', '--json'], down)).toBe(1);
    const json = JSON.parse(down.out()) as { ok: boolean; actions: Array<{ check: string; status: string }> };
    expect(json.ok).toBe(false);
    expect(json.actions[0]).toMatchObject({ check: 'database', status: 'failed' });
  }, 30_000);

  it('with the order lock held by another process: exits 75 (not 0), saying the intents were not resolved and to run it again', async () => {
    // Live, so the lock is the one every process shares (an advisory lock); this process holds it.
    await updateBotState(kill.db().db, systemClock, { mode: 'live' });
    const kraken = kill.track(await startFakeKraken({ apiKey: TEST_API_KEY, secret: TEST_API_SECRET }));
    const held = await takeAdvisoryLock(kill.db(), ADVISORY_LOCKS.orders, { wait: true });
    try {
      const run = await ctbInShell(['self-heal', '--attempts', '1'], {
        DATABASE_URL: kill.db().url, IS_LIVE: 'true', KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url,
      });
      expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(SELF_HEAL_TRY_AGAIN_EXIT);
      expect(run.stdout).toMatch(/^ok\s+exchange\s+answers; resynced: 0 open order\(s\) on kraken$/m);
      expect(run.stdout).toMatch(/^BUSY\s+intents\s+not resolved: the order lock is taken by another holder \(orders are being placed, cancelled or booked\); run `ctb self-heal` again once the lock is free$/m);
      expect(run.stdout).toMatch(/^Self-heal: NOT finished — another holder has the order lock, so the intents were not resolved \(see BUSY\); run it again once the lock is free; not halted\.$/m);
      expect(run.stdout).not.toMatch(/nothing left broken/);
    } finally {
      await held?.release();
    }
  }, 60_000);

  it('with Kraken refusing for its rate limit: exits 75 (not 1), saying when to run it again', async () => {
    await updateBotState(kill.db().db, systemClock, { mode: 'live' });
    const kraken = kill.track(await startFakeKraken({ apiKey: TEST_API_KEY, secret: TEST_API_SECRET }));
    kraken.failNext('OpenOrders', 'EAPI:Rate limit exceeded', 10);
    const limited = io({ DATABASE_URL: kill.db().url, IS_LIVE: 'true', KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url, KRAKEN_RATE_LIMIT: 'false' });
    expect(await runCli(['self-heal', '--attempts', '1'], limited), limited.out()).toBe(SELF_HEAL_TRY_AGAIN_EXIT);
    expect(limited.out()).toMatch(/^LATER\s+exchange\s+kraken did not answer after 1 attempt\(s\): rate_limited: .*; Kraken refuses for now \(rate_limited\): run `ctb self-heal` again in a minute or so/m);
    expect(limited.out()).toMatch(/^Self-heal: NOT finished — left for later \(see LATER\); run it again later; not halted\.$/m);
  }, 60_000);

  it('answers a bad --attempts with exit 2 and what it expects', async () => {
    let err = '';
    const bad = { ...io({ DATABASE_URL: kill.db().url }), stderr: { write: (s: string) => ((err += s), true) } };
    expect(await runCli(['self-heal', '--attempts', 'abc'], bad)).toBe(2);
    expect(err).toMatch(/attempts.*whole number of attempts from 1 to 10|whole number of attempts from 1 to 10/s);
  });
});
