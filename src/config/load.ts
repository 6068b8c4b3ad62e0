// Reads .env (if present) beneath the real environment, then parses it once. The file is read
// strictly (env-file.ts): a malformed line is a configuration error, not a line to skip; a name that
// is no setting is named (setting-names.ts).
import { existsSync, readFileSync } from 'node:fs';
import { parseEnvFile, readEnvFile } from './env-file.js';
import { ConfigError, readEnv, withoutPostgresEnv, type Config } from './env.js';
import { checkSettingNames, type EnvFileNames } from './setting-names.js';

/**
 * The variables as the process sees them: .env beneath the real environment. A malformed .env line
 * throws ConfigError — unless `onMalformed` is given (the kill, which must go on): then it hears the
 * problems and the well-formed lines are used.
 */
export function envLayers(
  env: NodeJS.ProcessEnv = process.env,
  envFile = '.env',
  onMalformed?: (problems: string[]) => void,
): Record<string, string | undefined> {
  let fromFile: Record<string, string> = {};
  if (existsSync(envFile)) {
    const text = readFileSync(envFile, 'utf8');
    if (onMalformed) {
      const read = readEnvFile(text, envFile);
      if (read.problems.length > 0) onMalformed(read.problems);
      fromFile = read.vars;
    } else {
      fromFile = parseEnvFile(text, envFile);
    }
  }
  // The real environment wins over .env, so `IS_LIVE=false ctb ...` always forces paper.
  return { ...withoutPostgresEnv(fromFile), ...env };
}

/**
 * The configuration, or ConfigError naming every problem: bad values and malformed lines as before,
 * and a misspelt safety setting. A name that is no setting otherwise goes to `onWarning` (once per name),
 * before any refusal.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, envFile = '.env', onWarning: (warning: string) => void = () => {}): Config {
  let file: EnvFileNames | undefined;
  if (existsSync(envFile)) {
    const read = readEnvFile(readFileSync(envFile, 'utf8'), envFile);
    if (read.problems.length > 0) throw new ConfigError(read.problems);
    file = { file: envFile, vars: read.vars, lineOf: read.lineOf };
  }
  const names = checkSettingNames(file, env);
  let config: Config | undefined;
  let problems = names.problems;
  try {
    config = readEnv({ ...withoutPostgresEnv(file?.vars ?? {}), ...env });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems = [...problems, ...err.problems];
  }
  // Warnings first, refused or not: a stray name may be the setting the refusal is about.
  for (const warning of names.warnings) onWarning(warning);
  if (problems.length > 0) throw new ConfigError(inFixingOrder(problems, file, env));
  return config!;
}

/**
 * The problems in the order an operator fixes them, each named where its setting is set: `.env` from
 * top to bottom (file:line, as the name checks write it), then the environment's settings (which win
 * over .env) by name, then the settings set nowhere (a required one missing) by name. The schema's
 * order is the code's, not the operator's: an editor opened on .env meets them in this order.
 */
export function inFixingOrder(problems: string[], file: EnvFileNames | undefined, env: NodeJS.ProcessEnv): string[] {
  const located = problems.map((problem, at) => {
    const fileLine = file ? new RegExp(`^${escapeRegExp(file.file)}:(\\d+):`).exec(problem) : null;
    if (fileLine) return { text: problem, rank: 0, line: Number(fileLine[1]), name: '', at };
    const fromEnvironment = /^environment: (\w+)/.exec(problem);
    if (fromEnvironment) return { text: problem, rank: 1, line: 0, name: fromEnvironment[1]!, at };
    const setting = /^(\w+):/.exec(problem)?.[1];
    if (setting === undefined) return { text: problem, rank: 2, line: 0, name: '', at };
    if (env[setting] !== undefined) return { text: `environment: ${problem}`, rank: 1, line: 0, name: setting, at };
    const line = file?.lineOf[setting];
    if (file && line !== undefined) return { text: `${file.file}:${line}: ${problem}`, rank: 0, line, name: setting, at };
    return { text: problem, rank: 2, line: 0, name: setting, at };
  });
  located.sort((a, b) => a.rank - b.rank || a.line - b.line || a.name.localeCompare(b.name) || a.at - b.at);
  return located.map((p) => p.text);
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * For the kill, which goes on whatever its configuration says: the names in .env (read past its
 * malformed lines) and in the environment that are no setting of this bot, as loadConfig judges them —
 * a misspelt safety setting, which every other command refuses, first, then the names only ignored.
 */
export function settingNameNotices(env: NodeJS.ProcessEnv, envFile: string): string[] {
  let file: EnvFileNames | undefined;
  if (existsSync(envFile)) {
    const read = readEnvFile(readFileSync(envFile, 'utf8'), envFile);
    file = { file: envFile, vars: read.vars, lineOf: read.lineOf };
  }
  const names = checkSettingNames(file, env);
  return [...names.problems.map((p) => p.replace('; refused because ', '; the bot refuses to start because ')), ...names.warnings];
}
