// Owns the alert pipeline's use of Slack: post, post in a thread, update a parent. Slack errors are
// translated here into DeliveryFailure: a 429 carries Retry-After (the queue waits it out instead
// of dropping), everything else is retried with backoff by the worker.
import { ErrorCode, type WebClient } from '@slack/web-api';
import type { Config } from '../config/env.js';
import { createSlackWebClient } from '../slack/web-client.js';

export interface SlackMessage {
  channel: string;
  text: string;
  blocks?: unknown[];
  threadTs?: string;
}

export interface SlackSender {
  post(message: SlackMessage): Promise<{ channel: string; ts: string }>;
  update(message: { channel: string; ts: string; text: string; blocks?: unknown[] }): Promise<void>;
}

export class DeliveryFailure extends Error {
  constructor(message: string, readonly retryAfterMs?: number) {
    super(message);
    this.name = 'DeliveryFailure';
  }
}

function translate(err: unknown): DeliveryFailure {
  const e = err as { code?: string; retryAfter?: number; data?: { error?: string }; message?: string };
  if (e?.code === ErrorCode.RateLimitedError) {
    const seconds = Number.isFinite(e.retryAfter) && (e.retryAfter ?? 0) > 0 ? e.retryAfter! : 1;
    return new DeliveryFailure(`slack rate limited (Retry-After ${seconds}s)`, seconds * 1000);
  }
  if (e?.code === ErrorCode.PlatformError) return new DeliveryFailure(`slack refused: ${e.data?.error ?? 'unknown error'}`);
  return new DeliveryFailure(`slack unreachable: ${e?.message ?? String(err)}`);
}

export function slackSenderFrom(client: WebClient): SlackSender {
  return {
    async post(m) {
      try {
        const res = await client.chat.postMessage({
          channel: m.channel,
          text: m.text,
          ...(m.blocks ? { blocks: m.blocks as never } : {}),
          ...(m.threadTs ? { thread_ts: m.threadTs } : {}),
          unfurl_links: false,
        });
        if (!res.ts) throw new DeliveryFailure('slack answered without a message ts');
        return { channel: String(res.channel ?? m.channel), ts: res.ts };
      } catch (err) {
        throw err instanceof DeliveryFailure ? err : translate(err);
      }
    },
    async update(m) {
      try {
        await client.chat.update({ channel: m.channel, ts: m.ts, text: m.text, ...(m.blocks ? { blocks: m.blocks as never } : {}) });
      } catch (err) {
        throw translate(err);
      }
    },
  };
}

/** The sender for the configured workspace; 429s are handed back to the queue, never slept on. */
export function createAlertSlackSender(config: Config): SlackSender {
  return slackSenderFrom(createSlackWebClient(config, { rejectRateLimitedCalls: true }));
}
