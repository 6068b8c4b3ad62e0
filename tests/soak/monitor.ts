// Owns watching the ledger's limits while the soak runs: every second or so it reads the open live
// trades per strategy and keeps every sample that broke a strategy's limit — a state a kill -9 or a
// fault may cause only for a moment, which a look at the end would miss.
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../../src/db/client.js';
import { trades } from '../../src/db/schema/index.js';
import { Decimal } from '../../src/money.js';
import type { StrategyDefinition } from '../../src/engine/strategies/config.js';
import { pairOf } from '../../src/simulator/catalogue.js';
import { allowedValue } from './limits.js';
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

/**
 * The ledger's side, valued as the limits are — at entry (quantity × entry price), against the
 * account's equity at Kraken now; a price that moved since is not a breach. Kraken's own holdings
 * are checked afterwards from its complete trade list (limits.ts), which no sample can miss.
 */
async function sampleOnce(db: Db, sim: SimProcess, strategies: StrategyDefinition[], seen: Record<string, number>): Promise<string[]> {
  const problems: string[] = [];
  const open = await db
    .select({ strategy: trades.strategy, symbol: trades.symbol, n: sql<number>`count(*)::int`, notional: sql<string>`coalesce(sum(${trades.quantity} * ${trades.entryPrice}), 0)::text` })
    .from(trades)
    .where(and(eq(trades.mode, 'live'), eq(trades.status, 'open')))
    .groupBy(trades.strategy, trades.symbol);
  if (open.length === 0) return problems;
  const state = await sim.state();
  let equity = new Decimal(state.balances['ZUSD']?.balance ?? '0');
  for (const { pair, price } of Object.values(state.prices)) {
    const base = pairOf(pair)?.base;
    if (base) equity = equity.plus(new Decimal(state.balances[base]?.balance ?? '0').mul(price));
  }
  for (const row of open) {
    seen[row.strategy] = Math.max(seen[row.strategy] ?? 0, row.n);
    const def = strategies.find((s) => s.name === row.strategy);
    if (!def) {
      problems.push(`ledger: ${row.n} open live trade(s) of ${row.strategy}, which is not an enabled strategy`);
      continue;
    }
    if (row.n > def.limits.maxOpenPositions) problems.push(`ledger: ${row.n} open live trades for ${row.strategy} (maxOpenPositions ${def.limits.maxOpenPositions})`);
    const allowed = allowedValue([{ symbol: row.symbol, strategies: [def.name], ...def.limits }], equity);
    if (new Decimal(row.notional).gt(allowed)) problems.push(`ledger: ${row.strategy} holds ${row.symbol} worth ${new Decimal(row.notional).toFixed(2)} at entry > ${allowed.toFixed(2)} allowed at equity ${equity.toFixed(2)}`);
  }
  return problems;
}

export function startMonitor(db: Db, sim: SimProcess, strategies: StrategyDefinition[], everyMs = 1_000): Monitor {
  const breaches: LimitSample[] = [];
  const seen: Record<string, number> = {};
  let samples = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        for (const problem of await sampleOnce(db, sim, strategies, seen)) breaches.push({ at: new Date().toISOString(), problem });
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
