// The live soak of issue 18: the shipped bot (`ctb start`, a child process) trades live against the
// Kraken simulator (`ctb simulate-kraken`, its own process) on PostgreSQL — gone live through the
// two-approver flow with the go-live audit passing honestly, in the product's Slack stand-in
// (`ctb simulate-slack`, its own process) as the README's rehearsal has an operator do it — for a stretch of accelerated market,
// with faults injected and the bot kill -9-ed and restarted at seeded random points, then killed
// from a shell. Afterwards Kraken and the ledger must agree to the trade.
// The bot and every operator's command run a release of the tree under test, as going live needs: its
// files committed in a repository of their own, tagged, and built there (tests/support/release-dir.ts),
// so the switch's release check judges a tagged release built from a clean tree, as in production.
//
//   SOAK_SECONDS (default 60) live run length · SOAK_SEED replays a run's choices · SOAK_PACE
//   candles/s (default 10; ×3 with no fault injected) · SOAK_LOG_LEVEL the bot's LOG_LEVEL (its
//   logs stay in the printed directory)
import { randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, eq, isNull } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../src/config/env.js';
import { auditRuns, fills, modeChangeEvents, modeChangeRequests, modeChangeVotes, type OrderIntent } from '../../src/db/schema/index.js';
import type { CheckResult } from '../../src/services/audit/types.js';
import { unresolvedIntents } from '../../src/engine/ledger/intents.js';
import { loadStrategies, type StrategyDefinition } from '../../src/engine/strategies/config.js';
import { getBotState } from '../../src/services/bot-state.js';
import type { SimOrder, SimTrade } from '../../src/simulator/types.js';
import { createPostgresTestDb, type TestDatabase } from '../support/db.js';
import { releaseDir, type ReleaseDir } from '../support/release-dir.js';
import { SoakBot } from './bot-process.js';
import { runChaos, type ChaosReport } from './chaos.js';
import { describeRun, runCtb, waitUntil, type CtbRun, type Env } from './child.js';
import { figures, load } from './figures.js';
import { goLiveThroughApprovals, type WentLive } from './go-live.js';
import { breachesFromTrades, pairLimits } from './limits.js';
import { duplicateClientOrderIds, fillsNotAtKraken, ordersWithoutClientId, tradesNotInLedger, type LedgerFillRow } from './kraken-vs-ledger.js';
import { startMonitor, type LimitSample } from './monitor.js';
import { startSimProcess, type SimProcess } from './sim-process.js';
import { SLACK, slackEnv, startSoakSlack, type SoakSlack } from './slack-driver.js';

const SECONDS = Number(process.env['SOAK_SECONDS'] ?? 60);
const SEED = Number(process.env['SOAK_SEED'] ?? randomInt(1, 2 ** 31));
// Ten candles a second: the MA 9/26 crossover buys and sells every few seconds (five candles a
// second took twice as long to earn the paper trades and to show a restarted bot trading), and a
// position's value still moves well inside LIMIT_TOLERANCE between decision and fill.
const PACE = Number(process.env['SOAK_PACE'] ?? 10);
// While no fault is injected (paper trading; the wait after the trouble for a restarted bot's trade)
// the market runs three times as fast: the crossovers that earn the paper trades and show the bot
// trading come sooner, and with no slow answer an order fills within a few candles of its decision.
const QUIET_PACE = PACE * 3;
const STARTING_USD = '10000';
const MIN_PAPER_TRADES = 2;
/** The release the soak goes live on. */
const TAG = 'v0.0.0-soak';
// Each restart costs the bot's start-up (tsx compiles it: 20–60 s on this loaded machine).
const RESTARTS = Math.max(1, Math.round(SECONDS / 90));
const BUDGET_MS = (Math.max(SECONDS * 2, SECONDS + 300) + 1200) * 1000;

const log = (line: string) => process.stdout.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

