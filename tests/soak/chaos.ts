// Owns the soak's trouble-making: for the length of the live run, at seeded random moments, it
// injects a fault from the catalogue, opens a cancel_only window, or kill -9s the bot (at a random
// moment, or just after the next order reaches Kraken) and starts it again. Every action is logged
// with its time so a failure can be replayed from the seed.
import type { FaultSpec } from '../../src/simulator/faults.js';
import { seededRandom, type Random } from '../../src/simulator/ids.js';
import type { SoakBot } from './bot-process.js';
import { FAULTS, type FaultPick } from './fault-catalogue.js';
import type { SimProcess } from './sim-process.js';

export interface ChaosOptions {
  seed: number;
  /** Wall-clock length of the live run. */
  seconds: number;
  /** kill -9s spread over the run. */
  restarts: number;
  /**
   * The run goes on past `seconds` until this many orders reached Kraken and Kraken traded since the
   * last restart (an order placed and filled after it), at most `seconds` + 5 minutes: on a loaded
   * machine (CI runs the soak beside the rest of the suite) a restart alone can take a minute. The
   * trouble ends at `seconds` (faults still waiting are cleared): that wait is for the evidence only,
   * and more faults in it would only put the evidence off.
   */
  minOrders: number;
  /**
   * Candles a second while the run waits for that evidence (no fault is injected then): a faster
   * market brings the next crossover sooner; with faults gone an order fills within a few candles.
   */
  evidencePace: number;
  /** After each restart: wait until the bot trades again (healthz), before more trouble. */
  afterRestart: () => Promise<void>;
  log: (line: string) => void;
}

export interface ChaosReport {
  faultsInjected: number;
  faultsByName: Record<string, number>;
  cancelOnlyWindows: number;
  restarts: Array<{ at: number; how: 'random moment' | 'just after an AddOrder' | 'random moment (no order came in time)'; downMs: number; upMs: number }>;
  /** Times an AddOrder fault that may leave no order at Kraken was withdrawn unhit at the end of its stretch. */
  withdrawn: number;
  seconds: number;
  /** How long the run went on past `seconds` for the bot to trade since its last restart. */
  waitedMs: number;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const between = (random: Random, lo: number, hi: number) => lo + random() * (hi - lo);

async function ordersAtKraken(sim: SimProcess): Promise<number> {
  return (await sim.state()).orders.total;
}

async function tradesAtKraken(sim: SimProcess): Promise<number> {
  return (await sim.state()).trades;
}

/** Waits (up to `ms`) for the next order to reach the simulator; true when one did. */
async function nextOrder(sim: SimProcess, ms: number): Promise<boolean> {
  const before = await ordersAtKraken(sim);
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if ((await ordersAtKraken(sim)) > before) return true;
    await pause(50);
  }
  return false;
}

/**
 * An AddOrder fault after which Kraken may hold no order: one answered before Kraken saw it (5xx,
 * reset, nonce, busy), or a slow one the bot gave up on (Kraken then finds its nonce stale). The bot
 * cannot tell either from an order Kraken placed, so the pair stays busy until the order has been
 * looked up in vain for NOT_FOUND_GRACE_MS (60 s) and is closed as never placed. The run ends only
 * once the bot has traded since its last restart, so such a fault hitting late would hold the run
 * (or, after the kill, the wait for every live order to be resolved) for up to that minute more.
 */
export function mayNeverReachKraken(spec: FaultSpec): boolean {
  return spec.endpoint === 'AddOrder' && spec.after !== true;
}

/** The part of the run, from its start, in which AddOrder faults that may never reach Kraken are injected (and may hit). */
export const UNREACHED_ORDER_FAULTS_UNTIL = 0.3;

/**
 * Few faults wait at once (one per endpoint, three in all), so each lands near the moment it was
 * injected; and an AddOrder fault waits until an order went through clean since the last one hit,
 * so the bot also trades, not only recovers.
 */
