// `ctb simulate-slack`: a local stand-in for Slack (src/slack-simulator/) to rehearse the live switch
// without a workspace. `serve` (the default) runs the Web API stand-in on 127.0.0.1 until SIGINT/SIGTERM;
// `command`, `react` and `messages` act as people in it: a signed slash command or reaction sent to the
// bot's POST /slack/events, and what the bot posted. They read the bot's .env (SLACK_API_URL must name
// the stand-in on this machine, SLACK_SIGNING_SECRET signs) and never print a secret. Bad input, no
// bot or no stand-in, a secret the bot refuses: what is wrong and what to do, exit 2.
import type { Command } from 'commander';
import type { Config } from '../../config/env.js';
import type { LogEntry } from '../../slack-simulator/conversation-log.js';
import * as People from '../../slack-simulator/people.js';
import { SlackStandIn, STAND_IN_BANNER } from '../../slack-simulator/server.js';
import { WEB_API_METHODS } from '../../slack-simulator/web-api.js';
import { CHANNEL_ID, STAND_IN } from '../../slack-simulator/workspace.js';
import type { CliIo } from '../io.js';
import type { CliRegistration } from '../program.js';
import { loadCliConfig } from '../with-context.js';

const HELP = `
A stand-in for Slack, to rehearse going live (/mode live and two approvers' reactions) with no Slack
workspace. It is not Slack: it answers the Web API calls the bot makes (${WEB_API_METHODS.join(', ')})
on 127.0.0.1 in Slack's shapes and keeps what the bot posted; nothing reaches any workspace.

The bot's .env (HTTP mode: no SLACK_APP_TOKEN):
  SLACK_API_URL=http://127.0.0.1:7900/api/   (the line \`ctb simulate-slack\` prints)
  SLACK_BOT_TOKEN=xoxb-rehearsal             (any xoxb- value: the stand-in takes any)
  SLACK_SIGNING_SECRET=<a secret you choose>  (the bot checks it; command/react sign with it)
  SLACK_OPS_CHANNEL=C0STANDOPS  SLACK_OPERATORS=U0OPERATOR  SLACK_APPROVERS=U0APPROVA,U0APPROVB

Then, from the bot's directory (same .env):
  ctb simulate-slack command --as U0OPERATOR "/mode live"
  ctb simulate-slack react --as U0APPROVA --to "the live request"
  ctb simulate-slack react --as U0APPROVB --to "the live request"
  ctb simulate-slack messages

command and react sign only for a bot that has called this stand-in with the shell's SLACK_BOT_TOKEN
(its auth.test at start): a loopback URL alone could be a tunnel to another bot.
GET /_standin/messages (what \`messages\` reads) has no authentication: anyone on this machine can read
it, so rehearse with rehearsal data only, never a production .env.
`;

function bad(io: CliIo, err: unknown): number {
  if (!(err instanceof People.StandInProblem)) throw err;
  io.stderr.write(`error: ${err.message}\n`);
  return 2;
}

/** The shell's Slack settings the people need, or the exit code of what is missing. */
function slackSettings(io: CliIo, botUrl: string | undefined): { config: Config; base: string; bot: People.Bot } | number {
  const config = loadCliConfig(io);
  if (typeof config === 'number') return config;
  try {
    const base = People.standInBase(config.SLACK_API_URL);
    if (config.SLACK_APP_TOKEN) {
      throw new People.StandInProblem('SLACK_APP_TOKEN is set, so the bot uses Socket Mode, which the stand-in cannot drive: it needs the HTTP receiver. Remove SLACK_APP_TOKEN from the .env and restart the bot.');
    }
    if (!config.SLACK_SIGNING_SECRET) {
      throw new People.StandInProblem('SLACK_SIGNING_SECRET is not set in this shell: the bot would refuse an unsigned request. Set it in the .env the bot reads and run this from its directory.');
    }
    if (!config.SLACK_BOT_TOKEN) {
      throw new People.StandInProblem("SLACK_BOT_TOKEN is not set in this shell: it tells which bot has been talking to the stand-in. Set it in the .env the bot reads and run this from its directory.");
    }
    return {
      config, base,
      bot: { url: botUrl ?? `http://127.0.0.1:${config.PORT}`, signingSecret: config.SLACK_SIGNING_SECRET.reveal(), botToken: config.SLACK_BOT_TOKEN.reveal(), standIn: base },
    };
  } catch (err) {
    return bad(io, err);
  }
}

