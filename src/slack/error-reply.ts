// Owns the app-wide error handler's reply (create-app.ts's backstop): the error, with its reference
// id, shown to the one who asked and no one else. It goes through the request's replier, so it keeps
// to the response_url's five uses and 30 minutes (reply.ts): queued `risk` work can fail long after
// its interaction, and then the reply goes by chat.postEphemeral to the asker in the channel.
import type { webApi } from '@slack/bolt';
import type { AppContext } from '../app/context.js';
import { scrubberFor } from '../secret-scrub.js';
import { createReplier } from './reply.js';
import { responseUrlPoster } from './response-url.js';
import type { SlackMessage } from './views/message.js';
import { payloadText } from './payload-field.js';

/** The fields of a slash command's or an interaction's payload that say who asked, and where. */
interface AskerFields {
  response_url?: unknown;
  channel_id?: unknown;
  user_id?: unknown;
  channel?: { id?: unknown };
  user?: { id?: unknown };
  message?: { thread_ts?: unknown };
}


/**
 * Sends `message` ephemerally to the person behind `body`. Only a request with a response_url is
 * answered (an event has none, and nobody asked). Throws when neither the response_url nor the bot
 * token can reach that person alone.
 */
export async function sendErrorReply(opts: {
  ctx: Pick<AppContext, 'db' | 'config' | 'logger'> & Partial<Pick<AppContext, 'clock'>>;
  client: webApi.WebClient;
  body: unknown;
  message: SlackMessage;
  /** When the request reached this process (ms on ctx.clock), if known. */
  receivedAt?: number | undefined;
}): Promise<void> {
  const b = (opts.body ?? {}) as AskerFields;
  const respond = responseUrlPoster(b.response_url, scrubberFor(opts.ctx.config));
  if (!respond) return;
  const replier = createReplier({
    ctx: opts.ctx,
    client: opts.client,
    respond,
    channel: payloadText(b.channel_id) ?? payloadText(b.channel?.id),
    user: payloadText(b.user_id) ?? payloadText(b.user?.id),
    threadTs: payloadText(b.message?.thread_ts),
    receivedAt: opts.receivedAt,
  });
  await replier.ephemeral(opts.message);
}
