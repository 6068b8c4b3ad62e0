// The /mode subcommands of the live switch: `live` opens a change request (the audit runs first, so
// the requester sees "working" at once and the answer when it is done), `paper` rolls back at once.
import { modeLiveCommand, modePaperCommand } from '../../../commands/mode.js';
import { renderWorking } from '../views/error.js';
import { renderModeLiveReply, renderModePaperReply } from '../views/mode-change.js';
import { commandRoute } from './routes.js';
import type { SlashSubcommand } from './types.js';

const reasonOf = (rest: string) => (rest === '' ? {} : { reason: rest });

export const modeLiveRoute: SlashSubcommand = {
  name: 'live',
  usage: '/mode live [reason]',
  summary: 'Request live trading: two approvers react on the request to sign',
  role: modeLiveCommand.role,
  async handle(req) {
    await req.reply.ephemeral(renderWorking('Running the go-live audit before posting the request…'));
    const result = await req.run(modeLiveCommand, reasonOf(req.rest));
    await req.reply.ephemeral(renderModeLiveReply(result));
  },
};

export const modePaperRoute: SlashSubcommand = commandRoute({
  name: 'paper',
  usage: '/mode paper [reason]',
  summary: 'Switch back to paper trading at once (no approval needed)',
  command: modePaperCommand,
  args: (req) => reasonOf(req.rest),
  render: renderModePaperReply,
  visibility: 'in_channel',
});
