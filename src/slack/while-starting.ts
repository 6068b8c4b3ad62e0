// Owns POST /slack/events while `ctb start` waits for its database (the migrations' wait: a database
// that went away, another process holding the migration lock), before the Slack part serves it: no
// context, no Bolt app, no listener table, no slack_deliveries. Cancelling is never refused, so a
// signed `/kill` is taken as POST /kill is then (services/kill/kill-while-starting.ts): acked at
// once, cancelled on Kraken with this process's key, saved in DATA_DIR, and answered through the
// command's response_url in the words POST /kill answers with. The request gate is the running
// one (request-gate.ts: the signature and its age, size and shape), and who may kill is decided as
// the running /kill decides it — the operator role, read from SLACK_OPERATORS in the configuration,
// no database. Every other slash command is answered at once that the bot is starting and why; an
// event or a button is answered 503 "starting", as the server did before (Slack sends an event again).
// Once the context exists, until the Slack part replaces this route, a /kill runs the kill command
// as the running bot does.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { killArgs, killCommand } from '../../commands/kill.js';
import { mayRun, runCommand } from '../../commands/run-command.js';
import type { Actor, AppContext } from '../app/context.js';
import type { Config } from '../config/env.js';
import type { StartStanding } from '../domain/start-standing.js';
import type { Logger } from '../logger.js';
import { scrubberFor, scrubDeep, SLACK_STRUCTURAL_KEYS, type Scrubber } from '../secret-scrub.js';
import type { StartingKillResult } from '../services/kill/kill-while-starting.js';
import { guardSlackRequests, type SlackBody } from './request-gate.js';
import { postToResponseUrl } from './response-url.js';
import { renderRefused } from './views/error.js';
import { renderKillReply } from './views/kill.js';
import { escapeText } from './views/message.js';
import { payloadText } from './payload-field.js';

export interface SlackWhileStartingOptions {
  config: Config;
  logger: Logger;
  /** What takes a kill while the start waits (runtime.ts's StartingKills). */
  kills: { kill(request: { actor: Actor; reason: string }): Promise<StartingKillResult> };
  /** What the start is doing now (StartProgress.standing()): said in the "starting" answer. */
  standing: () => StartStanding | null;
  /** The context, once the start has built it (the database answered); undefined before. */
  started: () => AppContext | undefined;
}

const KILL_USAGE = '/kill [reason]';
/** Slack keys a slash command by its trigger_id (deliveries.ts): a retry of one is answered once. */
const REMEMBERED = 1_000;

/**
 * What the start waits on, from its progress (what /healthz shows): a database that does not answer,
 * another process's migration (the migration lock), or only the opening and migrating of a database
 * that answers. `short` heads a kill's answers; `long` says it in full.
 */
export function startingWait(standing: StartStanding | null, built: boolean): { short: string; long: string } {
  if (built) return { short: 'its database answered; its parts are starting', long: 'the database answered and the bot\'s parts are starting' };
  if (standing?.state === 'waiting for the database') {
    return {
      short: 'its database is not reachable yet',
      long: `the database is not reachable yet (waiting for it since ${standing.waitingSince}, for ${standing.part}: ${standing.database}; tried again in ${standing.retryInS} s)`,
    };
  }
  if (standing?.migrationLock) {
    return { short: 'its migrations wait for another process\'s', long: `the database answers; its migrations wait: ${standing.migrationLock.replace(/…$/, '')}` };
  }
  return { short: 'it is opening its database and applying its migrations', long: 'the database answers; the start is applying its migrations' };
}

/** Why nothing but /kill is served yet, in words: what the start waits on. */
export function startingPhrase(standing: StartStanding | null, built: boolean): string {
  if (built) return 'starting: the database answered and the bot\'s parts are starting; ask again in a few seconds.';
  return `starting: ${startingWait(standing, built).long}. Commands are answered once the bot has started; `
    + '`/kill` is taken meanwhile: it cancels on Kraken with this process\'s key, when it has one, and saves the halt in DATA_DIR, written to the database when the start goes on.';
}

function ephemeral(text: string) {
  return { response_type: 'ephemeral', text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: escapeText(text) } }] };
}

/** The answer to a kill taken during the wait: POST /kill's words, headed by what it was. */
export function renderStartingKill(result: StartingKillResult, standing: StartStanding | null) {
  const krakenClear = result.cancel.venues.find((v) => v.venue === 'kraken')?.confirmed === true;
  const headline = `Kill taken while the bot starts (${startingWait(standing, false).short}): ${krakenClear ? 'Kraken confirmed clear' : 'orders may remain open on Kraken'}; the halt is ${result.state === 'pending' ? 'saved in DATA_DIR, not yet in the database' : 'NOT saved'}.`;
  const text = `${headline} ${result.message}`;
  return {
    response_type: 'ephemeral',
    replace_original: false,
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `${krakenClear ? ':octagonal_sign:' : ':rotating_light:'} *${escapeText(headline)}*` } },
      { type: 'section', text: { type: 'mrkdwn', text: escapeText(result.message) } },
    ],
  };
}