export function describeEntry(e: LogEntry): string {
  const where = e.kind === 'message' ? `#${e.channel} ${e.ts}${e.threadTs ? ` (thread ${e.threadTs})` : ''}${e.edits ? ` (edited ${e.edits}x)` : ''}`
    : e.kind === 'ephemeral' ? `#${e.channel} only to ${e.user}${e.threadTs ? ` (thread ${e.threadTs})` : ''}` : `#${e.channel} reply to ${e.user}'s command`;
  return `${where}: ${e.text.replace(/\n/g, '\n    ')}`;
}

/**
 * The bot's answers after `after` that `mine` picks, once they stop coming (2 s quiet) or `waitS` passed.
 * A "working" reply ("… when it is done.") promises the answer: it is waited past, up to `waitS`.
 */
async function answers(base: string, after: number, mine: (e: LogEntry) => boolean, waitS: number): Promise<LogEntry[]> {
  const deadline = Date.now() + waitS * 1000;
  let seen: LogEntry[] = [];
  let lastNew = 0;
  const settled = () => seen.length > 0 && Date.now() - lastNew >= 2_000 && !/when it is done\.$/.test(seen.at(-1)!.text);
  while (Date.now() < deadline && !settled()) {
    await new Promise((r) => setTimeout(r, 250));
    const now = (await People.readConversation(base)).filter((e) => e.seq > after && mine(e));
    if (now.length > seen.length) lastNew = Date.now();
    seen = now;
  }
  return seen;
}

const lastSeq = (entries: LogEntry[]) => entries.at(-1)?.seq ?? 0;

function printAnswers(io: CliIo, found: LogEntry[], waitS: number): void {
  if (found.length === 0) io.stdout.write(`No answer from the bot within ${waitS}s (it may still come: ctb simulate-slack messages).\n`);
  else io.stdout.write(`The bot answered:\n${found.map((e) => `  ${describeEntry(e)}`).join('\n')}\n`);
}

function parseWait(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 600) throw new People.StandInProblem(`--wait ${JSON.stringify(text)}: expected whole seconds from 0 to 600.`);
  return n;
}

async function serve(io: CliIo, portText: string): Promise<number> {
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) return bad(io, new People.StandInProblem(`--port: expected a port from 1 to 65535 (0: any free port), got ${JSON.stringify(portText)}`));
  const stamp = () => new Date().toISOString().slice(11, 19);
  let standIn: SlackStandIn;
  try {
    standIn = await SlackStandIn.start({ port, onEntry: (e) => io.stdout.write(`[${stamp()}] ${describeEntry(e)}\n`) });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') return bad(io, new People.StandInProblem(`port ${port} is in use: stop what listens there or choose another with --port.`));
    throw err;
  }
  io.stdout.write([
    STAND_IN_BANNER,
    `Listening on ${standIn.url} (127.0.0.1 only): team ${STAND_IN.teamId}, bot user ${STAND_IN.botUserId}.`,
    "Put this line in the bot's .env (with SLACK_BOT_TOKEN=xoxb-<anything>, your SLACK_SIGNING_SECRET, no SLACK_APP_TOKEN) and restart it:",
    `SLACK_API_URL=${standIn.apiUrl}`,
    'Act as people from its directory: ctb simulate-slack command|react|messages (ctb simulate-slack --help).',
    '',
  ].join('\n'));
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await standIn.close();
  io.stdout.write(`[${stamp()}] Slack stand-in stopped (what the bot posted is gone with it)\n`);
  return 0;
}

async function command(io: CliIo, line: string, flags: { as: string; channel?: string; botUrl?: string; wait: string }): Promise<number> {
  try {
    People.checkUserId(flags.as);
    People.parseCommandLine(line);
    const waitS = parseWait(flags.wait);
    const s = slackSettings(io, flags.botUrl);
    if (typeof s === 'number') return s;
    const channel = flags.channel ?? s.config.SLACK_OPS_CHANNEL ?? STAND_IN.defaultChannel;
    if (!CHANNEL_ID.test(channel)) throw new People.StandInProblem(`--channel ${JSON.stringify(channel)} is not a channel id: expected C, G or D then capitals and digits, e.g. C0STANDOPS.`);
    const before = lastSeq(await People.readConversation(s.base));
    const sent = await People.sendSlashCommand(s.bot, { base: s.base, user: flags.as, channel, line });
    io.stdout.write(`${flags.as} typed ${line.trim()} in #${channel}; the bot acknowledged it.\n`);
    // Its replies, and what the bot posts in that channel meanwhile (an audit's verdict, the live request).
    const mine = (e: LogEntry) => e.trigger === sent.trigger || (e.kind === 'message' && e.channel === channel && e.threadTs === undefined);
    printAnswers(io, await answers(s.base, before, mine, waitS), waitS);
    return 0;
  } catch (err) {
    return bad(io, err);
  }
}

