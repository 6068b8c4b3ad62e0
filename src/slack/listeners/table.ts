// The Slack app's listener table: every slash command, event, button and modal the bot answers,
// grouped by Slack surface. src/slack/listeners/register.ts turns each row into a Bolt listener.
//
// How to add a Slack command:
//   1. Write the command in commands/<name>.ts with defineCommand (zod args, role, run → result).
//   2. Write a pure view in src/slack/views/<name>.ts: (result) => SlackMessage, tested on its JSON.
//   3. Add a subcommand to the row of its slash command below:
//        commandRoute({ name: 'paper', usage: '/mode paper [reason]', command: modePaperCommand,
//                       args: (req) => ({ reason: req.rest }), render: renderModeChange,
//                       visibility: 'in_channel' })
//      `args` turns the slash text into the command's raw args (throw usageError('…') for bad text);
//      For more than run-and-render, write a SlashSubcommand with your own handle(req): req.run()
//      runs a command as the Slack user (roles + command_log), req.reply.* sends badged messages.
//   4. New slash command? Add a row here AND to slack/manifest.yaml. New event? Subscribe to it there.
//   5. Test it through tests/support/slack-harness.ts (signed requests against the real receiver).
// Never ack in a row: the delivery guard acked already (view submissions excepted, see ViewRequest).
// Never post with client.chat.* directly: req.reply adds the paper/LIVE badge.
import { goLiveStatusCommand } from '../../../commands/golive-status.js';
import { modeStatusCommand } from '../../../commands/mode-status.js';
import { renderGoLiveStatus, renderModeStatus } from '../views/mode-status.js';
import { alertActionRows } from './alert-actions.js';
import { appHomeRow } from './app-home.js';
import { goLiveAuditRoute } from './golive-audit.js';
import { goLiveHelpRoute } from './golive-help.js';
import { incidentItemAction, killRoute, modeResumeRoute } from './kill-routes.js';
import { modeReactionRows } from './mode-reactions.js';
import { modeLiveRoute, modePaperRoute } from './mode-routes.js';
import { oncallOverrideRoute, oncallScheduleRoute, oncallWhoRoute } from './oncall-routes.js';
import { pauseRoute, unpauseRoute } from './pause-routes.js';
import { balanceRoute, tradesRoute } from './trades-routes.js';
import { exitConfirmAction, exitRoute } from './exit-routes.js';
import { commandRoute } from './routes.js';
import { statsRoute } from './stats-route.js';
import type { ActionRow, EventRow, ListenerTable, SlashCommandRow, ViewRow } from './types.js';
import type { ModeStatus } from '../../services/mode-status.js';
import { badgeStateOf } from '../reply.js';

/** A status command read bot_state and the engine lease after the ack: its reply's badge is that read. */
const statusBadge = (status: Pick<ModeStatus, 'requestedMode' | 'halted' | 'entriesPaused' | 'engine'>) =>
  badgeStateOf({ mode: status.requestedMode, halted: status.halted, entriesPaused: status.entriesPaused }, status.engine);

const commands: SlashCommandRow[] = [
  {
    command: '/golive',
    summary: 'Go-live readiness: the audit and where the bot stands',
    whenEmpty: 'status',
    subcommands: [
      commandRoute({ name: 'status', usage: '/golive status', command: goLiveStatusCommand, render: renderGoLiveStatus, badge: statusBadge, readsStatus: true }),
      goLiveAuditRoute(),
      goLiveHelpRoute({ usage: '/golive help' }),
    ],
  },
  {
    command: '/stats',
    summary: 'Trading statistics',
    subcommands: [
      statsRoute,
    ],
  },
  {
    command: '/mode',
    summary: 'Paper or live trading',
    whenEmpty: 'status',
    subcommands: [
      commandRoute({ name: 'status', usage: '/mode status', command: modeStatusCommand, render: renderModeStatus, badge: statusBadge, readsStatus: true }),
      modeLiveRoute,
      modePaperRoute,
      modeResumeRoute,
    ],
  },
  {
    command: '/kill',
    summary: 'Emergency stop',
    subcommands: [
      killRoute,
    ],
  },
  {
    command: '/oncall',
    summary: 'Who is paged when something breaks',
    whenEmpty: 'who',
    subcommands: [
      oncallWhoRoute,
      oncallScheduleRoute,
      oncallOverrideRoute,
    ],
  },
  { command: '/pause', summary: 'Pause new entries (trading state reducing)', subcommands: [pauseRoute] },
  { command: '/unpause', summary: 'Resume new entries', subcommands: [unpauseRoute] },
  { command: '/trades', summary: 'Open trades and their PnL', subcommands: [tradesRoute] },
  { command: '/balance', summary: 'Paper book and Kraken balances', subcommands: [balanceRoute] },
  { command: '/exit', summary: 'Close one open trade, or all', subcommands: [exitRoute] },
];

const events: EventRow[] = [...modeReactionRows, appHomeRow];

const actions: ActionRow[] = [incidentItemAction, ...alertActionRows, exitConfirmAction];

const views: ViewRow[] = [];

export const listenerTable: ListenerTable = { commands, events, actions, views };
