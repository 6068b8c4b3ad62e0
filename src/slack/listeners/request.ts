// Builds the one request object each listener gets (context, actor, client, badged replier, a
// runCommand bound to the actor) and runs a handler under the Slack transport's one error handler.
import type { webApi } from '@slack/bolt';
import type { z } from 'zod';
import type { Command, CommandResult } from '../../../commands/define.js';
import { EXIT_ANSWER_LATER_SECONDS } from '../../../commands/exit.js';
import { runCommand } from '../../../commands/run-command.js';
import type { Actor, AppContext } from '../../app/context.js';
import { childOnFirstUse } from '../../logger.js';
import type { StatusRows } from '../../db/queries/mode-status.js';
import type { StatusReadDeps } from '../../services/mode-status.js';
import { createReplier, type Replier } from '../reply.js';
import type { ResponseUrlPoster } from '../response-url.js';
import { describeSlackError } from '../report-error.js';
import type { SlackRequest, SlackWaits } from './types.js';

export interface RequestSource {
  ctx: AppContext;
  client: webApi.WebClient;
  userId: string;
  deliveryKey?: string | undefined;
  respond?: ResponseUrlPoster | undefined;
  /** When Slack sent the request (ms on ctx.clock): the response_url's life runs from it (reply.ts). */
  receivedAt?: number | undefined;
  channel?: string | undefined;
  threadTs?: string | undefined;
  /** The status rows the delivery's claim read (a status command): its command's first status read takes them. */
  statusRead?: StatusRows | undefined;
  /** Default SLACK_WAITS. */
  waits?: SlackWaits | undefined;
}

/** The waits the bot ships with: the exit button waits its minute for the engine's answer. */
export const SLACK_WAITS: SlackWaits = Object.freeze({ exitAnswerSeconds: EXIT_ANSWER_LATER_SECONDS });

export interface BuiltRequest extends SlackRequest {
  /** How many times run() was called: the dispatcher logs what never reached runCommand. */
  runs(): number;
}

export function slackActor(userId: string, deliveryKey?: string): Actor {
  return { id: userId, source: 'slack', ...(deliveryKey ? { requestId: deliveryKey } : {}) };
}

export function buildRequest(src: RequestSource): BuiltRequest {
  const actor = slackActor(src.userId, src.deliveryKey);
  // Made when something logs: most requests write no line of their own.
  const logger = childOnFirstUse(src.ctx.logger, { slackUser: src.userId, ...(src.deliveryKey ? { delivery: src.deliveryKey } : {}) });
  const reply: Replier = createReplier({
    ctx: { ...src.ctx, logger },
    client: src.client,
    respond: src.respond,
    channel: src.channel,
    threadTs: src.threadTs,
    user: src.userId,
    receivedAt: src.receivedAt,
  });
  let runs = 0;
  // Taken once: a second status read in the same command goes to the database.
  let statusRead = src.statusRead;
  const commandCtx: AppContext & StatusReadDeps = {
    ...src.ctx,
    logger,
    ...(statusRead
      ? {
          takeStatusRead() {
            const rows = statusRead;
            statusRead = undefined;
            return rows;
          },
        }
      : {}),
  };
  return {
    ctx: src.ctx,
    actor,
    client: src.client,
    reply,
    logger,
    waits: src.waits ?? SLACK_WAITS,
    runs() {
      return runs;
    },
    run<S extends z.ZodType, R extends CommandResult>(command: Command<S, R>, rawArgs: unknown, opts: { onKillProgress?: (line: string) => void } = {}): Promise<R> {
      runs += 1;
      // The bot's context is shared by every request: the progress goes to a copy of its kill ports, this request's alone.
      const ctx = opts.onKillProgress ? { ...commandCtx, kill: { ...commandCtx.kill, onProgress: opts.onKillProgress } } : commandCtx;
      return runCommand(command, ctx, actor, rawArgs);
    },
  };
}

/** Runs a handler; any failure is logged with a reference id and answered ephemerally with it. */
export async function handleSafely(req: SlackRequest, where: Record<string, unknown>, handler: () => Promise<void>): Promise<void> {
  try {
    await handler();
  } catch (err) {
    await replyWithError(req, err, where);
  }
}

export async function replyWithError(req: Pick<SlackRequest, 'logger' | 'reply'>, err: unknown, where: Record<string, unknown>): Promise<void> {
  const { reference, message } = describeSlackError(req.logger, err, where);
  try {
    await req.reply.ephemeral(message);
  } catch (replyErr) {
    req.logger.error({ err: replyErr, reference }, `could not send the error reply for ${reference}`);
  }
}
