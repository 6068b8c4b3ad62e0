// The engine's own halt (an order the exchange refused as unauthorised or halted; an engine loop
// error of that kind) waits for an operator: written over a bot that is not halted, or taking over a
// halt reconciliation would lift when it passes (its reason kept). Over a kill's halt that halt keeps
// its author, reason and time (what lifts it depends on them), and the engine's later cause is said in
// the log and the alert. On the executor's and the engine loop's
// real paths, on both databases.
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { testConfig } from '../../../src/config/env.js';
import { liftHaltPlacedBy, placeHaltIfRunning } from '../../../src/db/queries/reconcile-state.js';
import { liftJudgedHalt } from '../../../src/db/queries/kill-incidents.js';
import { Engine } from '../../../src/engine/engine.js';
import { ALONE_BY_CONSTRUCTION } from '../../../src/engine/ledger/intent-lease.js';
import { executeOrder, type ExecutorDeps, type OrderRequestSpec } from '../../../src/engine/order-executor.js';
import { Portfolio } from '../../../src/engine/portfolio.js';
import { AppError } from '../../../src/errors.js';
import type { Exchange } from '../../../src/exchange/types.js';
import { createLogger } from '../../../src/logger.js';
import type { MarketFeed } from '../../../src/market/types.js';
import { dec } from '../../../src/money.js';
import { getBotState } from '../../../src/services/bot-state.js';
import { persistKill } from '../../../src/services/kill/persist-kill.js';
import { holdTakeoverForReconciliation, RECONCILIATION_ACTOR, RECONCILIATION_REASON, runReconciliation } from '../../../src/services/reconcile/start/run.js';
import { ENGINE_TABLES, useTestDb, type DbKind } from '../../support/db.js';
import { engineContext, maCross, type EngineTestContext } from '../../support/engine.js';

const KILL_AT = new Date('2026-01-04T23:00:00Z');
const kill = { killId: 'kill-standing', at: KILL_AT, actor: 'cli:operator', trigger: 'manual' as const, reason: 'drill', cancelReport: {} };
const entry: OrderRequestSpec = { purpose: 'entry', strategy: 'halt-test', symbol: 'BTC/USD', side: 'buy', quantity: dec('0.01'), reason: 'test' };

