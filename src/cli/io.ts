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
  /**
   * Stands in for opening the database and running an operator command (with-context.ts): unset, the
   * CLI runs them. A test sets it to see which command a subcommand hands over, with no database.
   */
  commandRunner?: CliCommandRunner;
}

/** What runs a subcommand's operator command in place of with-context.ts (CliIo.commandRunner). */
export interface CliCommandRunner {
  /** In place of runCliCommand: the operator command a subcommand parsed, and its arguments; the exit code. */
  run(command: { name: string }, args: unknown): Promise<number>;
  /** In place of withCliContext, for a subcommand that opens the context itself (stats, reconcile, self-heal): the exit code. */
  openContext(): Promise<number>;
}

export function processIo(): CliIo {
  return { env: processEnv(), stdout: process.stdout, stderr: process.stderr, cwd: process.cwd() };
}
