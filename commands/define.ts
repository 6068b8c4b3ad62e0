// Owns what an operator command is: a name, who may run it, a zod schema for its arguments and a
// run function returning a plain result object. Commands know nothing of Slack or the terminal.
import type { z } from 'zod';
import type { Actor, AppContext } from '../src/app/context.js';

export type Role = 'reader' | 'operator' | 'approver';

export interface CommandResult {
  /** False when a check ran and failed (CLI exit 1); usage/permission problems throw AppError. */
  ok: boolean;
}

export interface CommandContext extends AppContext {
  actor: Actor;
}

/** A refusal says who may do it, in a sentence the person can act on. */
export type Permission = { allowed: true } | { allowed: false; reason: string };

export interface Command<S extends z.ZodType = z.ZodType, R extends CommandResult = CommandResult> {
  name: string;
  summary: string;
  role: Role;
  args: S;
  /**
   * Argument values that make it change the account (the checklist item that sells every position):
   * a mistyped value is never answered with a guess at one (run-command.ts), nor is its line in the terminal.
   */
  accountChanging?: readonly string[];
  /**
   * Who may act when it depends on the target, not only on a role (the people paged for an alert,
   * the requester of a change request). runCommand asks it after the role check, and a refusal is
   * trailed and thrown exactly like a role refusal: commands never check permissions inside run.
   */
  allow?(ctx: CommandContext, args: z.output<S>): Promise<Permission>;
  run(ctx: CommandContext, args: z.output<S>): Promise<R>;
}

export function defineCommand<S extends z.ZodType, R extends CommandResult>(def: Command<S, R>): Command<S, R> {
  return def;
}