describe.each<DbKind>(['postgres', 'pglite'])("the engine's halt over a standing one, on %s", (kind) => {
  const database = useTestDb(kind, { truncate: [...ENGINE_TABLES, 'incident_checklist_items', 'incidents', 'kill_replays'] });
  let t: EngineTestContext | undefined;
  let logs: Array<Record<string, unknown>> = [];
  afterEach(async () => {
    await t?.ctx.close();
    t = undefined;
  });

  async function context(): Promise<EngineTestContext> {
    logs = [];
    const sink = new Writable({ write(chunk, _e, cb) { for (const l of String(chunk).split('\n')) if (l.trim()) logs.push(JSON.parse(l)); cb(); } });
    const logger = createLogger({ config: testConfig({}), stdout: false, files: false, destination: sink, destinationLevel: 'info' });
    t = await engineContext(database(), {}, { logger });
    await getBotState(t.ctx.db);
    t.ctx.prices.update({ candle: { symbol: 'BTC/USD', openTime: new Date(t.clock.now().getTime() - 60_000), open: 50_000, high: 50_000, low: 50_000, close: 50_000, volume: 10 } });
    return t;
  }

  /** The paper exchange, but an order is refused with `err` once `meanwhile` (a halt landing while it is on its way) has run. */
  function refusingExchange(c: EngineTestContext, err: AppError, meanwhile: () => Promise<unknown>): Exchange {
    const base = c.ctx.exchanges.forMode('paper');
    return new Proxy(base, {
      get(target, prop) {
        if (prop === 'createOrder') return async () => { await meanwhile(); throw err; };
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  /** The paper exchange whose open orders and trade history answer nothing (as Kraken with nothing unexplained). */
  function readingNothing(c: EngineTestContext): Exchange {
    const base = c.ctx.exchanges.forMode('paper');
    return new Proxy(base, {
      get(target, prop) {
        if (prop === 'fetchOpenOrders') return async () => [];
        if (prop === 'fetchMyTrades') return async () => ({ trades: [], total: 0 });
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  const deps = (c: EngineTestContext, exchange: Exchange): ExecutorDeps => {
    const portfolio = new Portfolio();
    portfolio.setCash(dec(100_000));
    return { lease: ALONE_BY_CONSTRUCTION, ctx: c.ctx, mode: 'paper', feed: 'kraken', exchange, portfolio };
  };

  it("keeps a kill's halt (author, reason, time) when the exchange refuses an order in flight, says the later cause in the log and the alert, and the operator's resume lifts it", async () => {
    const c = await context();
    let incidentId = 0;
    const refused = new AppError('halt', 'not_armed', 'not armed: live orders are refused');
    const outcome = await executeOrder(deps(c, refusingExchange(c, refused, async () => { incidentId = (await persistKill(c.ctx.db, kill)).incident.id; })), entry);
    expect(outcome).toEqual({ kind: 'halted', message: 'not armed: live orders are refused' });
    expect(await getBotState(c.ctx.db)).toMatchObject({ halted: true, haltedBy: 'cli:operator', haltedReason: 'drill', haltedAt: KILL_AT });
    const said = `Trading was already halted by cli:operator since ${KILL_AT.toISOString()} (drill); that halt stands unchanged, and the engine's later cause is: the exchange refused an order (not armed: live orders are refused)`;
    expect(c.alerts.raised.filter((a) => a.fingerprint === 'engine_halted_auth')).toEqual([expect.objectContaining({ severity: 'critical', title: said })]);
    expect(logs.find((l) => l.msg === said)).toMatchObject({ standingHalt: { by: 'cli:operator', reason: 'drill' } });
    // The resume judged the kill's halt: the row still holds it, so the lift goes through.
    expect(await liftJudgedHalt(c.ctx.db, { halted: true, haltedBy: 'cli:operator', haltedAt: KILL_AT, incidentId }, { at: c.clock.now(), by: 'cli:operator' })).toBeNull();
    expect(await getBotState(c.ctx.db)).toMatchObject({ halted: false });
  });

  it("takes over reconciliation's halt when an order is refused as unauthorised meanwhile, keeping its reason: reconciliation passing no longer lifts it", async () => {
    const c = await context();
    const refused = new AppError('auth', 'permission', 'EGeneral:Permission denied');
    await executeOrder(deps(c, refusingExchange(c, refused, () => placeHaltIfRunning(c.ctx.db, { reason: RECONCILIATION_REASON, actor: RECONCILIATION_ACTOR, now: KILL_AT }))), entry);
    const reason = `exchange refused an order: EGeneral:Permission denied (already halted by ${RECONCILIATION_ACTOR} since ${KILL_AT.toISOString()}: ${RECONCILIATION_REASON})`;
    expect(await getBotState(c.ctx.db)).toMatchObject({ halted: true, haltedBy: 'system:engine', haltedReason: reason, haltedAt: c.clock.now() });
    const said = `Trading halted: the exchange refused an order (EGeneral:Permission denied) (already halted by ${RECONCILIATION_ACTOR} since ${KILL_AT.toISOString()}: ${RECONCILIATION_REASON}); the engine's halt takes that one over, so no automatic lift (reconciliation passing) lifts it: only an operator's resume does`;
    expect(c.alerts.raised.filter((a) => a.fingerprint === 'engine_halted_auth')).toEqual([expect.objectContaining({ severity: 'critical', title: said })]);
    expect(await liftHaltPlacedBy(c.ctx.db, RECONCILIATION_ACTOR, c.clock.now())).toBe(false);
    expect(await getBotState(c.ctx.db)).toMatchObject({ halted: true, haltedBy: 'system:engine' });
  });

  it("keeps the bot halted by the engine when a takeover's reconciliation halt lands while an order is refused, and reconciliation then passes", async () => {
    const c = await context();
    const refused = new AppError('auth', 'permission_denied', 'kraken AddOrder: EGeneral:Permission denied');
    const holdForReconciliation = () => c.ctx.db.transaction((tx) => holdTakeoverForReconciliation(tx, c.clock.now(), 'host-a:123'));
    expect(await executeOrder(deps(c, refusingExchange(c, refused, holdForReconciliation)), entry)).toMatchObject({ kind: 'halted' });
    c.clock.advance(120_000);
    // Kraken's reads still answer with this key (query rights), and nothing is unexplained: reconciliation's own retry passes.
    const reader = readingNothing(c);
    const run = await runReconciliation(c.ctx, { cause: 'retry', exchange: reader });
    expect(run).toMatchObject({ ok: true, halt: 'unchanged' });
    const state = await getBotState(c.ctx.db);
    expect(state).toMatchObject({ halted: true, haltedBy: 'system:engine', reconciliationBlocked: false });
    expect(state.haltedReason).toMatch(/^exchange refused an order: kraken AddOrder: EGeneral:Permission denied \(already halted by system:reconciliation since .*: reconciliation\)$/);
    expect(c.alerts.raised.filter((a) => a.fingerprint === 'reconciliation-passed')).toEqual([expect.objectContaining({
      title: `Reconciliation with Kraken passes: nothing unexplained; the bot stays halted by system:engine (${state.haltedReason}), a halt reconciliation does not lift`,
    })]);
  });

  it('halts a bot that is not halted, as the engine, and alerts that it did', async () => {
    const c = await context();
    const refused = new AppError('auth', 'permission', 'EGeneral:Permission denied');
    await executeOrder(deps(c, refusingExchange(c, refused, async () => undefined)), entry);
    expect(await getBotState(c.ctx.db)).toMatchObject({ halted: true, haltedBy: 'system:engine', haltedReason: 'exchange refused an order: EGeneral:Permission denied', haltedAt: c.clock.now() });
    expect(c.alerts.raised.filter((a) => a.fingerprint === 'engine_halted_auth')).toEqual([expect.objectContaining({ title: 'Trading halted: the exchange refused an order (EGeneral:Permission denied)' })]);
  });

  it("keeps a kill's halt when the engine loop meets an auth error, and says the later cause in the alert", async () => {
    const c = await context();
    await persistKill(c.ctx.db, kill);
    let calls = 0;
    const feed: MarketFeed = {
      kind: 'replay',
      next: async () => {
        calls += 1;
        if (calls === 1) throw new AppError('auth', 'invalid_key', 'EAPI:Invalid key');
        return null;
      },
    };
    const engine = new Engine({ lease: ALONE_BY_CONSTRUCTION, ctx: c.ctx, feed, strategies: [maCross()], marketClock: c.clock, stopWhenFeedEnds: true });
    await engine.start();
    expect(await getBotState(c.ctx.db)).toMatchObject({ halted: true, haltedBy: 'cli:operator', haltedReason: 'drill', haltedAt: KILL_AT });
    const said = `Trading was already halted by cli:operator since ${KILL_AT.toISOString()} (drill); that halt stands unchanged, and the engine's later cause is: EAPI:Invalid key`;
    expect(c.alerts.raised.filter((a) => a.fingerprint === 'engine_halted_auth')).toEqual([expect.objectContaining({ title: said })]);
  });
});
