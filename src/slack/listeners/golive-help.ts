// `/golive help`: the go-live runbook filled in from the running configuration (the same command as
// `ctb runbook go-live`), followed by the usage of every slash command in the listener table.
import { runbookCommand } from '../../../commands/runbook.js';
import { renderGoLiveHelp } from '../views/runbook.js';
import { helpModel, noArgs } from './routes.js';
import type { SlashSubcommand } from './types.js';

export function goLiveHelpRoute(opts: { usage: string }): SlashSubcommand {
  return {
    name: 'help',
    usage: opts.usage,
    summary: 'The go-live runbook for this installation, and how to use every command',
    role: 'reader',
    async handle(req) {
      noArgs(req);
      const result = await req.run(runbookCommand, { name: 'go-live' });
      await req.reply.ephemeral(renderGoLiveHelp(result, helpModel(req.table.commands)));
    },
  };
}
