// Owns watching the limits while the soak runs: every second or so it reads the ledger (open live
// trades per strategy) and Kraken's account (holdings valued at the simulator's price against its
// equity), and keeps every sample that broke a strategy's limit — the breaches a kill -9 or a fault
// may cause only for a moment, which a look at the end would miss.
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../../src/db/client.js';
import { trades } from '../../src/db/schema/index.js';
import { Dec } from '../../src/decimal.js';
import type { StrategyDefinition } from '../../src/engine/strategies/config.js';
import { pairOf } from '../../src/simulator/catalogue.js';
import { allowedValue, pairLimits, type PairLimit } from './limits.js';
import type { SimProcess } from './sim-process.js';

export interface LimitSample {
  at: string;
  problem: string;
}

export interface Monitor {
  samples(): number;
  breaches(): LimitSample[];
  maxOpenPositions(): Record<string, number>;
  stop(): Promise<void>;
}

async function sampleOnce(db: Db, sim: SimProcess, strategies: StrategyDefinition[], limits: Map<string, PairLimit[]>, seen: Record<string, number>): Promise<string[]> {
  const problems: string[] = [];
  const open = await db
    .select({ strategy: trades.strategy, n: sql<number>`count(*)::int` })
    .from(trades)
    .where(and(eq(trades.mode, 'live'), eq(trades.status, 'open')))
    .groupBy(trades.strategy);
  for (const row of open) {
    seen[row.strategy] = Math.max(seen[row.strategy] ?? 0, row.n);
    const def = strategies.find((s) => s.name === row.strategy);
    if (def && row.n > def.limits.maxOpenPositions) problems.push(`ledger: ${row.n} open live trades for ${row.strategy} (maxOpenPositions ${def.limits.maxOpenPositions})`);
  }
  const state = await sim.state();
  let equity = new Dec(state.balances['ZUSD']?.balance ?? '0');
  const values = new Map<string, Dec>();
  for (const { pair, price } of Object.values(state.prices)) {
    const info = pairOf(pair);
    const held = new Dec(state.balances[info?.base ?? '']?.balance ?? '0');
    if (!info || held.isZero()) continue;
    const value = held.mul(price);
    values.set(info.symbol, value);
    equity = equity.plus(value);
  }
  for (const [symbol, value] of values) {
    const allowed = allowedValue(limits.get(symbol) ?? [], equity);
    if (value.gt(allowed)) problems.push(`Kraken: ${symbol} holdings worth ${value.toFixed(2)} > ${allowed.toFixed(2)} allowed at equity ${equity.toFixed(2)}`);
  }
  return problems;
}

export function startMonitor(db: Db, sim: SimProcess, strategies: StrategyDefinition[], everyMs = 1_000): Monitor {
  const limits = pairLimits(strategies);
  const breaches: LimitSample[] = [];
  const seen: Record<string, number> = {};
  let samples = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        for (const problem of await sampleOnce(db, sim, strategies, limits, seen)) breaches.push({ at: new Date().toISOString(), problem });
        samples += 1;
      } catch {
        // A sample the machine was too busy to take is skipped; the trade replay afterwards still covers it.
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    samples: () => samples,
    breaches: () => [...breaches],
    maxOpenPositions: () => ({ ...seen }),
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
