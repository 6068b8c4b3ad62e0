// The terminal as the CLI sees it: env, output streams and whether output is a TTY. Tests pass their own.
import { processEnv } from '../config/process-env.js';

export interface CliIo {
  env: Record<string, string | undefined>;
  /**
   * `done`, when given, is called once the text was written, or with the error that kept it from the
   * reader (a closed pipe's EPIPE): what a command that records "shown" waits on (with-context.ts).
   */
  stdout: { write(text: string, done?: (err?: Error | null) => void): unknown; isTTY?: boolean; columns?: number };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  /** Working directory for .env and relative paths. */
  cwd: string;
  /**
   * Where to read the usage of the command typed, e.g. "(run ctb incident done --help for its usage
   * and options)": set by runCli from the words typed, printed after a usage error a command raised.
   */
  usageHint?: string;
}

export function processIo(): CliIo {
  return { env: processEnv(), stdout: process.stdout, stderr: process.stderr, cwd: process.cwd() };
}
