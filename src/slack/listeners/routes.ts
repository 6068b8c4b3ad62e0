// Builders for slash-command rows: the common case (run a command from commands/, render its
// result) and the help model. Table rows use these so each stays a few lines.
import type { z } from 'zod';
import type { Command, CommandResult } from '../../../commands/define.js';
import { AppError } from '../../errors.js';
import type { BadgeState } from '../views/badge.js';
import type { HelpCommand } from '../views/help.js';
import type { SlackMessage } from '../views/message.js';
import type { SlashCommandRow, SlashRequest, SlashSubcommand } from './types.js';

/** Bad slash-command text: answered with the row's usage, never a crash. */
export function usageError(message: string): AppError {
  return new AppError('usage', 'bad_text', message);
}

/** Default argument parser: the subcommand takes no text. */
export function noArgs(req: SlashRequest): Record<string, never> {
  if (req.rest !== '') throw usageError(`\`${req.command}${req.sub ? ` ${req.sub}` : ''}\` takes no arguments, got "${req.rest}".`);
  return {};
}

export interface CommandRouteOptions<S extends z.ZodType, R extends CommandResult> {
  name: string | null;
  usage: string;
  /** Defaults to the command's summary. */
  summary?: string;
  command: Command<S, R>;
  /** Slash text → the command's raw args (validated by its zod schema). Throw usageError() for bad text. */
  args?: (req: SlashRequest) => unknown;
  render: (result: R) => SlackMessage;
  /** Who sees the result; default ephemeral (reads). Actions others must see use in_channel. */
  visibility?: 'ephemeral' | 'in_channel';
  /**
   * The reply's badge from the result, for a command that reads bot_state itself (the status
   * commands): the row it read after the ack is the one the badge shows, not read a second time.
   */
  badge?: (result: R, req: SlashRequest) => BadgeState;
  /** The command's first read is the status read: made with the delivery's claim (SlashSubcommand.readsStatus). */
  readsStatus?: boolean;
}

export function commandRoute<S extends z.ZodType, R extends CommandResult>(opts: CommandRouteOptions<S, R>): SlashSubcommand {
  return {
    name: opts.name,
    usage: opts.usage,
    summary: opts.summary ?? opts.command.summary,
    role: opts.command.role,
    ...(opts.readsStatus ? { readsStatus: true } : {}),
    async handle(req) {
      const raw = (opts.args ?? noArgs)(req);
      const result = await req.run(opts.command, raw);
      const message = opts.render(result);
      if (opts.badge) req.reply.useBadge(opts.badge(result, req));
      if (opts.visibility === 'in_channel') await req.reply.inChannel(message);
      else await req.reply.ephemeral(message);
    },
  };
}

export function helpModel(rows: SlashCommandRow[]): HelpCommand[] {
  return rows.map((row) => ({
    command: row.command,
    summary: row.summary,
    subcommands: row.subcommands.map((s) => ({ usage: s.usage, summary: s.summary, role: s.role })),
  }));
}