// Where the soak's time goes: each phase's wall time, printed as one line at the end (and the live
// run's length is the seed's doing: see the chaos report's `waitedMs`).
const phases: Array<{ name: string; ms: number }> = [];
let phaseStarted = Date.now();
const phaseDone = (name: string) => {
  const now = Date.now();
  phases.push({ name, ms: now - phaseStarted });
  phaseStarted = now;
};
const phaseLine = () => `phases: ${phases.map((p) => `${p.name} ${(p.ms / 1000).toFixed(1)} s`).join(' · ')} · total ${(phases.reduce((n, p) => n + p.ms, 0) / 1000).toFixed(1)} s`;

interface Outcome {
  chaos: ChaosReport;
  kill: CtbRun;
  reconcile: CtbRun;
  validate: CtbRun;
  simOrders: SimOrder[];
  simTrades: SimTrade[];
  simOpenOrders: number;
  ledgerFills: LedgerFillRow[];
  sampled: { samples: number; breaches: LimitSample[]; maxOpen: Record<string, number> };
  strategies: StrategyDefinition[];
  requestId: number;
  wentLive: WentLive;
  unresolved: OrderIntent[];
}

let database: TestDatabase;
let release: ReleaseDir | undefined;
let sim: SimProcess | undefined;
let slack: SoakSlack | undefined;
let bot: SoakBot | undefined;
let outcome: Outcome;

async function liveFills(): Promise<LedgerFillRow[]> {
  return database.db.select({ exchangeTradeId: fills.exchangeTradeId, clientOrderId: fills.clientOrderId }).from(fills).where(eq(fills.mode, 'live'));
}

