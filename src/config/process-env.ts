// Owns the one read of the process's environment. Everything else takes the variables as a value
// (the CLI's io, the config loader), so tests pass their own and no module reads a setting behind
// the config's back (tests/unit/env-reads.test.ts holds every other file to that).
export function processEnv(): Record<string, string | undefined> {
  return process.env;
}
