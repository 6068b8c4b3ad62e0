// Owns delivering the bot's notifications (src/notifications/notification.ts) to Slack: the one chat
// notifier. Each kind is rendered by render-notification.ts, carries the paper/LIVE badge as it is
// when the message is sent, and goes out through the process's one Web API client. What a failure
// becomes depends on who waits: the alert kinds come from the outbox, so a 429 is handed back with
// Retry-After (the lane closes that long) and any other failure is retried by the worker's backoff;
// the others (the incident thread, the live switch, the summaries) have their own once-only claims
// and no queue, so a rate limit is waited out here — but a closed request's retried announcement
// (mode_changed with `announce`) is handed back like the outbox's: its announcer records the failure
// and tries again after Retry-After, or its backoff, or never when Slack refused it for good.
import type { WebClient } from '@slack/web-api';
import { ErrorCode } from '@slack/web-api';
import type { Config } from '../config/env.js';
import { describeDuration } from '../config/duration.js';
import type { Db } from '../db/client.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { assertCarried, carriedKinds, NotCarriedError, type Delivered, type Notification, type Notifier } from '../notifications/notification.js';
import { slackCarriage } from './carriage.js';
import { announceMetadata, findAnnouncement } from './find-announcement.js';
import { directMetadata, findDirect, findPage, pageMetadata } from './find-page.js';
import { readBadgeState } from './reply.js';
import { renderNotification } from './render-notification.js';
import { withBadge, type BadgeState } from './views/badge.js';
import { outageMarkOf } from '../domain/alert-outage.js';
import type { SlackMessage } from './views/message.js';
import { isSlackTimeout, rateLimitSeconds, slackTimeoutMessage, slackWebClient, waitOutRateLimits } from './web-client.js';

export class SlackDeliveryError extends Error {
  /** `uncertain`: Slack did not answer in time; the message may have been posted. */
  constructor(message: string, readonly retryAfterMs?: number, readonly permanent = false, readonly uncertain = false) {
    super(message);
    this.name = 'SlackDeliveryError';
  }
}

/** Slack's answers that say this person (or their DM) does not exist or cannot receive: retrying cannot help. */
const PERMANENT_ERRORS = new Set([
  'user_not_found', 'users_not_found', 'channel_not_found', 'account_inactive', 'user_disabled', 'user_not_visible', 'cannot_dm_bot', 'is_archived',
]);

/**
 * Slack's answers to a post in a channel's thread that no next try can change: the channel is gone or
 * archived, the bot is not in it, its token is refused. An operator has to act (invite the bot, fix
 * the token); the announcement is recorded failed with the reason, not retried for ever.
 */
const ANNOUNCE_PERMANENT_ERRORS = new Set([
  ...PERMANENT_ERRORS, 'not_in_channel', 'invalid_auth', 'not_authed', 'token_revoked', 'token_expired', 'missing_scope',
  'restricted_action', 'ekm_access_denied', 'team_access_not_granted', 'invalid_blocks', 'msg_too_long',
]);

function translate(err: unknown, config: Config, permanent: ReadonlySet<string> = PERMANENT_ERRORS): SlackDeliveryError {
  if (err instanceof SlackDeliveryError) return err;
  if (isSlackTimeout(err)) return new SlackDeliveryError(`slack ${slackTimeoutMessage(config)}; it may have been delivered`, undefined, false, true);
  const seconds = rateLimitSeconds(err);
  if (seconds !== undefined) return new SlackDeliveryError(`slack rate limited (Retry-After ${seconds}s)`, seconds * 1000);
  const e = err as { code?: string; data?: { error?: string }; message?: string };
  if (e?.code === ErrorCode.PlatformError) {
    const code = e.data?.error ?? 'unknown error';
    return new SlackDeliveryError(`slack refused: ${code}`, undefined, permanent.has(code));
  }
  return new SlackDeliveryError(`slack unreachable: ${e?.message ?? String(err)}`);
}

type SlackNotification = Exclude<Notification, { kind: 'alert_email' }>;

const noTs = (what: string) => new AppError('retryable', 'slack_post_failed', `Slack did not return ${what}`);

