// Runs a command for an actor: parse arguments, check the actor's role (and the command's own
// per-target permission, if it declares one), record the attempt in the append-only command log
// (allowed or refused), run. The one door for Slack (slash commands, buttons, reactions), CLI and
// jobs alike: no transport checks a permission or writes the trail itself.
import { z } from 'zod';
import { AppError } from '../src/errors.js';
import { meantOneOf, nearestHarmlessWords } from '../src/suggest-similar.js';
import { cleanJson } from '../src/db/clean-text.js';
import { insertCommandLog } from '../src/db/queries/command-log.js';
import type { Actor, AppContext } from '../src/app/context.js';
import type { Command, CommandResult, Permission, Role } from './define.js';

export function mayRun(ctx: Pick<AppContext, 'config'>, actor: Actor, role: Role): boolean {
  if (role === 'reader') return true;
  // The terminal and the bot's own jobs run with the server's authority: whoever has a shell on
  // the host already holds the keys. Slack users need to be on the allowlists.
  if (actor.source !== 'slack') return true;
  if (role === 'operator') return ctx.config.SLACK_OPERATORS.includes(actor.id);
  return ctx.config.SLACK_APPROVERS.includes(actor.id);
}

const COMMAND_LOG_TIMEOUT_MS = 2_000;

function describeArgs(raw: unknown): string {
  try {
    return typeof raw === 'string' ? raw : JSON.stringify(raw ?? {});
  } catch {
    return '(unprintable)';
  }
}

/**
 * Writes the command's trail row, waiting at most COMMAND_LOG_TIMEOUT_MS so the reply still goes out
 * (a kill while the database is down). A write not done by then may still land (it was sent; a
 * stalled connection may deliver it later): the log says so, and says again how it ended.
 */
export async function recordCommand(
  ctx: Pick<AppContext, 'db' | 'clock' | 'logger'>,
  entry: { actor: Actor; command: string; args: string; allowed: boolean; result: string; details?: Record<string, unknown> },
): Promise<void> {
  const fields = { command: entry.command, actor: entry.actor.id };
  // Every command writes one row.
  const insert = Promise.resolve().then(() =>
    insertCommandLog(ctx.db, {
      at: ctx.clock.now(), source: entry.actor.source, actor: entry.actor.id, command: entry.command,
      args: entry.args, allowed: entry.allowed, result: entry.result, details: entry.details ?? {},
    }),
  );
  let timer: NodeJS.Timeout | undefined;
  // A stalled database never rejects by itself: bound the wait.
  const bound = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), COMMAND_LOG_TIMEOUT_MS);
  });
  const outcome = await Promise.race([insert.then(() => 'written' as const, (err: unknown) => ({ err })), bound]);
  clearTimeout(timer);
  if (outcome === 'written') return;
  if (outcome === 'late') {
    // Not yet an error: the row was sent and a busy database (a first PGlite start) writes it late.
    // Only a write that fails is (below); how it ends is logged either way.
    ctx.logger.warn(fields, `the command log entry is taking over ${COMMAND_LOG_TIMEOUT_MS / 1000} s to write (database busy or stalled); the reply goes out now and the write goes on`);
    const started = Date.now();
    insert.then(
      () => ctx.logger.warn({ ...fields, lateMs: COMMAND_LOG_TIMEOUT_MS + Date.now() - started }, 'the late command log entry was written'),
      (err: unknown) => ctx.logger.error({ err, ...fields }, 'could not write the command log'),
    );
    return;
  }
  ctx.logger.error({ err: outcome.err, ...fields }, 'could not write the command log');
}

/**
 * What is wrong with the arguments, on one line: each problem as "<argument>: <what was expected>",
 * joined by "; " (zod's own pretty form spreads one problem over two lines with ✖ and → marks,
 * which read oddly in a terminal's one-line error and in --json's `expected`).
 */
export function describeIssues(error: z.ZodError, accountChanging: readonly string[] = [], rawArgs?: unknown): string {
  return error.issues.map((issue) => `${issue.path.length ? `${issue.path.map(String).join('.')}: ` : ''}${issue.message}${echoInput(issue, accountChanging, rawArgs)}`).join('; ');
}

/** The value at `path` in the arguments as they arrived (before a coercion), or undefined. */
function typedAt(rawArgs: unknown, path: readonly PropertyKey[]): unknown {
  let at = rawArgs;
  for (const key of path) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<PropertyKey, unknown>)[key];
  }
  return at;
}

/** Longer values are cut: the line names the argument, not a pasted note. */
const ECHO_MAX = 40;

/**
 * The value typed, when the message does not already say it (`, got "cancel_order"`), and for a
 * choice the close ones (` (Did you mean cancel_orders?)`), unless one of them changes the account
 * (`accountChanging`: `close` gets no guess, not close_positions). Needs the parse's `reportInput`;
 * `rawArgs` (the arguments as they arrived) gives back a word a coercion turned into NaN ("abc").
 */
