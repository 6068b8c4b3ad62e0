// /exit <trade-id|all> [reason]: an operator closes one trade (or all). The slash command only shows
// what would be sold, with a button behind Slack's confirm dialog; the click sends the exit to the
// engine's process and posts its progress in the channel — pending, then updated to done or failed.
// Slack retries are dropped by the delivery guard; a second click joins the exit still pending.
import { awaitExitAnswer, EXIT_ANSWER_LATER_SECONDS, exitAnswerNow, exitCommand, exitMessagePosted, exitShown } from '../../../commands/exit.js';
import { EXIT_CONFIRM_ACTION, renderExitConfirm, renderExitProgress, type ExitButtonValue } from '../views/exit.js';
import { usageError } from './routes.js';
import type { ActionRow, SlashSubcommand } from './types.js';

export const exitRoute: SlashSubcommand = {
  name: null,
  usage: '/exit <trade-id|all> [reason]',
  summary: 'Close one open trade (or all) at market through the engine, after a confirmation',
  role: exitCommand.role,
  async handle(req) {
    const [target, ...why] = req.words;
    if (!target) throw usageError('`/exit` needs a trade id (see `/trades`) or `all`.');
    const reason = why.join(' ').trim() || undefined;
    const preview = await req.run(exitCommand, { target, confirmed: false, ...(reason ? { reason } : {}) });
    await req.reply.ephemeral(renderExitConfirm(preview, reason));
  },
};

function buttonValue(raw: unknown): ExitButtonValue {
  try {
    const v = JSON.parse(String(raw)) as ExitButtonValue;
    if (v.t === 'all' || (typeof v.t === 'number' && Number.isInteger(v.t) && v.t > 0)) return v;
  } catch {
    // fall through
  }
  throw usageError('This exit button carries no trade: run `/exit <trade-id|all>` again.');
}

export const exitConfirmAction: ActionRow = {
  actionId: EXIT_CONFIRM_ACTION,
  async handle(req) {
    const v = buttonValue('value' in req.action ? req.action.value : undefined);
    // The button sits behind Slack's confirm dialog: a click is the confirmation.
    // What the preview listed: the exit is refused in another book, and `all` closes only those.
    const shown = v.m ? { shown: { mode: v.m, ...(Array.isArray(v.i) ? { tradeIds: v.i } : {}) } } : {};
    const result = await req.run(exitCommand, { target: String(v.t), confirmed: true, waitSeconds: 0, answerLaterSeconds: EXIT_ANSWER_LATER_SECONDS, ...(v.r ? { reason: v.r } : {}), ...shown });
    const channel = req.body.channel?.id;
    const posted = channel ? await req.reply.post(channel, renderExitProgress(result, req.actor.id)) : null;
    if (!posted) await req.reply.inChannel(renderExitProgress(result, req.actor.id));
    if (!result.request) return;
    if (result.request.status !== 'pending') return exitShown(req.ctx, result.request);
    // Recorded before the wait: if this process dies or stops waiting first, whoever tells the answer updates this message.
    if (posted) await exitMessagePosted(req.ctx, result.request, posted);
    let request = await awaitExitAnswer(req.ctx, result.request, EXIT_ANSWER_LATER_SECONDS * 1000);
    const render = (r: typeof request) => renderExitProgress({ ...result, status: r.status, ok: r.status === 'done', request: r }, req.actor.id);
    if (posted) {
      await req.reply.update(posted.channel, posted.ts, render(request));
      // The sweep brings this message to the answer once the exit ends; if it ended while this pending
      // update was on its way, the sweep's may have landed first: read it again, so the answer lands last.
      if (request.status === 'pending') {
        const now = await exitAnswerNow(req.ctx, request);
        if (now.status !== 'pending') {
          request = now;
          await req.reply.update(posted.channel, posted.ts, render(request));
        }
      }
    } else await req.reply.inChannel(render(request));
    // Shown only once Slack took the message: one that failed leaves the outcome to the alert channel.
    await exitShown(req.ctx, request);
  },
};
