// Owns delivering the alert pipeline's notifications (alerts/notifier.ts) to Slack: renders each
// with src/slack/views/alert.ts, adds the paper/LIVE badge every bot message carries, and sends it
// with the process's one Web API client. A 429 is handed back with Retry-After (the outbox closes
// the lane that long instead of sleeping); any other failure is retried by the worker's backoff.
import type { AlertNotification, AlertNotifier, Delivered } from '../alerts/notifier.js';
import type { Config } from '../config/env.js';
import type { Db } from '../db/client.js';
import type { Logger } from '../logger.js';
import type { WebClient } from '@slack/web-api';
import { ErrorCode } from '@slack/web-api';
import { readBadgeState } from './reply.js';
import { parentMessage, repeatsMessage } from './views/alert.js';
import { withBadge } from './views/badge.js';
import { section, type SlackMessage } from './views/message.js';
import { rateLimitSeconds, slackWebClient } from './web-client.js';

export class SlackDeliveryError extends Error {
  constructor(message: string, readonly retryAfterMs?: number) {
    super(message);
    this.name = 'SlackDeliveryError';
  }
}

function translate(err: unknown): SlackDeliveryError {
  if (err instanceof SlackDeliveryError) return err;
  const seconds = rateLimitSeconds(err);
  if (seconds !== undefined) return new SlackDeliveryError(`slack rate limited (Retry-After ${seconds}s)`, seconds * 1000);
  const e = err as { code?: string; data?: { error?: string }; message?: string };
  if (e?.code === ErrorCode.PlatformError) return new SlackDeliveryError(`slack refused: ${e.data?.error ?? 'unknown error'}`);
  return new SlackDeliveryError(`slack unreachable: ${e?.message ?? String(err)}`);
}

/** Pure: the message a notification reads as, before the badge. */
export function renderAlertNotification(n: AlertNotification): SlackMessage {
  switch (n.kind) {
    case 'alert_raised':
    case 'alert_updated':
      return parentMessage(n.group, n.latest, n.now);
    case 'alert_repeated': {
      const text = repeatsMessage(n.events, n.total);
      return { text, blocks: [section(text)] };
    }
    case 'alert_note':
    case 'alert_page':
      return { text: n.text, blocks: [section(n.text)] };
  }
}

export function slackAlertNotifier(deps: { config: Config; logger: Logger; client?: WebClient }): AlertNotifier {
  const client = () => deps.client ?? slackWebClient(deps.config);
  return {
    async notify(db: Db, n: AlertNotification): Promise<Delivered> {
      const message = withBadge(renderAlertNotification(n), await readBadgeState({ db, config: deps.config, logger: deps.logger }));
      try {
        if (n.kind === 'alert_updated') {
          await client().chat.update({ channel: n.channel, ts: n.ts, text: message.text, blocks: message.blocks });
          return { channel: n.channel, ts: n.ts };
        }
        const channel = n.kind === 'alert_page' ? n.user : n.channel;
        const threadTs = n.kind === 'alert_repeated' || n.kind === 'alert_note' ? n.threadTs : undefined;
        const res = await client().chat.postMessage({
          channel, text: message.text, blocks: message.blocks, unfurl_links: false, ...(threadTs ? { thread_ts: threadTs } : {}),
        });
        if (!res.ts) throw new SlackDeliveryError('slack answered without a message ts');
        return { channel: String(res.channel ?? channel), ts: res.ts };
      } catch (err) {
        throw translate(err);
      }
    },
  };
}
