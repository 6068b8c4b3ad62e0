// /exit <trade-id|all> and `ctb exit <trade-id|all> [--yes]`: an operator closes one open trade (or
// all) at market through the engine's own order path. Unconfirmed, it only says what it would sell;
// confirmed, it hands the exit to the engine's process and answers pending, then done or failed.
import { z } from 'zod';
import type { Mode } from '../src/services/bot-state.js';
import { AppError } from '../src/errors.js';
import { cleanReason } from '../src/services/entries-pause.js';
import {
  awaitExit, exitReplyPosted, parseExitTarget, previewExit, requestExit, showExitAnswer, type ExitRequestState, type ExitTarget, type ExitTargetRow,
} from '../src/services/exits/request-exit.js';
import { defineCommand, type CommandContext } from './define.js';

export const EXIT_WAIT_SECONDS = 30;
/** How long Slack's button waits on for the engine's answer after its first (pending) reply. */
export const EXIT_ANSWER_LATER_SECONDS = EXIT_WAIT_SECONDS * 2;

export interface ExitResult {
  ok: boolean;
  target: ExitTarget;
  status: 'needs_confirmation' | 'nothing_open' | 'pending' | 'done' | 'failed';
  /** The book the exit trades in: the engine's, as the database has it (request-exit.ts exitBook). */
  mode: Mode;
  trades: ExitTargetRow[];
  /** While the engine trades live: the open paper positions `all` left out, as the live switch says it; else null. */
  paperSetAside: string | null;
  /** While the engine trades paper: the open live positions `all` left out; else null. */
  liveLeftOut: string | null;
  /** Why no engine takes the exit now (its lease stale): queued, pending until it does; else null. */
  engineNote: string | null;
  request: ExitRequestState | null;
}

export const exitCommand = defineCommand({
  name: 'exit',
  summary: 'close one open trade (or all) at market through the engine’s order path; needs confirming',
  role: 'operator',
  args: z.object({
    target: z.string({ error: 'expected a trade id or "all"' }),
    confirmed: z.boolean().optional().default(false),
    reason: z.string().optional(),
    /** What the operator was shown (Slack's button): the exit is refused when the book changed, and `all` asks only for these trades. */
    shown: z.object({ mode: z.enum(['paper', 'live']), tradeIds: z.array(z.number().int().positive()).max(10_000).optional() }).strict().optional(),
    /** How long to wait for the engine's answer before reporting the request as pending. */
    waitSeconds: z.coerce.number().int('expected whole seconds').min(0, 'expected 0 to 300 seconds').max(300, 'expected 0 to 300 seconds').optional().default(EXIT_WAIT_SECONDS),
    /** How long the caller waits on for the answer itself after this (awaitExitAnswer, Slack's button): a pending exit is not yet left to the alert channel. */
    answerLaterSeconds: z.coerce.number().int('expected whole seconds').min(0, 'expected 0 to 300 seconds').max(300, 'expected 0 to 300 seconds').optional().default(0),
  }).strict(),
  async run(ctx, args): Promise<ExitResult> {
    const target = parseExitTarget(args.target);
    const { trades: rows, ...preview } = await previewExit(ctx, target);
    if (args.confirmed && args.shown && args.shown.mode !== preview.mode) {
      throw new AppError('conflict', 'exit_book_changed',
        `The exit you confirmed listed the ${args.shown.mode} book, but the bot trades ${preview.mode} now: nothing was sent.`, { hint: 'Run /exit again to see what it would sell now.' });
    }
    if (rows.length === 0) return { ok: true, target, status: 'nothing_open', trades: [], ...preview, request: null };
    // A preview is what was asked for without --yes: not a failed check nor work refused (exit 0, README).
    if (!args.confirmed) return { ok: true, target, status: 'needs_confirmation', trades: rows, ...preview, request: null };
    const tradeIds = args.shown?.tradeIds ?? rows.map((r) => r.id);
    // The request carries the whole wait: finished after it (this process may die before), the alert channel is told.
    const requested = await requestExit(ctx, ctx.actor, target, cleanReason(args.reason), { mode: preview.mode, tradeIds }, (args.waitSeconds + args.answerLaterSeconds) * 1000);
    const request = await awaitExit(ctx, requested, args.waitSeconds * 1000, { last: args.answerLaterSeconds === 0 });
    // Marked shown by whoever shows it, once it did: the terminal once it printed it (exitPrinted), Slack's button once its message shows it (exitShown).
    // What it asked: the trades listed, less those another queued exit already closes (request.skipped says which).
    const listed = new Set(tradeIds.filter((id) => !request.skippedTradeIds?.includes(id)));
    const asked = target === 'all' ? rows.filter((r) => listed.has(r.id)) : rows;
    return { ok: request.status === 'done', target, status: request.status, trades: asked, ...preview, request };
  },
});

/**
 * The rest of a confirmed exit's answer when its first reply did not wait (Slack's button answers
 * pending at once): the engine's answer, read until it comes or `waitMs` passes. Part of the exit
 * already run through runCommand and trailed; it sends nothing — one still pending then is left to
 * the alert channel (or closed, when it waited past EXIT_REQUEST_TTL).
 */
export function awaitExitAnswer(ctx: Pick<CommandContext, 'db' | 'clock' | 'logger' | 'config' | 'alerts'>, request: ExitRequestState, waitMs: number): Promise<ExitRequestState> {
  return awaitExit(ctx, request, waitMs, { last: true });
}

/** The exit as it stands now, read once (nothing is closed or told). */
export function exitAnswerNow(ctx: Pick<CommandContext, 'db' | 'clock' | 'logger' | 'config' | 'alerts'>, request: ExitRequestState): Promise<ExitRequestState> {
  return awaitExit(ctx, request, 0, { last: false });
}

/**
 * Shows this answer with `show` (Slack's message says done or failed) and marks it shown once it did:
 * the alert channel is not told it too. While it shows, no sweep tells it (request-exit.ts showExitAnswer).
 */
export function exitShown(ctx: Pick<CommandContext, 'db' | 'logger'>, request: ExitRequestState, show: () => Promise<void> = async () => undefined): Promise<void> {
  return showExitAnswer(ctx, request, show);
}

/**
 * The terminal prints the exit's answer with `print`, which settles once stdout took it; marked shown
 * only then. One that never reached the reader (a shell that died first, a pipe closed during the
 * wait) is not marked: the alert channel is told it.
 */
export async function exitPrinted(ctx: Pick<CommandContext, 'db' | 'logger'>, result: ExitResult, print: () => Promise<void>): Promise<void> {
  if (!result.request) return print();
  try {
    await showExitAnswer(ctx, result.request, print);
  } catch (err) {
    throw new AppError('internal', 'exit_answer_not_printed',
      `The answer of exit request #${result.request.requestId} could not be printed (${(err as Error)?.message ?? String(err)}): the alert channel is told how it ends.`);
  }
}

/**
 * Slack's button posted the message that shows this exit: updated with the answer if the exit ends
 * after the button stopped waiting. False when not recorded: nothing updates it, the alert channel is told.
 */
export function exitMessagePosted(ctx: Pick<CommandContext, 'db' | 'logger'>, request: ExitRequestState, message: { channel: string; ts: string }): Promise<boolean> {
  return exitReplyPosted(ctx, request.requestId, message);
}
