// Reads .env (if present) beneath the real environment, then parses it once. The file is read
// strictly (env-file.ts): a malformed line is a configuration error, not a line to skip.
import { existsSync, readFileSync } from 'node:fs';
import { parseEnvFile } from './env-file.js';
import { readEnv, type Config } from './env.js';

/** The variables as the process sees them: .env beneath the real environment. */
export function envLayers(env: NodeJS.ProcessEnv = process.env, envFile = '.env'): Record<string, string | undefined> {
  const fromFile = existsSync(envFile) ? parseEnvFile(readFileSync(envFile, 'utf8'), envFile) : {};
  // The real environment wins over .env, so `IS_LIVE=false ctb ...` always forces paper.
  return { ...fromFile, ...env };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, envFile = '.env'): Config {
  return readEnv(envLayers(env, envFile));
}
