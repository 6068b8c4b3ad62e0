// Reads .env (if present) beneath the real environment, then parses it once. The file is read
// strictly (env-file.ts): a malformed line is a configuration error, not a line to skip.
import { existsSync, readFileSync } from 'node:fs';
import { parseEnvFile, readEnvFile } from './env-file.js';
import { readEnv, type Config } from './env.js';

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
  return { ...fromFile, ...env };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, envFile = '.env'): Config {
  return readEnv(envLayers(env, envFile));
}
