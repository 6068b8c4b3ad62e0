// Owns acting as people in the stand-in's workspace: a slash command typed by a member and a reaction
// added by one, sent to the bot's Slack endpoint (POST /slack/events) exactly as Slack sends them to an
// app in HTTP mode — a form-encoded slash command with a response_url, an Events API event_callback
// for reaction_added — signed with the app's signing secret. The response_url points at the stand-in,
// which keeps the bot's replies. Everything here talks to this machine only, and only to a bot that
// called this stand-in with this shell's bot token.
import { randomBytes } from 'node:crypto';
import type { LogEntry } from './conversation-log.js';
import { signedHeaders, tokenFingerprint } from './signing.js';
import { isLoopbackUrl, STAND_IN, USER_ID } from './workspace.js';

/** A problem the person acting must fix (what is wrong, what to do); the CLI exits 2 on it. */
export class StandInProblem extends Error {}

export interface Bot {
  /** The bot's base URL (its PORT on this machine); requests go to <url>/slack/events. */
  url: string;
  signingSecret: string;
  /** This shell's SLACK_BOT_TOKEN: the stand-in must have been called with it before anything is signed. */
  botToken: string;
  /** The stand-in's base URL. */
  standIn: string;
}

/** The stand-in's base URL from the bot's SLACK_API_URL (…/api/), refusing anything but this machine. */
export function standInBase(apiUrl: string | undefined): string {
  if (!apiUrl) {
    throw new StandInProblem("SLACK_API_URL is not set, so the bot talks to the real Slack. Start `ctb simulate-slack` and put the SLACK_API_URL line it prints in the bot's .env (then restart the bot).");
  }
  if (!isLoopbackUrl(apiUrl)) {
    throw new StandInProblem(`SLACK_API_URL is ${new URL(apiUrl).origin}, not this machine: the Slack stand-in only acts on a stand-in at 127.0.0.1. Start \`ctb simulate-slack\` and set SLACK_API_URL to the line it prints.`);
  }
  return apiUrl.replace(/\/api\/?$/, '').replace(/\/$/, '');
}

export function checkUserId(id: string, flag = '--as'): string {
  if (!USER_ID.test(id)) {
    throw new StandInProblem(`${flag} ${JSON.stringify(id)} is not a Slack member id: expected U or W then capitals and digits, e.g. U012AB3CD (the ids in SLACK_OPERATORS / SLACK_APPROVERS).`);
  }
  return id;
}

/** What the bot said so far, as the stand-in at `base` kept it. */
export async function readConversation(base: string): Promise<LogEntry[]> {
  let res: Response;
  try {
    res = await fetch(`${base}/_standin/messages`);
  } catch {
    throw new StandInProblem(`no Slack stand-in answers at ${base}: start it with \`ctb simulate-slack\` (its port must match SLACK_API_URL).`);
  }
  const body = (await res.json().catch(() => undefined)) as { standIn?: boolean; messages?: LogEntry[] } | undefined;
  if (!res.ok || body?.standIn !== true || !Array.isArray(body.messages)) {
    throw new StandInProblem(`${base} is not a Slack stand-in (no /_standin/messages there): point SLACK_API_URL at the URL \`ctb simulate-slack\` prints.`);
  }
  return body.messages;
}

/**
 * Refuses unless a bot with this shell's SLACK_BOT_TOKEN has called the stand-in at `bot.standIn`. A
 * loopback URL alone proves nothing: it can be an SSH tunnel to production, or a production bot on this
 * host, and a copied production .env would then sign approvals for it. A bot talking to this stand-in
 * called its auth.test at start with the token this shell reads from the same .env.
 */
async function checkBotSeen(bot: Bot): Promise<void> {
  let seen: unknown;
  try {
    const res = await fetch(`${bot.standIn}/_standin/messages`);
    seen = ((await res.json().catch(() => undefined)) as { botsSeen?: unknown } | undefined)?.botsSeen;
  } catch {
    throw new StandInProblem(`no Slack stand-in answers at ${bot.standIn}: start it with \`ctb simulate-slack\` (its port must match SLACK_API_URL).`);
  }
  if (!Array.isArray(seen) || !seen.includes(tokenFingerprint(bot.botToken))) {
    throw new StandInProblem(`the Slack stand-in at ${bot.standIn} has never been called by a bot with this shell's SLACK_BOT_TOKEN, so nothing is sent to ${bot.url}: `
      + 'the bot there may not be the one rehearsing (a tunnel, or another bot on this host). Start the bot with this directory\'s .env (SLACK_API_URL pointing at this stand-in), '
      + 'or restart it if the stand-in was restarted after it, and run this from the bot\'s directory.');
  }
}

