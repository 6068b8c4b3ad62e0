// Owns the rule that every pair an enabled strategy names is one the bot's market feed serves
// (TRADING_PAIRS: the pairs the replay feed plays and the Kraken feed polls). A pair outside them
// would never see a candle: the strategy would load, the engine say "ready", and nothing trade.
import { resolve } from 'node:path';
import type { Config } from '../../config/env.js';
import { AppError } from '../../errors.js';
import { didYouMean } from '../../suggest-similar.js';
import { inspectStrategies, strategiesPath, type loadStrategiesFile } from './config.js';

/**
 * One line per pair of an enabled strategy that TRADING_PAIRS does not list ([] when all are listed).
 * Read from the file's JSON, so that a file with other problems has its pairs named too.
 */
function untradedPairProblems(file: string, data: unknown, tradingPairs: readonly string[]): string[] {
  const strategies = (data as { strategies?: unknown } | null)?.strategies;
  if (!Array.isArray(strategies)) return [];
  const problems: string[] = [];
  strategies.forEach((s: unknown, i) => {
    const { name, enabled, pairs } = (s ?? {}) as { name?: unknown; enabled?: unknown; pairs?: unknown };
    if (enabled === false || !Array.isArray(pairs)) return;
    const label = typeof name === 'string' ? `${i}:${name}` : String(i);
    pairs.forEach((pair: unknown, j) => {
      if (typeof pair !== 'string' || tradingPairs.includes(pair)) return;
      problems.push(
        `${file}: strategies[${label}].pairs[${j}]: "${pair}" is not a pair the market feed serves; `
        + `expected one of TRADING_PAIRS (${tradingPairs.join(', ')})${didYouMean(pair, tradingPairs)}`,
      );
    });
  });
  return problems;
}

/**
 * The strategies file as the engine trades it: loadStrategiesFile's checks, and every enabled
 * strategy's pairs among TRADING_PAIRS. Throws a config error (exit 2) listing every problem, of
 * both kinds at once.
 */
export function loadTradedStrategies(config: Pick<Config, 'STRATEGIES_FILE' | 'TRADING_PAIRS'>): ReturnType<typeof loadStrategiesFile> {
  const inspection = inspectStrategies(strategiesPath(config));
  const pairProblems = untradedPairProblems(inspection.file, inspection.data, config.TRADING_PAIRS);
  if (inspection.problems.length > 0) {
    throw new AppError('config', 'bad_strategies_file', `Invalid strategies file:\n  - ${[...inspection.problems, ...pairProblems].join('\n  - ')}`, {
      hint: pairProblems.length > 0
        ? 'See config/strategies.json in the repository for the expected shape; a pair must be one of TRADING_PAIRS (the pairs the market feed serves).'
        : 'See config/strategies.json in the repository for the expected shape.',
    });
  }
  if (pairProblems.length > 0) {
    throw new AppError('config', 'bad_strategies_file', `Invalid strategies file:\n  - ${pairProblems.join('\n  - ')}`, {
      hint: 'Fix the pair in the strategies file, or add it to TRADING_PAIRS (the pairs the market feed serves).',
    });
  }
  // What was checked is what is traded: the same read, never the file read again.
  return { config: inspection.config!, file: resolve(inspection.file), sha256: inspection.sha256! };
}
