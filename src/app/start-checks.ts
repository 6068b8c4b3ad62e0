// Owns checking the files `ctb start` reads before anything else is touched — the database, LOG_DIR,
// the port — and before it says it is loading and migrating: a bad strategies file is refused in the
// first second, with the file and the field named. startBot checks again (each feature's check), for
// callers that start the bot without the CLI.
import type { Config } from '../config/env.js';
import { loadStrategies } from '../engine/strategies/config.js';

/** Throws the config error (exit 2) of the first file this role would refuse. */
export function checkStartFiles(config: Pick<Config, 'STRATEGIES_FILE'>, role: 'all' | 'web' | 'worker'): void {
  // The roles that run the engine (engineFeature's roles) trade from the strategies file.
  if (role !== 'web') loadStrategies(config);
}