async function postToBot(bot: Bot, body: string, contentType: string): Promise<string> {
  if (!isLoopbackUrl(bot.url)) throw new StandInProblem(`the bot's URL ${bot.url} is not on this machine: the stand-in acts only on a local bot (127.0.0.1).`);
  await checkBotSeen(bot);
  const endpoint = `${bot.url.replace(/\/$/, '')}/slack/events`;
  let res: Response;
  try {
    res = await fetch(endpoint, { method: 'POST', headers: { 'content-type': contentType, ...signedHeaders(bot.signingSecret, body) }, body, signal: AbortSignal.timeout(30_000) });
  } catch {
    throw new StandInProblem(`no bot is listening at ${endpoint}: start it (\`ctb start\`) with this directory's .env, or name its URL with --bot-url (its PORT).`);
  }
  const text = await res.text();
  if (res.status === 401) {
    throw new StandInProblem(`the bot refused the request's signature (401): this shell's SLACK_SIGNING_SECRET is not the bot's. Run this from the bot's directory (same .env), or restart the bot after changing it.`);
  }
  if (res.status === 404) {
    throw new StandInProblem(`${endpoint} answered 404: this bot does not serve Slack over HTTP. Slack needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET; with SLACK_APP_TOKEN set it uses Socket Mode, which the stand-in cannot drive — remove SLACK_APP_TOKEN and restart the bot.`);
  }
  if (res.status < 200 || res.status >= 300) throw new StandInProblem(`the bot answered ${res.status}: ${text.slice(0, 300)}`);
  return text;
}

/** `/mode live` → { command: '/mode', text: 'live' }. */
export function parseCommandLine(line: string): { command: string; text: string } {
  const m = /^\s*(\/[a-z0-9_-]+)(?:\s+([\s\S]*))?$/i.exec(line);
  if (!m) throw new StandInProblem(`${JSON.stringify(line)} is not a slash command: expected a "/" then its name, e.g. "/mode live".`);
  return { command: m[1]!.toLowerCase(), text: (m[2] ?? '').trim() };
}

/** Types `line` as `user` in `channel`; the trigger id names the bot's replies to it in the stand-in. */
export async function sendSlashCommand(bot: Bot, input: { base: string; user: string; channel: string; line: string }): Promise<{ trigger: string; ack: string }> {
  const { command, text } = parseCommandLine(input.line);
  const trigger = randomBytes(8).toString('hex');
  const form = new URLSearchParams({
    token: 'standin', team_id: STAND_IN.teamId, team_domain: STAND_IN.teamDomain, channel_id: input.channel, channel_name: 'rehearsal',
    user_id: input.user, user_name: input.user.toLowerCase(), command, text, api_app_id: STAND_IN.appId, is_enterprise_install: 'false',
    response_url: `${input.base}/respond/${input.channel}/${input.user}/${trigger}`, trigger_id: `${Date.now()}.${trigger}`,
  });
  const ack = await postToBot(bot, form.toString(), 'application/x-www-form-urlencoded');
  return { trigger, ack };
}

/** Puts the reaction on the message in the stand-in, as it is on Slack's message before its event is sent. */
async function putReaction(bot: Bot, input: { user: string; message: LogEntry; reaction: string }): Promise<void> {
  const body = JSON.stringify({ channel: input.message.channel, ts: input.message.ts, name: input.reaction, user: input.user });
  let res: Response;
  try {
    res = await fetch(`${bot.standIn}/_standin/reactions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  } catch {
    throw new StandInProblem(`no Slack stand-in answers at ${bot.standIn}: start it with \`ctb simulate-slack\` (its port must match SLACK_API_URL).`);
  }
  if (!res.ok) throw new StandInProblem(`the stand-in at ${bot.standIn} did not keep the reaction (${res.status}: ${(await res.text()).slice(0, 200)}): is it the one the bot posts to?`);
}

/** Adds `reaction` as `user` to the bot's message `message`: on the message in the stand-in, then an Events API reaction_added. */
export async function sendReaction(bot: Bot, input: { user: string; message: LogEntry; reaction: string }): Promise<void> {
  await putReaction(bot, input);
  const now = Date.now() / 1000;
  const body = {
    token: 'standin', team_id: STAND_IN.teamId, api_app_id: STAND_IN.appId, type: 'event_callback', event_id: `Ev${randomBytes(6).toString('hex').toUpperCase()}`, event_time: Math.floor(now),
    event: {
      type: 'reaction_added', user: input.user, reaction: input.reaction, item: { type: 'message', channel: input.message.channel, ts: input.message.ts },
      item_user: STAND_IN.botUserId, event_ts: now.toFixed(6),
    },
    authorizations: [{ team_id: STAND_IN.teamId, user_id: STAND_IN.botUserId, is_bot: true, is_enterprise_install: false }],
  };
  await postToBot(bot, JSON.stringify(body), 'application/json');
}

const LIVE_REQUEST = /Request #\d+\b.*switch to LIVE/;

/** The message `to` names: a ts of the bot's message, or "the live request" (the latest live change request). */
export function findTarget(entries: LogEntry[], to: string): LogEntry {
  const messages = entries.filter((e) => e.kind === 'message' && e.ts);
  if (/^the live request$/i.test(to.trim())) {
    const found = messages.filter((e) => e.threadTs === undefined && LIVE_REQUEST.test(e.text)).at(-1);
    if (!found) throw new StandInProblem('the bot has posted no live change request yet: run `ctb simulate-slack command --as <operator> "/mode live"` first (`ctb simulate-slack messages` shows what it posted).');
    return found;
  }
  if (!/^\d+\.\d+$/.test(to)) throw new StandInProblem(`--to ${JSON.stringify(to)}: expected a message ts such as 1767000000.000001 (see \`ctb simulate-slack messages\`) or "the live request".`);
  const found = messages.find((e) => e.ts === to);
  if (!found) throw new StandInProblem(`the bot posted no message with ts ${to}: \`ctb simulate-slack messages\` lists the ones it did.`);
  return found;
}
