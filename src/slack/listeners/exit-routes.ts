// /exit <trade-id|all> [reason]: an operator closes one trade (or all). The slash command only shows
// what would be sold, with a button behind Slack's confirm dialog; the click sends the exit to the
// engine's process and posts its progress in the channel — pending, then updated to done or failed.
// Slack retries are dropped by the delivery guard; a second click joins the exit still pending.
import { awaitExitAnswer, exitAnswerNow, exitCommand, exitMessagePosted, exitShown } from '../../../commands/exit.js';
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
    // It answers pending at once and waits on for the answer itself (req.waits: its minute as shipped).
    const laterSeconds = req.waits.exitAnswerSeconds;
    const result = await req.run(exitCommand, { target: String(v.t), confirmed: true, waitSeconds: 0, answerLaterSeconds: laterSeconds, ...(v.r ? { reason: v.r } : {}), ...shown });
    const channel = req.body.channel?.id;
    const first = renderExitProgress(result, req.actor.id);
    const answered = result.request !== null && result.request.status !== 'pending';
    // An answer read at the click is held while this message shows it, and marked shown once it did.
    let posted: { channel: string; ts: string } | null = null;
    const postFirst = async () => {
      posted = channel ? await req.reply.post(channel, first) : null;
      if (!posted) await req.reply.inChannel(first);
    };
    if (result.request && answered) return exitShown(req.ctx, result.request, postFirst);
    await postFirst();
    if (!result.request) return;
    const message = posted as { channel: string; ts: string } | null;
    // Recorded before the wait: if this process dies or stops waiting first, whoever tells the answer
    // updates this message. Not recorded (posted through response_url, or the record failed), nothing
    // does: the message then says the alert channel is told.
    const updated = message ? await exitMessagePosted(req.ctx, result.request, message) : false;
    let request = await awaitExitAnswer(req.ctx, result.request, laterSeconds * 1000);
    const render = (r: typeof request) => renderExitProgress({ ...result, status: r.status, ok: r.status === 'done', request: r }, req.actor.id, { updated });
    // Shown only once Slack took the message: one that failed leaves the outcome to the alert channel.
    // While this shows an answer, no sweep tells it (however slow Slack is), and it is marked shown once it did.
    if (!message) return exitShown(req.ctx, request, () => req.reply.inChannel(render(request)));
    await exitShown(req.ctx, request, () => req.reply.update(message.channel, message.ts, render(request)));
    // The sweep brings this message to the answer once the exit ends; if it ended while this pending
    // update was on its way, the sweep's may have landed first: read it again, so the answer lands last.
    if (request.status !== 'pending') return;
    request = await exitAnswerNow(req.ctx, request);
    if (request.status === 'pending') return;
    const answer = request;
    await exitShown(req.ctx, answer, () => req.reply.update(message.channel, message.ts, render(answer)));
  },
};