/** One Slack call for one notification; answers where it went. */
async function send(web: WebClient, n: SlackNotification, m: SlackMessage, opsChannel: string): Promise<Delivered> {
  const metadata = (pageOf?: number) => pageOf !== undefined ? { metadata: pageMetadata(pageOf) }
    : n.kind === 'alert_direct' ? { metadata: directMetadata(n.directId) }
    : n.kind === 'mode_changed' && n.announce ? { metadata: announceMetadata(n.announce.requestId) } : {};
  const post = (channel: string, threadTs?: string, pageOf?: number) =>
    web.chat.postMessage({
      channel, text: m.text, blocks: m.blocks, unfurl_links: false, ...(threadTs ? { thread_ts: threadTs } : {}), ...metadata(pageOf),
    });
  const update = async (channel: string, ts: string) => {
    await web.chat.update({ channel, ts, text: m.text, blocks: m.blocks });
    return { channel, ts };
  };
  switch (n.kind) {
    case 'alert_updated':
      return update(n.channel, n.ts);
    case 'incident_update':
      return update(n.thread.channel, n.thread.ts);
    case 'exit_outcome':
      return update(n.message.channel, n.message.ts);
    case 'alert_raised':
    case 'alert_direct':
    case 'alert_repeated':
    case 'alert_note':
    case 'alert_page': {
      const channel = n.kind === 'alert_page' ? n.user : n.channel;
      const res = await post(channel, n.kind === 'alert_repeated' || n.kind === 'alert_note' ? n.threadTs : undefined, n.kind === 'alert_page' ? n.deliveryId : undefined);
      if (!res.ts) throw new SlackDeliveryError('slack answered without a message ts');
      return { channel: String(res.channel ?? channel), ts: res.ts };
    }
    case 'incident_opened': {
      const res = await post(opsChannel);
      if (!res.ts) throw noTs('the incident message timestamp');
      return { channel: res.channel ?? opsChannel, ts: res.ts };
    }
    case 'mode_request': {
      const res = await post(opsChannel);
      if (!res.ts || !res.channel) throw noTs('the message timestamp');
      return { channel: res.channel, ts: res.ts };
    }
    case 'incident_note':
    case 'mode_changed':
    case 'summary': {
      // Posted, whatever the answer says: '' when Slack named no ts (never a reason to post again).
      const thread = n.kind === 'summary' ? null : n.thread;
      const res = await post(thread?.channel ?? opsChannel, thread?.ts);
      return { channel: res.channel ?? thread?.channel ?? opsChannel, ts: res.ts ?? '' };
    }
  }
}

const fromOutbox = (n: SlackNotification) => n.kind.startsWith('alert_');

/**
 * The badge of an alert raised while the database was away: the state as its process knew it then
 * (never read now: a direct send has no database, and a late one must not show the state at send time).
 */
function raisedState(n: SlackNotification): BadgeState | undefined {
  const state = n.kind === 'alert_direct' ? n.state
    // An update of the parent, maybe hours later, shows the state now (its LATE line says the raise's).
    : n.kind === 'alert_raised' ? outageMarkOf(n.latest?.details)?.state
    : undefined;
  if (state === undefined) return undefined;
  if (state === null) return n.kind === 'alert_direct' ? { mode: null, halted: false } : undefined;
  return { mode: state.mode, halted: state.halted, ...(state.tradingState ? { tradingState: state.tradingState } : {}) };
}

/**
 * Slack would not say what a channel holds (conversations.history refused): the message is sent again,
 * at worst a second time. A missing scope (an app installed before the manifest asked for it) is a
 * warning naming the scope to add, once per scope for this notifier; later refusals for it are info
 * lines. Any other refusal is a warning each time.
 */
function lookUpRefused(logger: Logger, warned: Set<string>, err: unknown, fields: Record<string, unknown>, what: string): void {
  const data = (err as { data?: { error?: string; needed?: string } }).data;
  if (data?.error !== 'missing_scope') {
    logger.warn({ ...fields, error: data?.error }, `could not check whether ${what} reached Slack; sending it (it may arrive twice)`);
    return;
  }
  const scope = data.needed ?? 'the history scope of that conversation';
  const msg = `could not check whether ${what} reached Slack: the Slack app's token lacks ${scope}. Add ${scope} to the app `
    + `(slack/manifest.yaml asks for it) and reinstall it to the workspace; until then such a message is sent again and may arrive twice`;
  if (warned.has(scope)) {
    logger.info({ ...fields, error: data.error, needed: scope }, msg);
    return;
  }
  warned.add(scope);
  logger.warn({ ...fields, error: data.error, needed: scope }, msg);
}

/**
 * The direct message Slack already holds from a try that got no answer, if any. Slack refusing to say
 * (a missing channels:history or groups:history scope) sends it again, at worst a second time, logged.
 */
async function lookUpDirect(web: WebClient, n: Extract<SlackNotification, { kind: 'alert_direct' }>, logger: Logger, warned: Set<string>): Promise<Delivered | undefined> {
  try {
    const found = await findDirect(web, { channel: n.channel, directId: n.directId });
    logger.info({ directId: n.directId, found: found !== undefined },
      found ? 'a direct alert message that got no answer had reached Slack; not sending it again' : 'a direct alert message that got no answer is not in Slack; sending it');
    return found;
  } catch (err) {
    if ((err as { code?: string })?.code !== ErrorCode.PlatformError) throw err;
    lookUpRefused(logger, warned, err, { directId: n.directId }, 'a direct alert message that got no answer');
    return undefined;
  }
}

/**
 * The page Slack already holds from a try nobody recorded, if any. Slack refusing to answer (a
 * missing scope, say), or no DM with the person recorded yet (no earlier page to them was), must not
 * keep the person from being paged: it is logged, and the page goes out, at worst a second time. Not
 * reaching Slack is thrown: the page is tried again later.
 */