/** The HTTP answer (an ack's message scrubbed as every reply is: it may quote the database's error). */
function answer(res: ServerResponse, status: number, body?: unknown, scrub?: Scrubber): void {
  if (res.headersSent) return;
  if (body === undefined) {
    res.writeHead(status);
    res.end();
    return;
  }
  const text = JSON.stringify(scrub ? scrubDeep(body, scrub, SLACK_STRUCTURAL_KEYS) : body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}


/** The request listener for POST /slack/events while the start waits for its database. */
export function slackWhileStarting(opts: SlackWhileStartingOptions): RequestListener {
  const { config, logger } = opts;
  const signingSecret = config.SLACK_SIGNING_SECRET?.reveal();
  if (!signingSecret) throw new Error('slackWhileStarting: SLACK_SIGNING_SECRET is not set');
  const scrub = scrubberFor(config);
  const seen = new Set<string>();
  const remember = (key: string): boolean => {
    if (seen.has(key)) return false;
    seen.add(key);
    if (seen.size > REMEMBERED) seen.delete(seen.values().next().value!);
    return true;
  };

  const reply = async (responseUrl: string | undefined, message: Record<string, unknown>, what: Record<string, unknown>) => {
    if (!responseUrl) {
      logger.warn(what, 'Slack request during the start carried no response_url: its answer was not sent');
      return;
    }
    await postToResponseUrl(responseUrl, message, scrub).catch((err: unknown) => logger.error({ err, ...what }, 'could not send a Slack answer during the start'));
  };

  const kill = (body: SlackBody, res: ServerResponse, actor: Actor, reason: string) => {
    const responseUrl = payloadText(body.response_url);
    const ctx = opts.started();
    // Acked now: the kill's rounds on Kraken outlast Slack's 3 s.
    answer(res, 200, ephemeral(ctx
      ? 'Kill received while the bot starts: cancelling every open order; the answer follows here.'
      : `Kill received while the bot starts (${startingWait(opts.standing(), false).short}): taken without its database — cancelling on Kraken with this process's key, when it has one, and saving the halt in DATA_DIR; what was done follows here.`), scrub);
    const what = { slackUser: actor.id, killId: actor.requestId };
    const work = ctx
      ? runCommand(killCommand, ctx, actor, { reason }).then((result) => ({ ...renderKillReply(result), response_type: 'in_channel', replace_original: false }))
      : opts.kills.kill({ actor, reason }).then((result) => renderStartingKill(result, opts.standing()));
    void work.then(
      (message) => reply(responseUrl, message, what),
      (err: unknown) => {
        logger.error({ err, ...what }, 'Slack /kill during the start failed');
        return reply(responseUrl, { ...ephemeral('The kill failed before it could answer: see the bot\'s log. Run `ctb kill` from a shell, or POST /kill.'), replace_original: false }, what);
      },
    );
  };

  const handle = (req: IncomingMessage, res: ServerResponse, body: SlackBody) => {
    if (body.ssl_check === '1') return answer(res, 200);
    if (body.type === 'url_verification') return answer(res, 200, { challenge: body.challenge });
    const command = payloadText(body.command);
    if (!command) {
      // An event or an interaction: not taken yet; an event is sent again by Slack.
      res.setHeader('retry-after', '1');
      return answer(res, 503, { status: 'starting', error: 'the bot is starting: this path is served once the part that serves it has started' });
    }
    const userId = payloadText(body.user_id)!;
    const key = `command:${payloadText(body.trigger_id) ?? `${userId}:${payloadText(body.text) ?? ''}:${req.headers['x-slack-request-timestamp'] as string}`}`;
    if (!remember(key)) {
      logger.info({ delivery: key }, 'Slack request during the start: a repeat of one already taken, answered with nothing');
      return answer(res, 200);
    }
    const text = (payloadText(body.text) ?? '').replace(/\s+/g, ' ').trim();
    if (command !== '/kill' || /^help(\s|$)/i.test(text)) {
      logger.info({ command, slackUser: userId }, 'Slack command during the start: answered "starting"');
      return answer(res, 200, ephemeral(startingPhrase(opts.standing(), opts.started() !== undefined)), scrub);
    }
    const actor: Actor = { id: userId, source: 'slack', requestId: key };
    // The running /kill's check (commands/run-command.ts, mayRun): the operator role, from the configuration.
    if (!mayRun({ config }, actor, killCommand.role)) {
      logger.warn({ slackUser: userId, command }, 'Slack /kill during the start refused: not an operator (SLACK_OPERATORS)');
      return answer(res, 200, { response_type: 'ephemeral', ...renderRefused({ command: KILL_USAGE, role: killCommand.role, hint: 'Operators are listed in SLACK_OPERATORS.' }) }, scrub);
    }
    kill(body, res, actor, killArgs.parse({ reason: text }).reason);
  };

  return guardSlackRequests(handle, { signingSecret, logger });
}
