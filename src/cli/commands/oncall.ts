// `ctb oncall [show] | set --members … [--handoff …] [--tz …] | override <user> <duration> | override --clear`.
import type { Command } from 'commander';
import { oncallOverrideClearCommand, oncallOverrideCommand } from '../../../commands/oncall-override.js';
import { oncallSetCommand } from '../../../commands/oncall-set.js';
import { oncallShowCommand } from '../../../commands/oncall-show.js';
import type { CliRegistration } from '../program.js';
import { renderOncallOverride, renderOncallOverrideClear, renderOncallSet, renderOncallShow } from '../render/oncall.js';
import { runCliCommand } from '../with-context.js';

export const oncallCli: CliRegistration = {
  register(program, io, setExit) {
    const oncall = program.command('oncall').description('on-call rotation: who is on call, set the rotation, override');
    const show = async (opts: { json: boolean; weeks?: string }) =>
      setExit(await runCliCommand(io, oncallShowCommand, { weeks: opts.weeks ? Number(opts.weeks) : 4 }, { json: opts.json, render: renderOncallShow }));
    oncall.command('show', { isDefault: true }).description('who is on call now and next, the schedule, overrides and policies (exit 1 while nobody is on call)')
      .option('--weeks <n>', 'how many shifts to list', '4').option('--json', 'print JSON', false).action(show);
    oncall.command('set').description('set the rotation (first member is on call from the current shift) and/or the critical escalation policy')
      .option('--members <ids>', 'comma-separated Slack user ids in rotation order, e.g. U012AB,U034CD')
      .option('--handoff <when>', 'weekly handoff, local time: "mon 09:00" (default: the stored one, else mon 09:00)')
      .option('--tz <zone>', 'IANA time zone of the handoff, e.g. Europe/London (default: the stored one, else UTC)')
      .option('--ack-sla <duration>', 'critical alerts: time to acknowledge before the next step, e.g. 5m (stored; ESCALATION_ACK_SLA is only the first value)')
      .option('--max-rounds <n>', 'critical alerts: rounds of the ladder before it stops, 1-20 (stored; ESCALATION_MAX_ROUNDS is only the first value)')
      .option('--json', 'print JSON', false)
      .action(async (opts: { members?: string; handoff?: string; tz?: string; ackSla?: string; maxRounds?: string; json: boolean }) => {
        const args = {
          ...(opts.members !== undefined ? { members: opts.members } : {}), ...(opts.handoff !== undefined ? { handoff: opts.handoff } : {}),
          ...(opts.tz !== undefined ? { tz: opts.tz } : {}), ...(opts.ackSla !== undefined ? { ackSla: opts.ackSla } : {}),
          ...(opts.maxRounds !== undefined ? { maxRounds: opts.maxRounds } : {}),
        };
        setExit(await runCliCommand(io, oncallSetCommand, args, { json: opts.json, render: renderOncallSet }));
      });
    oncall.command('override').description('put someone on call for a while, over the rotation; --clear ends the overrides')
      .argument('[user]', 'Slack member id, e.g. U012ABCDEF (profile → ⋮ → Copy member ID); `me` only in Slack')
      .argument('[duration]', 'how long: 30m, 2h, 1d')
      .option('--from <time>', 'start later (ISO 8601); default now')
      .option('--clear', 'end the override in force now and drop the ones still to come', false)
      .option('--json', 'print JSON', false)
      .action(async (user: string | undefined, duration: string | undefined, opts: { from?: string; clear: boolean; json: boolean }, cmd: Command) => {
        if (opts.clear) {
          if (user !== undefined || opts.from) cmd.error('error: --clear takes no person, duration or --from', { code: 'commander.excessArguments' });
          return setExit(await runCliCommand(io, oncallOverrideClearCommand, {}, { json: opts.json, render: renderOncallOverrideClear }));
        }
        if (user === undefined) cmd.error("error: missing required argument 'user'", { code: 'commander.missingArgument' });
        if (duration === undefined) cmd.error("error: missing required argument 'duration'", { code: 'commander.missingArgument' });
        return setExit(await runCliCommand(io, oncallOverrideCommand, { user, duration, ...(opts.from ? { from: opts.from } : {}) }, { json: opts.json, render: renderOncallOverride }));
      });
  },
};
