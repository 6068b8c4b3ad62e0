// Owns the kill's way past a broken configuration: cancelling is never refused, so `ctb kill` must
// not stop at a bad PORT or a malformed Slack setting. Settings a kill does not need are dropped
// (their defaults apply) until the rest parses; the problems are returned so the kill can print them.
// DATABASE_URL and DATA_DIR are never dropped: the halt written to another database than the bot's
// would be a halt nobody reads.
import { ConfigError, readEnv, type Config } from './env.js';

export interface SalvagedConfig {
  config: Config;
  /** What was wrong (as ConfigError words it) and dropped; empty when the configuration was valid. */
  problems: string[];
  dropped: string[];
}

/** Settings that decide where the halt is written: a problem with one of them cannot be salvaged. */
const WHERE_THE_HALT_GOES = new Set(['DATABASE_URL', 'DATA_DIR']);

/** Cross-field problems name one variable; these are the settings that clear each of them. */
const PARTNERS: Record<string, string[]> = {
  // A missing key or secret: live needs both, and one of the pair alone is no key at all.
  KRAKEN_API_KEY: ['IS_LIVE', 'KRAKEN_API_SECRET'],
  KRAKEN_API_SECRET: ['IS_LIVE', 'KRAKEN_API_KEY'],
  SLACK_SIGNING_SECRET: ['SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'SLACK_SIGNING_SECRET'],
  SLACK_BOT_TOKEN: ['SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'SLACK_SIGNING_SECRET'],
  RISK_HARD_DRAWDOWN_PCT: ['RISK_HARD_DRAWDOWN_PCT', 'RISK_MAX_DRAWDOWN_PCT'],
  DEAD_MAN_INTERVAL: ['DEAD_MAN_INTERVAL', 'DEAD_MAN_TIMEOUT'],
  DEAD_MAN_TIMEOUT: ['DEAD_MAN_INTERVAL', 'DEAD_MAN_TIMEOUT'],
};

function named(problem: string): string {
  return problem.slice(0, Math.max(0, problem.indexOf(':'))).split('.')[0] ?? '';
}

/**
 * Parses `env` as readEnv does; on a ConfigError drops what the problems name (never DATABASE_URL or
 * DATA_DIR) and tries again. Throws the first ConfigError when it cannot get past it.
 */
export function salvageConfigForKill(env: Record<string, string | undefined>): SalvagedConfig {
  const working = { ...env };
  const problems: string[] = [];
  const dropped = new Set<string>();
  let first: ConfigError | undefined;
  for (let pass = 0; pass < 8; pass++) {
    try {
      return { config: readEnv(working), problems, dropped: [...dropped] };
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      first ??= err;
      const names = err.problems.map(named);
      if (names.some((n) => n === '' || WHERE_THE_HALT_GOES.has(n))) throw first;
      let progress = false;
      for (const [i, name] of names.entries()) {
        for (const key of [name, ...(PARTNERS[name] ?? [])]) {
          if (working[key] === undefined) continue;
          delete working[key];
          dropped.add(key);
          progress = true;
        }
        if (!problems.includes(err.problems[i]!)) problems.push(err.problems[i]!);
      }
      if (!progress) throw first;
    }
  }
  throw first ?? new ConfigError(['(environment): could not be read']);
}
