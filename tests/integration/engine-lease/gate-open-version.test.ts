// An open gate is true of the bot_state it answered on only. After a switch to live, the reconciliation
// monitor's tick holds live orders from the moment it reads the new bot_state, but tells the engine's gate
// recorder (onDecided) only once its reconciliation with Kraken ends: throughout, the lease row still holds
// the open answer given on the paper bot_state, and another process reading it with the live bot_state must
// not say "engine trading now" — only that the gate's answer since is not recorded yet.
import { beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import type { AlertInput } from '../../../src/alerts/types.js';
import type { OwnedContext } from '../../../src/app/build-context.js';
import type { LeaseWaiting } from '../../../src/db/queries/engine-lease.js';
import type { BotState } from '../../../src/db/schema/index.js';
import { holderView } from '../../../src/domain/engine-holder.js';
import { ENGINE_TRADING_NOW, GATE_NOT_RECORDED_WHY, engineProgressPhrase, holderProgressPhrase, holderWaitingWhy } from '../../../src/domain/engine-waiting.js';
import { standingOf } from '../../../src/domain/reconciliation-standing.js';
import { effectiveMode, getBotState, updateBotState } from '../../../src/services/bot-state.js';
import { createWaitingRecord, recordingGate } from '../../../src/services/engine-lease/waiting-record.js';
import { createReconciliationMonitor } from '../../../src/services/reconcile/start/monitor.js';
import type { FakeKraken } from '../../support/fake-kraken.js';
import type { TestDatabase } from '../../support/db.js';
import { liveKrakenBed } from '../../support/live-kraken-bed.js';

const bed = liveKrakenBed('ctb-gate-open-version-');
let database: TestDatabase;
let kraken: FakeKraken;
let ctx: OwnedContext;

beforeEach(async () => {
  ({ database, kraken } = bed.current);
  const alerts: AlertInput[] = [];
  ctx = await bed.context(alerts);
});

/** Kraken's private reads a reconciliation makes: held, none answers until the test lets them. */
const PRIVATE_READS = ['Balance', 'BalanceEx', 'OpenOrders', 'ClosedOrders', 'QueryOrders', 'QueryTrades', 'TradesHistory'];

/** The engine's lease row as another process reads it: holding what the waiting record wrote last. */
const leaseSaying = (w: LeaseWaiting | null) => {
  const now = new Date();
  return holderView({
    id: 1, holderId: 'h', host: 'box', pid: 1, bootId: null, role: 'worker', feed: 'kraken', armed: true, hasKrakenKeys: true,
    acquiredAt: now, heartbeatAt: now, takenOverFrom: null,
    waiting: w?.why ?? null, waitingKind: w?.kind ?? null, waitingStateVersion: w?.kind === 'gate' ? w.stateVersion : null, ttlMs: null,
  }, now, 60_000);
};

describe('an open gate recorded in the lease row', () => {
  it('is not read as "trading now" on a later bot_state while the first live reconciliation runs', async () => {
    let row: LeaseWaiting | null = null;
    const waiting = createWaitingRecord(async (w) => { row = w; }, (err) => { throw err; });
    let gateWhy: (state: BotState, mode: string) => string | null = () => null;
    const { gate } = recordingGate((s, m) => gateWhy(s, m), waiting);
    const decided: number[] = [];
    const monitor = createReconciliationMonitor(ctx, {
      timer: false,
      onDecided: (s: BotState) => { decided.push(s.version); gate(s, effectiveMode(s, true)); },
    });
    gateWhy = (_s, mode) => monitor.blockReason(mode as 'live' | 'paper');
    waiting.setStep(null);
    const read = async () => {
      await waiting.settled();
      const state = await getBotState(database.db);
      return { state, facts: { engine: leaseSaying(row), stateVersion: state.version, mode: effectiveMode(state, true), halted: state.halted, haltedReason: state.haltedReason, reconciliation: standingOf(state) } };
    };
    // paper: the gate is open, and a reader on that bot_state says the engine trades
    await monitor.tick();
    expect(decided.length).toBe(1);
    const paper = await read();
    expect(holderProgressPhrase(paper.facts)).toBe(ENGINE_TRADING_NOW);
    // the operator switches to live; Kraken has not answered yet, so the tick's reconciliation is under way
    const live = (await updateBotState(database.db, ctx.clock, { mode: 'live' }))!;
    const releases = PRIVATE_READS.map((endpoint) => kraken.hold(endpoint));
    const answer = () => releases.forEach((release) => release());
    onTestFinished(answer);
    const tick = monitor.tick();
    // the tick has read the live bot_state: the gate holds live orders ...
    await expect.poll(() => monitor.blockReason('live'), { timeout: 10_000 }).toMatch(/waits for reconciliation/);
    // ... and has not told the engine's gate recorder yet: the row still says open, on the paper bot_state
    expect(decided.length).toBe(1);
    const during = await read();
    expect(during.state.version).toBe(live.version);
    expect(holderWaitingWhy(during.facts)).toBe(GATE_NOT_RECORDED_WHY);
    expect(holderProgressPhrase(during.facts)).not.toBe(ENGINE_TRADING_NOW);
    answer();
    await tick;
    expect(decided).toEqual([paper.state.version, live.version]);
    // the reconciliation records its standing in bot_state (a new version): the next tick tells the
    // recorder what the gate answers on it, and readers say that
    await monitor.tick();
    const after = await read();
    expect(holderProgressPhrase(after.facts)).toBe(engineProgressPhrase(monitor.blockReason('live')));
  }, 60_000);
});
