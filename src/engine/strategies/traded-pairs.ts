// Owns the rule that every pair an enabled strategy names is one the bot's market feed serves
// (TRADING_PAIRS: the pairs the replay feed plays and the Kraken feed polls). A pair outside them
// would never see a candle: the strategy would load, the engine say "ready", and nothing trade.
import type { Config } from '../../config/env.js';
import { AppError } from '../../errors.js';
import { didYouMean } from '../../suggest-similar.js';
import { loadStrategiesFile, type StrategiesFile } from './config.js';

/** One line per pair of an enabled strategy that TRADING_PAIRS does not list ([] when all are listed). */
function untradedPairProblems(file: string, strategies: StrategiesFile, tradingPairs: readonly string[]): string[] {
  const problems: string[] = [];
  strategies.strategies.forEach((s, i) => {
    if (!s.enabled) return;
    s.pairs.forEach((pair, j) => {
      if (tradingPairs.includes(pair)) return;
      problems.push(
        `${file}: strategies[${i}:${s.name}].pairs[${j}]: "${pair}" is not a pair the market feed serves; `
        + `expected one of TRADING_PAIRS (${tradingPairs.join(', ')})${didYouMean(pair, tradingPairs)}`,
      );
    });
  });
  return problems;
}

/**
 * The strategies file as the engine trades it: loadStrategiesFile's checks, and every enabled
 * strategy's pairs among TRADING_PAIRS. Throws a config error (exit 2) listing every problem.
 */
export function loadTradedStrategies(config: Pick<Config, 'STRATEGIES_FILE' | 'TRADING_PAIRS'>): ReturnType<typeof loadStrategiesFile> {
  const loaded = loadStrategiesFile(config);
  const problems = untradedPairProblems(loaded.file, loaded.config, config.TRADING_PAIRS);
  if (problems.length > 0) {
    throw new AppError('config', 'bad_strategies_file', `Invalid strategies file:\n  - ${problems.join('\n  - ')}`, {
      hint: 'Fix the pair in the strategies file, or add it to TRADING_PAIRS (the pairs the market feed serves).',
    });
  }
  return loaded;
}
