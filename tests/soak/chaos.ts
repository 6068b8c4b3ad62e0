// Owns the soak's trouble-making: for the length of the live run, at seeded random moments, it
// injects a fault from the catalogue, opens a cancel_only window, or kill -9s the bot (at a random
// moment, or just after the next order reaches Kraken) and starts it again. Every action is logged
// with its time so a failure can be replayed from the seed.
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
   * machine (CI runs the soak beside the rest of the suite) a restart alone can take a minute.
   */
  minOrders: number;
  /** After each restart: wait until the bot trades again (healthz), before more trouble. */
  afterRestart: () => Promise<void>;
  log: (line: string) => void;
}

export interface ChaosReport {
  faultsInjected: number;
  faultsByName: Record<string, number>;
  cancelOnlyWindows: number;
  restarts: Array<{ at: number; how: 'random moment' | 'just after an AddOrder' | 'random moment (no order came within 30 s)'; downMs: number }>;
  seconds: number;
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
 * Few faults wait at once (one per endpoint, three in all), so each lands near the moment it was
 * injected; and an AddOrder fault waits until an order went through clean since the last one hit,
 * so the bot also trades, not only recovers.
 */
async function mayInject(sim: SimProcess, pick: FaultPick): Promise<boolean> {
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
  const restartAt = Array.from({ length: opts.restarts }, (_, i) => ((i + between(random, 0.2, 0.8)) / opts.restarts) * opts.seconds * 0.6);
  const report: ChaosReport = { faultsInjected: 0, faultsByName: {}, cancelOnlyWindows: 0, restarts: [], seconds: 0 };
  const hardStop = Math.max(opts.seconds * 2, opts.seconds + 300);
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
  while (!(await done())) {
    // One action every few seconds: an order whose outcome a fault made unknown keeps its pair busy
    // for a minute (Kraken may still place it), so more would leave the bot little time to trade.
    await pause(between(random, 3_000, 8_000));
    // A restart due while the last one was still coming up waits until the bot has traded a while.
    if (restartAt.length > 0 && elapsed() >= restartAt[0]! && elapsed() - backAt >= 30) {
      restartAt.shift();
      let how: ChaosReport['restarts'][number]['how'] = random() < 0.5 ? 'just after an AddOrder' : 'random moment';
      if (how === 'just after an AddOrder' && !(await nextOrder(sim, 30_000))) how = 'random moment (no order came within 30 s)';
      const down = Date.now();
      opts.log(`t+${elapsed().toFixed(1)}s kill -9 the bot (${how}, pid ${bot.current.child.pid})`);
      await bot.kill9();
      await bot.start();
      await opts.afterRestart();
      backAt = elapsed();
      ordersAtLastRestart = await ordersAtKraken(sim);
      tradesAtLastRestart = await tradesAtKraken(sim);
      report.restarts.push({ at: Math.round(elapsed()), how, downMs: Date.now() - down });
      opts.log(`t+${elapsed().toFixed(1)}s the bot is back (pid ${bot.current.child.pid}) after ${Math.round((Date.now() - down) / 1000)} s`);
      continue;
    }
    // A cancel_only window now and then: each refused order keeps its pair busy while it is resolved.
    if (random() < 0.12 && elapsed() - lastCancelOnly >= 45) {
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
      if (await mayInject(sim, candidate)) pick = candidate;
    }
    if (!pick) continue;
    await sim.addFault(pick.spec);
    report.faultsInjected += 1;
    report.faultsByName[pick.name] = (report.faultsByName[pick.name] ?? 0) + 1;
    opts.log(`t+${elapsed().toFixed(1)}s fault: ${pick.name}`);
  }
  // Faults still waiting would hit the kill's own calls; the kill is tested clean of them.
  await sim.clearFaults();
  await sim.setStatus('online');
  report.seconds = Math.round(elapsed());
  return report;
}