async function react(io: CliIo, flags: { as: string; to: string; emoji?: string; botUrl?: string; wait: string }): Promise<number> {
  try {
    People.checkUserId(flags.as);
    const waitS = parseWait(flags.wait);
    const s = slackSettings(io, flags.botUrl);
    if (typeof s === 'number') return s;
    const entries = await People.readConversation(s.base);
    const message = People.findTarget(entries, flags.to);
    const reaction = (flags.emoji ?? s.config.APPROVAL_EMOJI).replace(/^:|:$/g, '');
    await People.sendReaction(s.bot, { user: flags.as, message, reaction });
    io.stdout.write(`${flags.as} reacted :${reaction}: to #${message.channel} ${message.ts}; the bot acknowledged it.\n`);
    const mine = (e: LogEntry) => e.threadTs === message.ts || e.ts === message.ts || (e.kind === 'ephemeral' && e.user === flags.as);
    printAnswers(io, await answers(s.base, lastSeq(entries), mine, waitS), waitS);
    return 0;
  } catch (err) {
    return bad(io, err);
  }
}

async function messages(io: CliIo, flags: { channel?: string; json?: boolean }): Promise<number> {
  const config = loadCliConfig(io, flags.json);
  if (typeof config === 'number') return config;
  try {
    const entries = (await People.readConversation(People.standInBase(config.SLACK_API_URL))).filter((e) => !flags.channel || e.channel === flags.channel);
    if (flags.json) io.stdout.write(`${JSON.stringify(entries.map(({ kind, channel, ts, threadTs, user, text, edits }) => ({ kind, channel, ts, threadTs, user, text, edits })), null, 2)}\n`);
    else io.stdout.write(entries.length === 0 ? 'The bot has posted nothing yet.\n' : `${entries.map(describeEntry).join('\n')}\n`);
    return 0;
  } catch (err) {
    return bad(io, err);
  }
}

export const simulateSlackCli: CliRegistration = {
  register(program, io, setExit) {
    const root: Command = program
      .command('simulate-slack')
      .description("run a local stand-in for Slack's Web API on 127.0.0.1 and act as people in it, to rehearse the live switch with no workspace")
      .addHelpText('after', HELP);
    root.command('serve', { isDefault: true })
      .description("run the stand-in (127.0.0.1 only) until Ctrl-C; prints the bot's SLACK_API_URL")
      .option('--port <n>', 'port on 127.0.0.1 (0: any free port, printed)', '7900')
      .action(async (flags: { port: string }) => setExit(await serve(io, flags.port)));
    root.command('command <line>')
      .description('type a slash command as a member: a signed request to the bot, e.g. "/mode live"; prints its replies')
      .requiredOption('--as <user-id>', 'the member who types it (U…)')
      .option('--channel <id>', 'where it is typed (default SLACK_OPS_CHANNEL)')
      .option('--bot-url <url>', "the bot on this machine (default http://127.0.0.1:PORT)")
      .option('--wait <seconds>', 'how long to wait for its replies (the go-live audit may take a while)', '120')
      .action(async (line: string, flags: { as: string; channel?: string; botUrl?: string; wait: string }) => setExit(await command(io, line, flags)));
    root.command('react')
      .description('react to one of the bot\'s messages as a member (default the approval emoji): a signed reaction_added event')
      .requiredOption('--as <user-id>', 'the member who reacts (U…)')
      .requiredOption('--to <ts|"the live request">', "the bot's message: its ts (ctb simulate-slack messages), or \"the live request\"")
      .option('--emoji <name>', 'the reaction (default APPROVAL_EMOJI)')
      .option('--bot-url <url>', "the bot on this machine (default http://127.0.0.1:PORT)")
      .option('--wait <seconds>', "how long to wait for the bot's answer", '15')
      .action(async (flags: { as: string; to: string; emoji?: string; botUrl?: string; wait: string }) => setExit(await react(io, flags)));
    root.command('messages')
      .description('what the bot posted in the stand-in: channel, ts, thread, text (replies and ephemeral ones too)')
      .option('--channel <id>', 'only this channel')
      .option('--json', 'machine output')
      .action(async (flags: { channel?: string; json?: boolean }) => setExit(await messages(io, flags)));
  },
};