beforeAll(async () => {
  phaseStarted = Date.now();
  log(`seed ${SEED} (SOAK_SEED=${SEED} replays its choices) · ${SECONDS} s live · pace ${PACE} candles/s (${QUIET_PACE} while no fault is injected) · ${RESTARTS} kill -9 restart(s) · load ${load()}`);
  const dir = mkdtempSync(join(tmpdir(), 'ctb-soak-'));
  for (const sub of ['sim', 'rehearsal']) mkdirSync(join(dir, sub));
  const cwd = join(dir, 'rehearsal');
  // Its build starts from this checkout's dist/ (the tests' global setup built it from the same files):
  // it records the release's commit and tag, and runs the bundler only if a file it reads differs.
  // The simulator (this checkout's ctb: it is the soak's Kraken, not part of the release) and the
  // database come up while the release is made: its git and build commands block this process, not them.
  const simStarting = startSimProcess({ pace: PACE, seed: SEED, usd: Number(STARTING_USD), fillSlices: 3 }, join(dir, 'sim'));
  const databaseMade = createPostgresTestDb();
  // Whichever fails while the other is awaited is still awaited (no unhandled rejection); afterAll stops what came up.
  void simStarting.then((s) => (sim = s), () => undefined);
  void databaseMade.then((d) => (database = d), () => undefined);
  release = releaseDir({ tag: TAG, prefix: 'ctb-soak-release-', reuseBuild: true });
  const { bin } = release;
  log(`release ${TAG}: the tree under test committed, tagged and built in ${release.dir}`);
  [database, sim] = await Promise.all([databaseMade, simStarting]);
  // Slack is the product's stand-in, `ctb simulate-slack` of the release, in the rehearsal directory
  // (README, "Rehearse live without money", step 2).
  slack = await startSoakSlack(cwd, bin);
  // What a rehearsal must set; everything else is the shipped default (strategies, risk, dead man).
  const env: Env = {
    ...sim.botEnv, ...slackEnv(slack),
    DATABASE_URL: database.url, IS_LIVE: 'true', HOST: '127.0.0.1',
    DATA_DIR: join(cwd, 'data'), LOG_DIR: join(cwd, 'logs'),
    // The simulator's market runs PACE candles a second: the feed must poll faster than every 15 s
    // to see them close one by one.
    MARKET_POLL_INTERVAL: '2s',
    // The audit's paper → live criteria, lowered for a rehearsal but not to zero: paper trades on
    // the simulator's prices must exist and close, and a short paper run may lose a little.
    GOLIVE_MIN_PAPER_TRADES: String(MIN_PAPER_TRADES), GOLIVE_MIN_ROI_PCT: '-5',
    ...(process.env['SOAK_LOG_LEVEL'] ? { LOG_LEVEL: process.env['SOAK_LOG_LEVEL'] } : {}),
  };
  log(`simulator ${sim.url}; Slack stand-in ${slack.apiUrl}; rehearsal directory ${cwd}; database ${database.name}`);
  bot = new SoakBot(env, cwd, bin);
  await bot.start();
  log(`bot started (pid ${bot.current.child.pid}) in paper mode`);
  phaseDone('start (database, simulator, bot)');
  const strategies = loadStrategies(testConfig()).strategies;

  await sim.setPace(QUIET_PACE);
  const wentLive = await goLiveThroughApprovals({
    db: database.db, bot, slack, shellEnv: env, cwd, bin, minPaperTrades: MIN_PAPER_TRADES, log, phaseDone, afterPaper: () => sim!.setPace(PACE),
  });
  const liveSince = new Date();
  const monitor = startMonitor(database.db, sim, strategies);
  const chaos = await runChaos(sim, bot, {
    seed: SEED, seconds: SECONDS, restarts: RESTARTS, minOrders: 2, log, evidencePace: QUIET_PACE,
    // After kill -9 the new process takes the engine over halted until it has reconciled with Kraken:
    // everything it finds is explained by intents and ledger, so it must lift that halt by itself.
    // The new process stands by until the dead one's lease goes stale, then takes the engine over: it
    // is back when it runs the engine itself and its own heartbeat is fresh.
    afterRestart: async () => void (await bot!.waitForHealth((h) => !h.halted && h.mode === 'live' && h.engine?.thisProcess === true && h.engineHeartbeatAt !== null
      && Date.parse(h.engineHeartbeatAt) > bot!.current.startedAt && Date.now() - Date.parse(h.engineHeartbeatAt) < 5_000,
    300_000, 'the restarted bot trading live again (running the engine itself, not halted, its heartbeat fresh)')),
  });

  phaseDone(`live run (${SECONDS} s of trouble, then ${(chaos.waitedMs / 1000).toFixed(1)} s waiting for the bot to trade)`);
  log('ctb kill --reason soak (from a shell)');
  const killStarted = Date.now();
  const kill = await runCtb(['kill', '--reason', 'soak'], env, cwd, { bin });
  // What the kill answered, every run: when it does not confirm, its reasons (survivors, errors per
  // round, orders still on their way) are the evidence, and a passing run shows how long it took.
  log(`kill exit ${kill.code} after ${Date.now() - killStarted} ms:\n  ${kill.stdout.split('\n').filter((l) => l && !/^\s+\[ \]/.test(l)).join('\n  ')}`);
  const firstCancel = kill.stderr.split('\n').find((l) => l.includes('"kill: first cancel answered"'));
  if (firstCancel) log(`kill's first cancel: ${JSON.stringify((JSON.parse(firstCancel) as { cancel?: unknown }).cancel)}`);
  if (kill.code !== 0) log(`kill stderr (last 3000 characters):\n${kill.stderr.slice(-3000)}`);
  phaseDone('kill');
  // The bot follows up the orders the kill cut short: wait until the ledger holds every trade Kraken
  // made and no live intent is left unresolved (one Kraken never saw is closed after a minute's grace);
  // the checks below say what is missing if that never happens.
  const tradesAfterKill = await sim.trades();
  await waitUntil(async () => tradesNotInLedger(tradesAfterKill, await liveFills()).length === 0 && (await unresolvedIntents(database.db, 'live')).length === 0,
    180_000, () => 'for the ledger to book every Kraken trade and resolve every live order').catch((err: Error) => log(err.message));
  const unresolved = await unresolvedIntents(database.db, 'live');
  phaseDone('ledger books the kill');
  await monitor.stop();
  const stopped = await bot.stop();
  log(`bot stopped (exit ${stopped})`);
  phaseDone('bot stop (SIGTERM)');
  // Two shells at once: both only read the ledger and Kraken (reconcile writes its report file).
  const [reconcile, validate] = await Promise.all([runCtb(['reconcile', '--json'], env, cwd, { bin }), runCtb(['validate-trades', '--json'], env, cwd, { bin })]);
  const state = await sim.state();
  outcome = {
    chaos, kill, reconcile, validate, wentLive, requestId: wentLive.requestId, strategies, unresolved,
    simOrders: await sim.orders(), simTrades: await sim.trades(), simOpenOrders: state.orders.open, ledgerFills: await liveFills(),
    sampled: { samples: monitor.samples(), breaches: monitor.breaches(), maxOpen: monitor.maxOpenPositions() },
  };
  log((await figures({
    db: database.db, seed: SEED, liveSince, chaos, ordersAtKraken: outcome.simOrders.length, tradesAtKraken: outcome.simTrades.length,
    fillsBooked: outcome.ledgerFills.length, faultHits: sim.faultHits().length, limitSamples: outcome.sampled.samples,
  })).join('\n  '));
  phaseDone('reconcile, validate-trades, figures');
  log(phaseLine());
}, BUDGET_MS);