async function mayInject(sim: SimProcess, pick: FaultPick, unreachedAllowed: boolean): Promise<boolean> {
  if (!unreachedAllowed && mayNeverReachKraken(pick.spec)) return false;
  const waiting = (await sim.state()).faults;
  if (waiting.length >= 3 || waiting.some((f) => f.endpoint === pick.spec.endpoint)) return false;
  if (pick.spec.endpoint !== 'AddOrder') return true;
  const lastHit = sim.faultHits().filter((h) => h.text.startsWith('fault on AddOrder')).at(-1)?.at;
  return lastHit === undefined || (await sim.lastCallAt('AddOrder')) > lastHit;
}

export async function runChaos(sim: SimProcess, bot: SoakBot, opts: ChaosOptions): Promise<ChaosReport> {
  const random = seededRandom(opts.seed);
  const started = Date.now();
  const elapsed = () => (Date.now() - started) / 1000;
  // Restart moments, spread so each has its own stretch of the run.
  // Restart moments in the first 60 % of the run, so the bot trades again after the last one.
  const restartsUntil = opts.seconds * 0.6;
  const restartAt = Array.from({ length: opts.restarts }, (_, i) => ((i + between(random, 0.2, 0.8)) / opts.restarts) * restartsUntil);
  const report: ChaosReport = { faultsInjected: 0, faultsByName: {}, cancelOnlyWindows: 0, restarts: [], withdrawn: 0, seconds: 0, waitedMs: 0 };
  const hardStop = Math.max(opts.seconds * 2, opts.seconds + 300);
  const unreachedUntil = opts.seconds * UNREACHED_ORDER_FAULTS_UNTIL;
  let unreachedWithdrawn = false;
  let lastCancelOnly = -Infinity;
  let backAt = -Infinity;

  // Orders and trades at Kraken when the bot last came back: the run also waits for an order placed
  // and a trade made after that, so the restarted bot is seen trading, not only healthy.
  let ordersAtLastRestart = -1;
  let tradesAtLastRestart = 0;
  let lastWaitLog = 0;
  const done = async () => {
    if (elapsed() >= hardStop) {
      opts.log(`t+${elapsed().toFixed(1)}s hard stop: orders at Kraken ${await ordersAtKraken(sim)} (at the last restart ${ordersAtLastRestart}), trades ${await tradesAtKraken(sim)} (${tradesAtLastRestart})`);
      return true;
    }
    if (elapsed() < opts.seconds) return false;
    const [orders, trades] = [await ordersAtKraken(sim), await tradesAtKraken(sim)];
    const ok = orders >= opts.minOrders && orders > ordersAtLastRestart && trades > tradesAtLastRestart;
    if (!ok && elapsed() - lastWaitLog >= 30) {
      lastWaitLog = elapsed();
      opts.log(`t+${elapsed().toFixed(1)}s waiting for the bot to trade: orders at Kraken ${orders} (need ≥ ${opts.minOrders}, > ${ordersAtLastRestart}), trades ${trades} (need > ${tradesAtLastRestart})`);
    }
    return ok;
  };
  // The trouble: until `seconds`, one action every few seconds.
  while (elapsed() < opts.seconds) {
    // One action every few seconds: an order whose outcome a fault made unknown keeps its pair busy
    // for a minute (Kraken may still place it), so more would leave the bot little time to trade.
    // A pause that would run past the end of the trouble ends with it (or with the stretch below).
    const until = unreachedWithdrawn ? opts.seconds : unreachedUntil;
    await pause(Math.min(between(random, 3_000, 8_000), Math.max(0, (until - elapsed()) * 1000)));
    if (elapsed() >= opts.seconds) break;
    // Such an AddOrder fault that has not hit by the end of its stretch is withdrawn (with whatever
    // else waits: at most three faults), so it cannot hold the pair long past the run.
    if (!unreachedWithdrawn && elapsed() >= unreachedUntil) {
      unreachedWithdrawn = true;
      const waiting = (await sim.state()).faults;
      if (waiting.some(mayNeverReachKraken)) {
        await sim.clearFaults();
        report.withdrawn += 1;
        opts.log(`t+${elapsed().toFixed(1)}s withdrawn unhit: ${waiting.map((f) => `${f.endpoint} ${f.kind}`).join(', ')} (AddOrder faults that may leave no order at Kraken hit only in the first ${Math.round(unreachedUntil)} s)`);
      }
    }
    // A restart due while the last one was still coming up waits until the bot has traded a while.
    if (restartAt.length > 0 && elapsed() >= restartAt[0]! && elapsed() - backAt >= 30) {
      restartAt.shift();
      let how: ChaosReport['restarts'][number]['how'] = random() < 0.5 ? 'just after an AddOrder' : 'random moment';
      // The order is waited for at most 30 s, and not past the first 60 % of the run (a pair kept
      // busy by an order Kraken may never have seen sends none for a minute).
      const orderWaitMs = Math.min(30_000, Math.max(5_000, (restartsUntil - elapsed()) * 1000));
      if (how === 'just after an AddOrder' && !(await nextOrder(sim, orderWaitMs))) how = 'random moment (no order came in time)';
      const down = Date.now();
      opts.log(`t+${elapsed().toFixed(1)}s kill -9 the bot (${how}, pid ${bot.current.child.pid})`);
      await bot.kill9();
      await bot.start();
      const upMs = Date.now() - down;
      await opts.afterRestart();
      backAt = elapsed();
      ordersAtLastRestart = await ordersAtKraken(sim);
      tradesAtLastRestart = await tradesAtKraken(sim);
      report.restarts.push({ at: Math.round(elapsed()), how, downMs: Date.now() - down, upMs });
      opts.log(`t+${elapsed().toFixed(1)}s the bot is back (pid ${bot.current.child.pid}) after ${Math.round((Date.now() - down) / 1000)} s (its process answered after ${(upMs / 1000).toFixed(1)} s; then it took the engine over and reconciled)`);
      continue;
    }
    // A cancel_only window now and then (Kraken's EService:Market in cancel_only mode: the order is
    // rejected at once, nothing placed), like the AddOrder faults that may leave no order at Kraken,
    // only early in the run, and there likelier (about as many windows as when they fell anywhere in a 60 s run).
    if (random() < 0.3 && elapsed() - lastCancelOnly >= 45 && elapsed() < unreachedUntil) {
      lastCancelOnly = elapsed();
      const ms = Math.round(between(random, 2_000, 8_000));
      opts.log(`t+${elapsed().toFixed(1)}s cancel_only for ${ms} ms`);
      await sim.setStatus('cancel_only');
      await pause(ms);
      await sim.setStatus('online');
      report.cancelOnlyWindows += 1;
      continue;
    }
    let pick: FaultPick | undefined;
    for (let tries = 0; tries < 4 && !pick; tries++) {
      const candidate = FAULTS[Math.floor(random() * FAULTS.length)]!;
      if (await mayInject(sim, candidate, elapsed() < unreachedUntil)) pick = candidate;
    }
    if (!pick) continue;
    await sim.addFault(pick.spec);
    report.faultsInjected += 1;
    report.faultsByName[pick.name] = (report.faultsByName[pick.name] ?? 0) + 1;
    opts.log(`t+${elapsed().toFixed(1)}s fault: ${pick.name}`);
  }
  // The trouble is over: faults still waiting would only put off the evidence, and would hit the
  // kill's own calls (the kill is tested clean of them).
  const waiting = (await sim.state()).faults;
  await sim.clearFaults();
  await sim.setStatus('online');
  const endedAt = Date.now();
  const pace = (await sim.state()).pace;
  opts.log(`t+${elapsed().toFixed(1)}s the trouble ends${waiting.length ? ` (cleared unhit: ${waiting.map((f) => `${f.endpoint} ${f.kind}`).join(', ')})` : ''}; waiting for the bot to trade since its last restart (market at ${opts.evidencePace} candles/s meanwhile)`);
  // The evidence: polled, so the run ends as soon as it is there.
  await sim.setPace(opts.evidencePace);
  while (!(await done())) await pause(250);
  await sim.setPace(pace);
  report.waitedMs = Date.now() - endedAt;
  report.seconds = Math.round(elapsed());
  return report;
}