async function lookUpPage(web: WebClient, n: Extract<SlackNotification, { kind: 'alert_page' }>, logger: Logger, warned: Set<string>): Promise<Delivered | undefined> {
  if (!n.dmChannel) {
    logger.warn({ deliveryId: n.deliveryId, user: n.user },
      'could not check whether an interrupted page reached Slack: no earlier page to this person recorded their DM; sending it (it may arrive twice)');
    return undefined;
  }
  try {
    const found = await findPage(web, { channel: n.dmChannel, deliveryId: n.deliveryId });
    logger.info({ deliveryId: n.deliveryId, user: n.user, found: found !== undefined },
      found ? 'an interrupted page had reached Slack; not sending it again' : 'an interrupted page is not in Slack; sending it');
    return found;
  } catch (err) {
    if ((err as { code?: string })?.code !== ErrorCode.PlatformError) throw err;
    lookUpRefused(logger, warned, err, { deliveryId: n.deliveryId, user: n.user }, 'an interrupted page');
    return undefined;
  }
}

/**
 * The announcement an earlier attempt left in the request's thread, if any. Slack refusing to say (a
 * missing history scope, a thread it cannot find) posts it, at worst a second time, logged; not
 * reaching Slack is thrown: the attempt fails and is tried again later.
 */
async function lookUpAnnouncement(web: WebClient, n: Extract<SlackNotification, { kind: 'mode_changed' }>, logger: Logger, warned: Set<string>): Promise<Delivered | undefined> {
  if (!n.thread || !n.announce) return undefined;
  const fields = { requestId: n.announce.requestId, channel: n.thread.channel, threadTs: n.thread.ts };
  try {
    const found = await findAnnouncement(web, { channel: n.thread.channel, threadTs: n.thread.ts, requestId: n.announce.requestId });
    logger.info({ ...fields, found: found !== undefined },
      found ? 'a request\'s announcement an earlier attempt did not record is in its thread; not posting it again' : 'a request\'s announcement an earlier attempt did not record is not in its thread; posting it');
    return found;
  } catch (err) {
    if ((err as { code?: string })?.code !== ErrorCode.PlatformError) throw err;
    lookUpRefused(logger, warned, err, fields, 'a request\'s announcement');
    return undefined;
  }
}

export function slackNotifier(deps: { config: Config; logger: Logger; client?: WebClient }): Notifier {
  const carriage = slackCarriage(deps.config);
  const web = () => deps.client ?? slackWebClient(deps.config);
  /** Scopes a history lookup found missing, already warned about. */
  const warnedScopes = new Set<string>();
  return {
    carries: carriedKinds(carriage),
    async notify(db: Db, n: Notification): Promise<Delivered> {
      if (n.kind === 'alert_email') throw new NotCarriedError('slack', n.kind, String(carriage.alert_email));
      assertCarried('slack', carriage, n.kind);
      const message = withBadge(renderNotification(n), raisedState(n) ?? await readBadgeState({ db, config: deps.config, logger: deps.logger }));
      const opsChannel = deps.config.SLACK_OPS_CHANNEL ?? '';
      if (n.kind === 'mode_changed' && n.announce) {
        try {
          if (n.announce.checkSent) {
            const found = await lookUpAnnouncement(web(), n, deps.logger, warnedScopes);
            if (found) return found;
          }
        } catch (err) {
          throw translate(err, deps.config, ANNOUNCE_PERMANENT_ERRORS);
        }
        // The announcer's last word before the post: is this attempt still the one that may post?
        await n.announce.beforePost?.();
        try {
          return await send(web(), n, message, opsChannel);
        } catch (err) {
          throw translate(err, deps.config, ANNOUNCE_PERMANENT_ERRORS);
        }
      }
      if (fromOutbox(n)) {
        try {
          if (n.kind === 'alert_page' && n.checkSent) {
            const found = await lookUpPage(web(), n, deps.logger, warnedScopes);
            if (found) return found;
          }
          if (n.kind === 'alert_direct' && n.checkSent) {
            const found = await lookUpDirect(web(), n, deps.logger, warnedScopes);
            if (found) return found;
          }
          return await send(web(), n, message, opsChannel);
        } catch (err) {
          throw translate(err, deps.config);
        }
      }
      try {
        return await waitOutRateLimits(() => send(web(), n, message, opsChannel));
      } catch (err) {
        if (!n.kind.startsWith('mode_') || err instanceof AppError) throw err;
        if (isSlackTimeout(err)) {
          deps.logger.warn({ err, kind: n.kind }, 'Slack chat.postMessage timed out');
          throw new AppError('retryable', 'slack_post_failed', `No answer from Slack within ${describeDuration(deps.config.SLACK_API_TIMEOUT)}: the message may have been posted.`, { cause: err });
        }
        // The live switch's callers show the refusal to the person who asked.
        const code = (err as { data?: { error?: string } }).data?.error ?? (err as Error).message;
        deps.logger.warn({ err, kind: n.kind }, 'Slack chat.postMessage failed');
        throw new AppError('retryable', 'slack_post_failed', `Slack refused the message (${code})`, { cause: err });
      }
    },
  };
}
