// Runs one operator command from the terminal: load config, open the database (directly, or through
// the running bot's socket), run the command as the local user, print text or --json, exit 0/1/2.
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import type { z } from 'zod';
import type { Command, CommandResult } from '../../commands/define.js';
import type { OwnedContext } from '../app/build-context.js';
import type { Actor } from '../app/context.js';
import { ConfigError, type Config } from '../config/env.js';
import { loadConfig } from '../config/load.js';
import type { Database } from '../db/client.js';
import { databaseProblem, networkFailure } from '../db/connect-errors.js';
import { embeddedDatabaseExists } from '../app/embedded-database.js';
import { AppError, exitCodeFor } from '../errors.js';
import { createLogger } from '../logger.js';
import { scrubberFor, scrubDeep, scrubShapes } from '../secret-scrub.js';
import type { CliIo } from './io.js';
import { withSpinner } from './spinner.js';
import { usageProblem } from './usage-errors.js';

export interface CliRunOptions<R extends CommandResult> {
  json: boolean;
  render: (result: R, io: CliIo) => string;
  /** A spinner with this text on stderr while the command runs (terminal only; src/cli/spinner.ts). */
  progress?: string;
  /**
   * The command may cancel on Kraken (a cancel again): each line its cancel tells while Kraken is
   * slow (a call that missed its deadline, no further try sent) goes to stderr as it comes, as
   * `ctb kill` prints its own (not with --json: its stdout stays one object, and stderr quiet).
   */
  cancelProgress?: boolean;
  /**
   * Prints the result with `print` (which writes it to stdout), for a command that records once its
   * answer was printed (an exit's answer, marked shown only after: commands/exit.ts). `print` settles
   * once stdout took the text, and rejects when it did not reach the reader (a closed pipe, a terminal
   * gone): stdout's errors are otherwise swallowed (run-main.ts). Default: `print()`.
   */
  show?: (result: R, ctx: OwnedContext, print: () => Promise<void>) => Promise<void>;
  /**
   * The command's answer when its database cannot be opened, for a command whose answer does not
   * depend on it (`ctb mode live` refuses by design): the error to print instead of the database's.
   */
  withoutDatabase?: (config: Config) => unknown;
}

export function cliActor(): Actor {
  let name = 'unknown';
  try {
    name = userInfo().username;
  } catch {
    // no passwd entry (containers): keep 'unknown'
  }
  return { id: `cli:${name}`, source: 'cli' };
}

/** Loads the config or prints every problem and returns exit code 2 (with --json, also as JSON on stdout). */
export function loadCliConfig(io: CliIo, json = false): Config | number {
  try {
    return loadConfig(io.env, join(io.cwd, '.env'), (warning) => io.stderr.write(`warning: ${warning}\n`));
  } catch (err) {
    if (err instanceof ConfigError) {
      // A bad value (a URL with its password) is quoted back: scrubbed here as on stderr.
      if (json) io.stdout.write(`${JSON.stringify({ ...usageProblem('config', scrubShapes(err.message), 'every variable in its form in .env.example'), problems: err.problems.map(scrubShapes) }, null, 2)}\n`);
      io.stderr.write(`${scrubShapes(err.message)}\nSee .env.example for every variable and its expected form.\n`);
      return 2;
    }
    throw err;
  }
}

/**
 * Prints an error on stderr; with `json`, also as one JSON object on stdout — a usage or
 * configuration error (exit 2) and a refusal by the state or a failure (exit 1) alike, in the usage error's shape
 * (ok false, error, code, expected: what would let it through), so a script always gets one object.
 */
/** `extra`: more fields for the --json error object (e.g. what Kraken did after a kill failed). */
export function printError(io: CliIo, err: unknown, config?: Config, json = false, extra: Record<string, unknown> = {}): number {
  const scrub = config ? scrubberFor(config) : scrubShapes;
  extra = scrubDeep(extra, scrub);
  // A database that cannot be reached is named (refused at host:port, missing, bad login), not
  // shown as the query that happened to run first.
  err = databaseProblem(err, config?.DATABASE_URL) ?? err;
  if (err instanceof AppError || err instanceof ConfigError) {
    const text = err instanceof AppError ? err.terminalMessage : err.message;
    const code = exitCodeFor(err) === 2 || err instanceof ConfigError ? 2 : 1;
    if (json) {
      const problem = err instanceof AppError ? usageProblem(err.code, scrub(err.message), (err.terminalHint ?? err.hint) === undefined ? undefined : scrub((err.terminalHint ?? err.hint)!)) : usageProblem('config', scrub(text));
      io.stdout.write(`${JSON.stringify({ ...problem, exitCode: code, ...extra }, null, 2)}\n`);
    }
    const hint = err instanceof AppError && err.kind === 'usage' && io.usageHint ? `${io.usageHint}\n` : '';
    io.stderr.write(`${scrub(`error: ${text}`)}\n${hint}`);
    return code;
  }
  // Another remote that could not be reached (Kraken, Slack, a webhook) is named as itself, with
  // the address and code under fetch's bare "fetch failed".
  const message = scrub(networkFailure(err, config?.DATABASE_URL) ?? (err as Error)?.message ?? String(err));
  if (json) io.stdout.write(`${JSON.stringify({ ...usageProblem('error', message), exitCode: 1, ...extra }, null, 2)}\n`);
  io.stderr.write(`error: ${message}\n`);
  return 1;
}

/** Whether opening the configured database starts an empty embedded one (none under DATA_DIR yet). */
function startsFreshEmbeddedDatabase(io: CliIo, config: Config): boolean {
  return !config.DATABASE_URL && !embeddedDatabaseExists(resolve(io.cwd, config.DATA_DIR));
}

