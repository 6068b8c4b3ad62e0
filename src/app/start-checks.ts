// Owns checking the files `ctb start` reads before anything else is touched — the database, LOG_DIR,
// the port — and before it says it is loading and migrating: a bad strategies file is refused in the
// first second, with the file and the field named (a pair the market feed does not serve included).
// The file is read and checked once: what was checked is what the engine trades (StartFiles, passed
// to startBot and on to each feature's start). startBot checks only when it is not given them, for
// callers that start the bot without the CLI.
import type { Config } from '../config/env.js';
import { loadTradedStrategies } from '../engine/strategies/traded-pairs.js';

/** A process's part of the bot (StartOptions['role'], feature.ts). */
type Role = 'all' | 'web' | 'worker';

/** The roles that run the engine, which trades from the strategies file (engineFeature's roles). */
export const ENGINE_ROLES: ReadonlyArray<Role> = ['all', 'worker'];

/** The files a start read and checked, as they were read. */
export interface StartFiles {
  /** The strategies file the engine trades, when this role runs the engine. */
  strategies?: ReturnType<typeof loadTradedStrategies>;
}

/** Reads and checks the files this role reads; throws the config error (exit 2) of the first it would refuse. */
export function checkStartFiles(config: Pick<Config, 'STRATEGIES_FILE' | 'TRADING_PAIRS'>, role: Role): StartFiles {
  return ENGINE_ROLES.includes(role) ? { strategies: loadTradedStrategies(config) } : {};
}
