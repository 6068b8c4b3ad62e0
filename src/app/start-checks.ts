// Owns checking the files `ctb start` reads before anything else is touched — the database, LOG_DIR,
// the port — and before it says it is loading and migrating: a bad strategies file is refused in the
// first second, with the file and the field named (a pair the market feed does not serve included). startBot checks again (each feature's check), for
// callers that start the bot without the CLI.
import type { Config } from '../config/env.js';
import { loadTradedStrategies } from '../engine/strategies/traded-pairs.js';

/** Throws the config error (exit 2) of the first file this role would refuse. */
export function checkStartFiles(config: Pick<Config, 'STRATEGIES_FILE' | 'TRADING_PAIRS'>, role: 'all' | 'web' | 'worker'): void {
  // The roles that run the engine (engineFeature's roles) trade from the strategies file.
  if (role !== 'web') loadTradedStrategies(config);
}
