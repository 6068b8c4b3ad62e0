// Fixtures for engine tests: a context on a real test database with a manual clock and recorded
// alerts, synthetic candles, and a strategy definition with overrides.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAppContext, type OwnedContext } from '../../src/app/build-context.js';
import type { AlertInput, AlertSink } from '../../src/alerts/types.js';
import { ManualClock } from '../../src/clock.js';
import { testConfig } from '../../src/config/env.js';
import type { Database } from '../../src/db/client.js';
import type { StrategyDefinition } from '../../src/engine/strategies/config.js';
import type { Candle } from '../../src/exchange/types.js';
import { silentLogger } from '../../src/logger.js';
import type { BuildContextOptions } from '../../src/app/build-context.js';

export interface RecordingAlerts extends AlertSink {
  raised: AlertInput[];
}

export function recordingAlerts(): RecordingAlerts {
  const raised: AlertInput[] = [];
  return { raised, raise: async (a) => void raised.push(a) };
}

export interface EngineTestContext {
  ctx: OwnedContext;
  clock: ManualClock;
  alerts: RecordingAlerts;
}

export async function engineContext(
  database: Database,
  env: Record<string, string | undefined> = {},
  extra: Partial<BuildContextOptions> = {},
): Promise<EngineTestContext> {
  const clock = new ManualClock('2026-01-05T00:00:00Z');
  const alerts = recordingAlerts();
  const ctx = await buildAppContext({
    // DATA_DIR of its own: the repository's ./data is shared by every test file of a run, and a kill
    // one file saved there (kill-pending.json) reached another file's halt watcher.
    config: testConfig({ LOG_DIR: join(tmpdir(), 'ctb-test-logs'), DATA_DIR: mkdtempSync(join(tmpdir(), 'ctb-engine-')), ...env }), database, clock, logger: silentLogger(), alerts: () => alerts, ...extra,
  });
  return { ctx, clock, alerts };
}

type MaDefinition = Extract<StrategyDefinition, { type: 'ma_crossover' }>;

export function maCross(overrides: Partial<Omit<MaDefinition, 'limits' | 'params'>> & { limits?: Partial<MaDefinition['limits']>; params?: Partial<MaDefinition['params']> } = {}): StrategyDefinition {
  const { limits, params, ...rest } = overrides;
  return {
    name: 'test-ma', type: 'ma_crossover', enabled: true, pairs: ['BTC/USD'], exits: {},
    ...rest,
    params: { fastPeriod: 3, slowPeriod: 8, fullConfidenceGapPct: 0.05, signalWindow: 3, ...params },
    limits: { maxPositionPctOfEquity: 20, maxNotional: 5000, maxOpenPositions: 1, minConfidence: 0.2, minVolume24hQuote: 0, ...limits },
  };
}

/** Candles from a list of closes (1 minute apart), with a fixed volume. */
export function candlesFrom(closes: number[], opts: { symbol?: string; start?: string; volume?: number } = {}): Candle[] {
  const t0 = new Date(opts.start ?? '2026-01-05T00:00:00Z').getTime();
  return closes.map((close, i) => {
    const open = i === 0 ? close : closes[i - 1]!;
    return {
      symbol: opts.symbol ?? 'BTC/USD', openTime: new Date(t0 + i * 60_000), open, high: Math.max(open, close), low: Math.min(open, close), close,
      volume: opts.volume ?? 50,
    };
  });
}

/** A V: falls, rises (a cross up: entry), falls again (a cross down: exit). */
export function roundTripCloses(base = 60_000): number[] {
  const out: number[] = [];
  for (let i = 0; i < 12; i++) out.push(base - i * 20);
  for (let i = 1; i <= 12; i++) out.push(base - 220 + i * 60);
  for (let i = 1; i <= 14; i++) out.push(base + 500 - i * 70);
  return out;
}
