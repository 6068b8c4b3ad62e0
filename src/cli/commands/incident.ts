// `ctb incident [show]`, `ctb incident done <item> [--yes] [--note …]`, and `ctb resume`.
import { incidentDoneCommand } from '../../../commands/incident-done.js';
import { incidentShowCommand } from '../../../commands/incident-show.js';
import { resumeCommand } from '../../../commands/resume.js';
import { CHECKLIST_KEYS } from '../../domain/incident-checklist.js';
import { changesAccount } from '../changes-account.js';
import { renderIncident, renderItemDone, renderResume } from '../render/kill.js';
import type { CliRegistration } from '../program.js';
import { Argument } from 'commander';
import { runCliCommand } from '../with-context.js';

/**
 * `argument`'s choices listed (its help, shell completion, and the suggestions for a mistyped command
 * line) but left to the command to check, which names them with a did-you-mean of its own, in the
 * terminal and in Slack alike (commands/run-command.ts); commander's .choices() would check them first.
 */
function listedChoices(argument: Argument, choices: readonly string[]): Argument {
  argument.argChoices = [...choices];
  return argument;
}

export const incidentCli: CliRegistration = {
  register(program, io, setExit) {
    const incident = program
      .command('incident')
      .description('the kill incident and its manual-intervention checklist');
    incident
      .command('show', { isDefault: true })
      .description('show the open (or latest) incident and its checklist')
      .option('--json', 'machine-readable output', false)
      .action(async (opts: { json: boolean }) => {
        setExit(await runCliCommand(io, incidentShowCommand, {}, { json: opts.json, render: renderIncident }));
      });
    changesAccount(incident
      .command('done'), incidentDoneCommand.accountChanging)
      .description(`do and tick a checklist item: ${CHECKLIST_KEYS.join(', ')}`)
      .addArgument(listedChoices(new Argument('<item>', 'the checklist item'), CHECKLIST_KEYS))
      .option('--yes', 'confirm an item that changes the account (close_positions)', false)
      .option('--note <text>', 'what you did')
      .option('--json', 'machine-readable output', false)
      .action(async (item: string, opts: { yes: boolean; note?: string; json: boolean }) => {
        const args = { item, confirmed: opts.yes, ...(opts.note !== undefined ? { note: opts.note } : {}) };
        // Cancel again tells, while Kraken is slow, which call missed its deadline (stderr).
        setExit(await runCliCommand(io, incidentDoneCommand, args, { json: opts.json, render: renderItemDone, cancelProgress: item === 'cancel_orders' }));
      });
    program
      .command('resume')
      .description('lift a halt: needs a passing audit since the halt and a done checklist; stays in paper')
      .option('--json', 'machine-readable output', false)
      .action(async (opts: { json: boolean }) => {
        setExit(await runCliCommand(io, resumeCommand, {}, { json: opts.json, render: renderResume }));
      });
  },
};