afterAll(async () => {
  // A run that failed before its end still says where its time went.
  if (!phases.some((p) => p.name.startsWith('reconcile'))) log(`${phaseLine()} (unfinished)`);
  if (bot && bot.incarnations.at(-1)?.child.running()) bot.current.child.signal('SIGKILL');
  await sim?.stop().catch(() => undefined);
  await slack?.close().catch(() => undefined);
  await database?.close();
  release?.remove();
}, 120_000);

describe(`live soak against the Kraken simulator (seed ${SEED})`, () => {
  it('went live through two distinct approvers, the audit passing at the request and at the switch', async () => {
    const [request] = await database.db.select().from(modeChangeRequests).where(eq(modeChangeRequests.id, outcome.requestId));
    expect(request?.status, `request #${outcome.requestId}`).toBe('switched');
    const votes = await database.db.select().from(modeChangeVotes)
      .where(and(eq(modeChangeVotes.requestId, outcome.requestId), eq(modeChangeVotes.kind, 'approve'), isNull(modeChangeVotes.withdrawnAt)));
    expect(new Set(votes.map((v) => v.slackUser)), `approvals on request #${outcome.requestId}`).toEqual(new Set([SLACK.approverA, SLACK.approverB]));
  });

  it('did not count the requester\'s own reaction, and told only them so in the Slack stand-in', async () => {
    const ignored = await database.db.select().from(modeChangeEvents)
      .where(and(eq(modeChangeEvents.requestId, outcome.requestId), eq(modeChangeEvents.kind, 'vote_ignored')));
    expect(ignored.map((e) => [e.actor, e.details['reason']])).toEqual([[SLACK.operator, 'the requester never counts']]);
    expect(outcome.wentLive.requesterRefusal).toMatch(/Your reaction did not count: the requester never counts\.$/);
  });

  it('the request\'s thread, as `ctb simulate-slack messages --json` lists it: the first approval counted, then the switch the second made', () => {
    const { thread } = outcome.wentLive;
    expect(thread, `request #${outcome.requestId}'s thread`).toEqual([
      expect.stringContaining(`Approval 1 of 2: ${SLACK.approverA}`),
      expect.stringContaining(`Switched to LIVE trading (request #${outcome.requestId})`),
    ]);
  });

  it(`went live from the tagged release ${TAG}: the switch's release check judged the engine's build and passed`, async () => {
    const [request] = await database.db.select().from(modeChangeRequests).where(eq(modeChangeRequests.id, outcome.requestId));
    expect(request?.switchAuditRunId, `request #${outcome.requestId} records no audit at the switch`).toEqual(expect.any(Number));
    const [run] = await database.db.select().from(auditRuns).where(eq(auditRuns.id, request!.switchAuditRunId!));
    const check = (run!.results as CheckResult[]).find((r) => r.id === 'release.tag');
    expect(check).toMatchObject({ status: 'pass', value: expect.stringMatching(new RegExp(`^${TAG.replace(/\./g, '\\.')} \\(tagged release, commit [0-9a-f]{12}\\) \\(the engine's process `)) });
  });

  it('kill from a shell: confirmed, zero open orders at Kraken, the bot halted in paper', async () => {
    expect(outcome.kill.code, `the kill did not confirm: ${describeRun(outcome.kill)}`).toBe(0);
    expect(outcome.simOpenOrders, 'orders still open at Kraken after the kill').toBe(0);
    const state = await getBotState(database.db);
    expect({ halted: state.halted, mode: state.mode }, 'bot_state after the kill').toEqual({ halted: true, mode: 'paper' });
  });

  it('resolved every live order after the kill: none left sent or open', () => {
    expect(outcome.unresolved.map((i) => `#${i.id} ${i.purpose} ${i.side} ${i.quantity} ${i.status} (${i.clientOrderId}, ${i.error ?? 'no error'})`), 'live intents still unresolved').toEqual([]);
  });

  it('traded live: Kraken filled orders and every Kraken trade is in the ledger\'s live fills', () => {
    expect(outcome.simTrades.length, 'no trade at Kraken: the bot never traded live').toBeGreaterThan(0);
    expect(outcome.ledgerFills.length, 'no live fill booked').toBeGreaterThan(0);
    const missing = tradesNotInLedger(outcome.simTrades, outcome.ledgerFills);
    expect(missing.map((t) => `${t.txid} (order ${t.ordertxid}, ${t.type} ${t.vol} @ ${t.price})`), `${missing.length} of ${outcome.simTrades.length} Kraken trades are not in the ledger`).toEqual([]);
    const phantom = fillsNotAtKraken(outcome.simTrades, outcome.ledgerFills);
    expect(phantom, 'live fills Kraken never made').toEqual([]);
  });

  it('ctb reconcile --json reports zero differences: every Kraken trade matched, none legacy', () => {
    const { reconcile } = outcome;
    expect(reconcile.code, describeRun(reconcile)).toBe(0);
    const report = JSON.parse(reconcile.stdout) as { ok: boolean; counts: Record<string, number>; balances: Array<{ asset: string; status: string }> };
    expect(report.counts, `reconcile counts (${outcome.simTrades.length} trades at Kraken)`).toMatchObject({
      matched: outcome.simTrades.length, mismatched: 0, missingOnExchange: 0, recentUnmatched: 0, legacyUnmatched: 0,
    });
    expect(report.balances.filter((b) => b.status !== 'ok'), 'balances the ledger and Kraken disagree on').toEqual([]);
    expect((report as { start?: { blocked?: boolean } }).start?.blocked ?? false, 'reconciliation with Kraken blocked').toBe(false);
    expect(report.ok).toBe(true);
  });

  it('never held a position above its strategy limit (the ledger sampled while trading, Kraken\'s trades replayed)', () => {
    expect(outcome.sampled.samples, 'the monitor took no sample').toBeGreaterThan(0);
    const seen = outcome.sampled.breaches;
    expect(seen.slice(0, 5), `${seen.length} of ${outcome.sampled.samples} ledger samples broke a limit while trading (max open per strategy: ${JSON.stringify(outcome.sampled.maxOpen)}); the first`).toEqual([]);
    const breaches = breachesFromTrades(outcome.simTrades, STARTING_USD, pairLimits(outcome.strategies));
    expect(breaches.slice(0, 10), `${breaches.length} Kraken trades left a position above its limit`).toEqual([]);
  });

  it('sent no order twice: every cl_ord_id once at Kraken, none without one', () => {
    expect(duplicateClientOrderIds(outcome.simOrders), 'client order ids Kraken received more than once').toEqual([]);
    expect(ordersWithoutClientId(outcome.simOrders), 'orders at Kraken without a client order id').toEqual([]);
  });

  it('ctb validate-trades is clean', () => {
    expect(outcome.validate.code, describeRun(outcome.validate)).toBe(0);
    expect(JSON.parse(outcome.validate.stdout)).toMatchObject({ ok: true, offending: [] });
  });
});
