// /pause [reason] and /unpause [force <reason>]: operators move the trading state between active and
// reducing in one step; the reply goes to the channel so everyone sees who paused and why.
import { pauseCommand } from '../../../commands/pause.js';
import { unpauseCommand } from '../../../commands/unpause.js';
import { renderPause, renderUnpause } from '../views/pause.js';
import { commandRoute, usageError } from './routes.js';
import type { SlashRequest, SlashSubcommand } from './types.js';

export const pauseRoute: SlashSubcommand = commandRoute({
  name: null,
  usage: '/pause [reason]',
  summary: 'Pause new entries now (exits and stop-losses continue)',
  command: pauseCommand,
  args: (req) => (req.rest === '' ? {} : { reason: req.rest }),
  render: renderPause,
  visibility: 'in_channel',
});

function unpauseArgs(req: SlashRequest): { force: boolean; reason?: string } {
  if (req.rest === '') return { force: false };
  const [first = '', ...others] = req.words;
  if (first.toLowerCase() !== 'force') throw usageError(`\`/unpause\` takes nothing, or \`force <reason>\` — got "${req.rest}".`);
  const reason = others.join(' ').trim();
  if (reason === '') throw usageError('`/unpause force` needs a reason: `/unpause force <why entries may resume now>`.');
  return { force: true, reason };
}

export const unpauseRoute: SlashSubcommand = commandRoute({
  name: null,
  usage: '/unpause [force <reason>]',
  summary: 'Resume new entries (after a risk-guard pause: once the breach cleared, or force with a reason)',
  command: unpauseCommand,
  args: unpauseArgs,
  render: renderUnpause,
  visibility: 'in_channel',
});
