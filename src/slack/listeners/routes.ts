// Builders for slash-command rows: the common case (run a command from commands/, render its
// result), "not available yet", and help. Table rows use these so each stays a few lines.
import type { z } from 'zod';
import type { Command, CommandResult, Role } from '../../../commands/define.js';
import { AppError } from '../../errors.js';
import { renderNotAvailable, renderWorking } from '../views/error.js';
import { renderHelp, type HelpCommand } from '../views/help.js';
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
  /** Long work: this line is shown at once, and the result is posted in the channel when done. */
  progress?: string;
}

export function commandRoute<S extends z.ZodType, R extends CommandResult>(opts: CommandRouteOptions<S, R>): SlashSubcommand {
  return {
    name: opts.name,
    usage: opts.usage,
    summary: opts.summary ?? opts.command.summary,
    role: opts.command.role,
    async handle(req) {
      const raw = (opts.args ?? noArgs)(req);
      if (opts.progress) await req.reply.ephemeral(renderWorking(opts.progress));
      const result = await req.run(opts.command, raw);
      const message = opts.render(result);
      if (opts.progress || opts.visibility === 'in_channel') await req.reply.inChannel(message);
      else await req.reply.ephemeral(message);
    },
  };
}

/** A command whose implementation is not in this build yet: a clear reply, and nothing happens. */
export function notYetAvailable(opts: { name: string | null; usage: string; summary: string; role: Role }): SlashSubcommand {
  return {
    ...opts,
    async handle(req) {
      await req.reply.ephemeral(renderNotAvailable({ usage: opts.usage }));
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

/** `help`: the usage of every slash command in the table. */
export function helpRoute(opts: { usage: string }): SlashSubcommand {
  return {
    name: 'help',
    usage: opts.usage,
    summary: 'Show how to use every command',
    role: 'reader',
    async handle(req) {
      await req.reply.ephemeral(renderHelp(helpModel(req.table.commands)));
    },
  };
}