function echoInput(issue: z.core.$ZodIssue, accountChanging: readonly string[], rawArgs?: unknown): string {
  let input = (issue as { input?: unknown }).input;
  // A number is a coercion's result, not what was typed ("" and " " coerce to 0, "abc" to NaN): the
  // typed text, where the arguments still hold it, is echoed instead; else nothing for a NaN.
  if (typeof input === 'number') {
    const typed = typedAt(rawArgs, issue.path);
    if (typeof typed === 'string') input = typed;
    else if (!Number.isFinite(input)) input = undefined;
  }
  if (typeof input !== 'string' && !(typeof input === 'number' && Number.isFinite(input))) return '';
  const text = String(input);
  const got = /\bgot\b/.test(issue.message) ? '' : `, got "${text.length > ECHO_MAX ? `${text.slice(0, ECHO_MAX)}…` : text}"`;
  const choices = issue.code === 'invalid_value' ? issue.values.filter((v): v is string => typeof v === 'string') : [];
  // A half-remembered choice ("notify" for notify_stakeholders) is as near as a misspelt one.
  return `${got}${typeof input === 'string' && choices.length > 0 ? meantOneOf(nearestHarmlessWords(input, choices, (c) => accountChanging.includes(c))) : ''}`;
}

/** What is wrong with a command's arguments, and the usage error that says so. */
function badArguments(command: Command, issues: z.ZodError, rawArgs: unknown): { message: string; error: AppError } {
  const message = describeIssues(issues, command.accountChanging, rawArgs);
  return { message, error: new AppError('usage', 'bad_arguments', `Bad arguments for ${command.name}: ${message}`) };
}

/**
 * The usage error runCommand would throw for these arguments, without running or trailing anything:
 * for a transport with nowhere to trail it yet (the terminal, before it starts an empty embedded
 * database only to say the arguments are wrong: src/cli/with-context.ts).
 */
export function argumentsProblem(command: Command, rawArgs: unknown): AppError | undefined {
  const cleaned = cleanJson(rawArgs);
  const parsed = command.args.safeParse(cleaned, { reportInput: true });
  return parsed.success ? undefined : badArguments(command, parsed.error, cleaned).error;
}

export async function runCommand<S extends z.ZodType, R extends CommandResult>(
  command: Command<S, R>,
  ctx: AppContext,
  actor: Actor,
  rawArgs: unknown,
): Promise<R> {
  // What PostgreSQL cannot store (NUL, lone surrogates) is replaced as the input arrives, so the
  // command (a kill's halt) and its trail entry are written whatever was typed.
  rawArgs = cleanJson(rawArgs);
  const argsText = describeArgs(rawArgs);
  const parsed = command.args.safeParse(rawArgs, { reportInput: true });
  if (!parsed.success) {
    const bad = badArguments(command, parsed.error, rawArgs);
    await recordCommand(ctx, { actor, command: command.name, args: argsText, allowed: true, result: `usage: ${bad.message}` });
    throw bad.error;
  }
  if (!mayRun(ctx, actor, command.role)) {
    await recordCommand(ctx, { actor, command: command.name, args: argsText, allowed: false, result: 'refused' });
    throw new AppError('forbidden', 'not_allowed', `You are not allowed to run ${command.name}: it needs the ${command.role} role.`, {
      hint: command.role === 'approver' ? 'Approvers are listed in SLACK_APPROVERS.' : 'Operators are listed in SLACK_OPERATORS.',
    });
  }
  const commandCtx = { ...ctx, actor };
  if (command.allow) {
    let permission: Permission;
    try {
      permission = await command.allow(commandCtx, parsed.data);
    } catch (err) {
      // Could not tell who may act (the database is down): refuse, and say so in the trail.
      const message = err instanceof AppError ? `${err.code}: ${err.message}` : 'internal error';
      await recordCommand(ctx, { actor, command: command.name, args: argsText, allowed: false, result: `permission check failed: ${message}` });
      throw err;
    }
    if (!permission.allowed) {
      await recordCommand(ctx, { actor, command: command.name, args: argsText, allowed: false, result: 'refused', details: { reason: permission.reason } });
      throw new AppError('forbidden', 'not_allowed', `${permission.reason} Nothing was done.`);
    }
  }
  try {
    const result = await command.run(commandCtx, parsed.data);
    await recordCommand(ctx, { actor, command: command.name, args: argsText, allowed: true, result: result.ok ? 'ok' : 'failed' });
    return result;
  } catch (err) {
    const message = err instanceof AppError ? `${err.code}: ${err.message}` : 'internal error';
    await recordCommand(ctx, { actor, command: command.name, args: argsText, allowed: true, result: message });
    throw err;
  }
}
