// Dispatches one slash command: split the text, pick the subcommand row (help and usage as the
// fallback for anything unknown or malformed), refuse users without the row's role, run it, and make
// sure every invocation — allowed, refused or malformed — lands in command_log exactly once.
import type { SlashCommand } from '@slack/bolt';
import { mayRun, recordCommand } from '../../../commands/run-command.js';
import { isAppError } from '../../errors.js';
import { didYouMean } from '../../suggest-similar.js';
import { renderRefused } from '../views/error.js';
import { renderCommandUsage } from '../views/help.js';
import { helpModel } from './routes.js';
import { replyWithError, type BuiltRequest } from './request.js';
import type { ListenerTable, SlashCommandRow, SlashRequest, SlashSubcommand } from './types.js';

export interface SlashMatch {
  sub: SlashSubcommand | null;
  word: string;
  words: string[];
  rest: string;
  /** Why no row matched (for the usage reply). */
  problem?: string;
}

/** Pure: which row a slash text selects. */
export function matchSubcommand(row: SlashCommandRow, text: string): SlashMatch {
  const trimmed = text.replace(/\s+/g, ' ').trim();
  const catchAll = row.subcommands.find((s) => s.name === null) ?? null;
  if (trimmed === '') {
    const sub = row.whenEmpty ? row.subcommands.find((s) => s.name === row.whenEmpty) ?? null : catchAll;
    return { sub, word: sub?.name ?? '', words: [], rest: '' };
  }
  const [first = '', ...others] = trimmed.split(' ');
  const word = first.toLowerCase();
  const named = row.subcommands.find((s) => s.name !== null && s.name === word);
  if (named) return { sub: named, word, words: others, rest: others.join(' ') };
  if (word === 'help') return { sub: null, word, words: others, rest: others.join(' ') };
  if (catchAll) return { sub: catchAll, word: '', words: trimmed.split(' '), rest: trimmed };
  // The terminal's suggestion for a misspelt subcommand (`/mode lve` → live), as `ctb mode lve` gives it.
  const meant = didYouMean(word, row.subcommands.flatMap((s) => (s.name === null ? [] : [s.name])));
  return { sub: null, word, words: others, rest: others.join(' '), problem: `I don't know \`${row.command} ${first}\`.${meant}` };
}

/** The row's usage, for the replies that show it (help, unknown or malformed text): not built for every command. */
function usageOf(row: SlashCommandRow) {
  return helpModel([row])[0]!;
}

export async function dispatchSlash(row: SlashCommandRow, table: ListenerTable, body: SlashCommand, base: BuiltRequest): Promise<void> {
  const { ctx, actor } = base;
  const match = matchSubcommand(row, body.text ?? '');
  const label = `${row.command.slice(1)}${match.word ? ` ${match.word}` : ''}`;
  // A method, not named arrows made per command (see src/logger.ts, deferredLogger).
  const trail = {
    record(allowed: boolean, result: string) {
      return recordCommand(ctx, { actor, command: label, args: match.rest, allowed, result, details: { slash: row.command, channel: body.channel_id } });
    },
  };
  if (!match.sub) {
    await base.reply.ephemeral(renderCommandUsage(usageOf(row), match.problem));
    await trail.record(true, match.problem ? `usage: ${match.problem}` : 'help');
    return;
  }
  const sub = match.sub;
  if (!mayRun(ctx, actor, sub.role)) {
    await base.reply.ephemeral(
      renderRefused({ command: sub.usage, role: sub.role, hint: sub.role === 'approver' ? 'Approvers are listed in SLACK_APPROVERS.' : 'Operators are listed in SLACK_OPERATORS.' }),
    );
    await trail.record(false, 'refused');
    return;
  }
  const req: SlashRequest = { ...base, command: row.command, sub: match.word, words: match.words, rest: match.rest, body, table };
  try {
    await sub.handle(req);
    if (base.runs() === 0) await trail.record(true, 'ok');
  } catch (err) {
    if (isAppError(err, 'usage')) {
      const help = usageOf(row);
      await base.reply.ephemeral(renderCommandUsage({ ...help, subcommands: help.subcommands.filter((s) => s.usage === sub.usage) }, err.userMessage));
      if (base.runs() === 0) await trail.record(true, `usage: ${err.message}`);
      return;
    }
    if (base.runs() === 0) await trail.record(true, isAppError(err) ? `${err.code}: ${err.message}` : 'internal error');
    await replyWithError(base, err, { slash: row.command, sub: match.word });
  }
}
