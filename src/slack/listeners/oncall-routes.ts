// The /oncall subcommands: thin listeners over commands/oncall-show.ts and oncall-override.ts.
// `who` and `schedule` answer only the asker; an override is posted in the channel, because who
// holds the pager is something the whole team must see.
import { oncallOverrideClearCommand, oncallOverrideCommand } from '../../../commands/oncall-override.js';
import { oncallShowCommand } from '../../../commands/oncall-show.js';
import { renderOncallOverride, renderOncallOverrideClear, renderOncallSchedule, renderOncallWho } from '../views/oncall.js';
import { commandRoute, noArgs, usageError } from './routes.js';
import type { SlashRequest, SlashSubcommand } from './types.js';

export const ONCALL_OVERRIDE_USAGE = '/oncall override @user <duration> | clear';

export const oncallWhoRoute: SlashSubcommand = commandRoute({
  name: 'who',
  usage: '/oncall who',
  summary: 'Who is on call now, and who is next',
  command: oncallShowCommand,
  args: (req) => ({ ...noArgs(req), weeks: 1 }),
  render: renderOncallWho,
});

/** `/oncall schedule [weeks]`: weeks between 1 and 26, default 4. */
export function parseScheduleText(rest: string): { weeks: number } {
  const t = rest.trim();
  if (t === '') return { weeks: 4 };
  if (/^\d{1,2}$/.test(t) && Number(t) >= 1 && Number(t) <= 26) return { weeks: Number(t) };
  throw usageError(`\`/oncall schedule\` takes an optional number of weeks from 1 to 26 (default 4), got "${t}".`);
}

export const oncallScheduleRoute: SlashSubcommand = commandRoute({
  name: 'schedule',
  usage: '/oncall schedule [weeks]',
  summary: 'The rotation for the coming weeks, overrides and the escalation policy',
  command: oncallShowCommand,
  args: (req) => parseScheduleText(req.rest),
  render: renderOncallSchedule,
});

/**
 * `override @user 2h` (or `override me 2h`). The words are checked here for shape; the person and
 * the duration are validated by the command, whose usage errors come back with this row's usage.
 */
export function parseOverrideText(req: Pick<SlashRequest, 'words' | 'actor'>): { user: string; duration: string } | 'clear' {
  if (req.words.length === 1 && req.words[0]!.toLowerCase() === 'clear') return 'clear';
  if (req.words.length !== 2) {
    throw usageError(`\`/oncall override\` takes a person and a duration, such as \`/oncall override @alice 2h\` or \`/oncall override me 30m\` (or \`/oncall override clear\`); got ${req.words.length} word(s).`);
  }
  const [who, duration] = req.words as [string, string];
  return { user: who.toLowerCase() === 'me' ? req.actor.id : who, duration };
}

export const oncallOverrideRoute: SlashSubcommand = {
  name: 'override',
  usage: ONCALL_OVERRIDE_USAGE,
  summary: 'Put someone on call for a while (up to 30d), over the rotation; `clear` ends the overrides',
  role: oncallOverrideCommand.role,
  async handle(req) {
    const parsed = parseOverrideText(req);
    if (parsed === 'clear') {
      const cleared = await req.run(oncallOverrideClearCommand, {});
      await req.reply.inChannel(renderOncallOverrideClear(cleared, req.actor.id));
      return;
    }
    const result = await req.run(oncallOverrideCommand, parsed);
    await req.reply.inChannel(renderOncallOverride(result, req.actor.id));
  },
};