/**
 * The embedded database lives under DATA_DIR, which defaults to ./data of the working directory: a
 * command run from another directory than the bot's would start an empty database there and report
 * nothing, as if the bot had never traded. Say so, on stderr (--json's stdout stays one object).
 */
function noteFreshEmbeddedDatabase(io: CliIo, config: Config): void {
  if (!startsFreshEmbeddedDatabase(io, config)) return;
  io.stderr.write(
    `note: no embedded database in ${config.DATA_DIR} (DATA_DIR, from ${io.cwd}) yet: this command starts an empty one there. ` +
      'A bot started elsewhere keeps its database under the directory it was started from: run ctb there, or set DATA_DIR (or DATABASE_URL).\n',
  );
}

/** What the operator sees while a read waits for Kraken's rate limit (stderr: --json's stdout stays one object). */
export function rateLimitWaitLine(wait: { endpoint: string; waitMs: number; retry: number; of: number }): string {
  return `Kraken refused ${wait.endpoint}: EAPI:Rate limit exceeded (this API key's call counter is full; the running bot counts on it too). ` +
    `Waiting ${Math.ceil(wait.waitMs / 1000)} s, then asking again (${wait.retry} of ${wait.of}).`;
}

/**
 * `precheck` runs before a database that does not exist yet is started (an embedded one under a
 * DATA_DIR that has none): what it throws is printed as the command's error, and nothing is started.
 */
export async function withCliContext<T>(
  io: CliIo, fn: (ctx: OwnedContext, config: Config) => Promise<T>, json = false, precheck?: () => Promise<void>,
  withoutDatabase?: (config: Config) => unknown,
): Promise<T | number> {
  if (io.commandRunner) return io.commandRunner.openContext();
  const config = loadCliConfig(io, json);
  if (typeof config === 'number') return config;
  let ctx: OwnedContext | undefined;
  let database: Database | undefined;
  // Set while the database is being opened: only an error of that call is "the database did not open".
  let opening = false;
  try {
    if (precheck && startsFreshEmbeddedDatabase(io, config)) await precheck();
    // The CLI logs to LOG_DIR like the bot, and to stderr only at warn and above.
    const logger = createLogger({ config, stdout: false, destination: process.stderr, destinationIsCommandStderr: true, destinationLevel: 'warn', deferred: true });
    // Imported here, not above: `ctb version` and usage errors need this module but no context. It
    // loads while the database is opened and checked for migrations (on PostgreSQL: connecting, the
    // start-up exchange, the check's query), which a cold process otherwise began only once loaded.
    const contextModule = import('../app/build-context.js');
    contextModule.catch(() => undefined); // awaited below; a failure surfaces there
    const { openConfiguredDatabase } = await import('../app/open-database.js');
    noteFreshEmbeddedDatabase(io, config);
    opening = true;
    database = await openConfiguredDatabase(config, { migrate: true, oneShot: true, onMigrationWait: ({ text }) => io.stderr.write(`note: ${text}\n`) });
    opening = false;
    const { buildAppContext } = await contextModule;
    ctx = await buildAppContext({ config, logger, database, onKrakenRateLimitWait: (wait) => io.stderr.write(`${rateLimitWaitLine(wait)}\n`) });
    return await fn(ctx, config);
  } catch (err) {
    return printError(io, opening && withoutDatabase ? withoutDatabase(config) : err, config, json);
  } finally {
    await ctx?.close();
    await database?.close();
  }
}

/**
 * The modules withCliContext and runCliCommand import once a command runs, imported without running
 * anything: a one-command script's build imports them before it caches the script's compiled code
 * (run-main.ts), so that theirs is in the cache too.
 */
export function importContextModules(): Promise<unknown> {
  return Promise.all([import('../app/build-context.js'), import('../app/open-database.js'), import('../../commands/run-command.js')]);
}

/**
 * Writes `text` to stdout; settles once it was written, rejects with the error that kept it from the
 * reader. A write that throws (a stand-in terminal) rejects too.
 */
function written(io: CliIo, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    io.stdout.write(text, (err) => (err ? reject(err) : resolve()));
  });
}

/** Runs `command` with `args` for the terminal user and prints its result. Returns the exit code. */
export async function runCliCommand<S extends z.ZodType, R extends CommandResult>(
  io: CliIo,
  command: Command<S, R>,
  args: unknown,
  opts: CliRunOptions<R>,
): Promise<number> {
  if (io.commandRunner) return io.commandRunner.run(command, args);
  const outcome = await withCliContext(io, async (ctx, config) => {
    try {
      const { runCommand } = await import('../../commands/run-command.js');
      if (opts.cancelProgress && !opts.json) ctx.kill.onProgress = (line) => io.stderr.write(`${line}\n`);
      const result = opts.progress === undefined
        ? await runCommand(command, ctx, cliActor(), args)
        : await withSpinner(io, opts.progress, opts.json, () => runCommand(command, ctx, cliActor(), args));
      const text = opts.json ? `${JSON.stringify(result, null, 2)}\n` : `${opts.render(result, io)}\n`;
      if (opts.show) await opts.show(result, ctx, () => written(io, text));
      else io.stdout.write(text);
      return result.ok ? 0 : 1;
    } catch (err) {
      return printError(io, err, config, opts.json);
    }
  }, opts.json, async () => {
    // Arguments that cannot run are said before an empty database is started only to trail them.
    const { argumentsProblem } = await import('../../commands/run-command.js');
    const problem = argumentsProblem(command, args);
    if (problem) throw problem;
  }, opts.withoutDatabase);
  return outcome;
}
