// Block Kit for /exit: the confirm step (what would be sold, one danger button behind Slack's
// confirm dialog) and the exit's progress (pending → done / failed, with what happened to each
// trade). Pure functions of the command's result.
import type { ExitResult } from '../../../commands/exit.js';
import { price, trimmed } from '../../domain/amount-text.js';
import { describeExit } from '../../domain/exit-outcome.js';
import type { ExitRequestState } from '../../domain/exit-request-state.js';
import { actorLabel } from './format.js';
import { context, escapeText, fitText, listSection, section, type KnownBlock, type SlackMessage } from './message.js';

export const EXIT_CONFIRM_ACTION = 'exit_trade_confirm';

/**
 * The button's value: what the click confirms — the target, the reason typed with /exit, the book
 * listed (m) and, for `all`, the trade ids listed (i), left out only when they do not fit the value.
 */
export interface ExitButtonValue {
  t: number | 'all';
  r?: string;
  m?: 'paper' | 'live';
  i?: number[];
}

/** Slack's limit on a button's value. */
const BUTTON_VALUE_LIMIT = 2000;

function buttonValueOf(r: ExitResult, reason: string | undefined): string {
  const value: ExitButtonValue = { t: r.target, ...(reason ? { r: reason.slice(0, 500) } : {}), m: r.mode };
  const withIds = JSON.stringify({ ...value, ...(r.target === 'all' ? { i: r.trades.map((t) => t.id) } : {}) });
  return withIds.length <= BUTTON_VALUE_LIMIT ? withIds : JSON.stringify(value);
}

const what = (r: Pick<ExitResult, 'target'>) => (r.target === 'all' ? 'every open trade' : `trade #${r.target}`);

export function renderExitConfirm(r: ExitResult, reason: string | undefined): SlackMessage {
  // The other book's open positions left out, and how they are exited; why no engine takes it now.
  const setAside = r.paperSetAside ? `${r.paperSetAside} Exit them after going back to paper (\`/mode paper\`).` : r.liveLeftOut;
  const engine = r.engineNote ? [context(`:warning: ${escapeText(r.engineNote)}`)] : [];
  if (r.status === 'nothing_open') {
    const said = setAside ? `No ${r.mode} position open: nothing to exit ${r.mode === 'live' ? 'live' : 'in paper'}. ${setAside}` : 'No open trades: nothing to exit.';
    return { text: fitText(said, 2900), blocks: [section(escapeText(said)), ...engine] };
  }
  const lines = r.trades.map((t) => `• \`#${t.id}\` *${escapeText(t.symbol)}* ${trimmed(t.quantity)} (entry ${price(t.entryPrice)}, ${escapeText(t.strategy)}, ${t.book})`);
  const label = r.target === 'all' ? `Exit all ${r.trades.length}` : `Exit #${r.target}`;
  const blocks: KnownBlock[] = [
    listSection(`*Exit ${what(r)}?* This sells at market, through the engine's order path:`, lines, { more: '`/trades`' }),
    {
      type: 'actions',
      block_id: 'exit_confirm',
      elements: [{
        type: 'button', action_id: EXIT_CONFIRM_ACTION, style: 'danger', value: buttonValueOf(r, reason),
        text: { type: 'plain_text', text: label },
        confirm: {
          title: { type: 'plain_text', text: r.target === 'all' ? 'Exit every open trade?' : `Exit trade #${r.target}?` },
          text: { type: 'mrkdwn', text: `This sells ${r.trades.length === 1 ? 'the position' : `${r.trades.length} positions`} at market now (live on Kraken when the engine trades live). It cannot be undone.` },
          confirm: { type: 'plain_text', text: label },
          deny: { type: 'plain_text', text: 'Cancel' },
        },
      }],
    },
    ...(setAside ? [context(`:information_source: Left out: ${escapeText(setAside)}`)] : []),
    ...engine,
    context('Nothing is sent until you confirm.'),
  ];
  return { text: `Exit ${what(r)}? Confirm with the button: nothing is sent until then.`, blocks };
}

/** `updated`: the message is recorded on its request, so whoever tells the exit's end updates it (tell-exit.ts); else the alert channel is told. */
export function renderExitProgress(r: ExitResult, by: string, opts: { updated?: boolean } = {}): SlackMessage {
  const q = r.request;
  if (!q) return renderExitConfirm(r, undefined);
  return renderExitRequest({ target: r.target, request: q, engineNote: r.engineNote, updated: opts.updated === true }, by);
}

/**
 * A confirmed exit's message: pending (how long queued; still pending after the button's wait, the
 * message itself is brought up to the answer when it is recorded on its request — `updated` — else the
 * alert channel is told: tell-exit.ts), then done / failed with each trade's outcome.
 */
export function renderExitRequest(r: { target: ExitResult['target']; request: ExitRequestState; engineNote: string | null; updated?: boolean }, by: string): SlackMessage {
  const q = r.request;
  const head = q.status === 'pending'
    ? `:hourglass_flowing_sand: *Exit of ${what(r)}* requested by ${actorLabel(by)} (request #${q.requestId}${q.joined ? ', already pending' : ''}): *pending* — waiting for the engine's process`
    : q.status === 'done'
      ? `:white_check_mark: *Exit of ${what(r)}* by ${actorLabel(by)} (request #${q.requestId}): *done*`
      : `:x: *Exit of ${what(r)}* by ${actorLabel(by)} (request #${q.requestId}): *failed*`;
  const lines = q.results.length > 0 ? q.results.map((x) => `• ${escapeText(describeExit(x))}`) : q.summary && q.status !== 'pending' ? [escapeText(q.summary)] : [];
  const text = `Exit of ${what(r)} (request #${q.requestId}): ${q.status}${q.summary && q.status !== 'pending' ? ` — ${q.summary}` : ''}`;
  const engine = q.status === 'pending' && r.engineNote ? [context(`:warning: ${escapeText(r.engineNote)}`)] : [];
  const later = !q.toldLater ? '' : r.updated === true
    ? ' This message is updated with how it ends (or, when it cannot be, the alert channel is told).'
    : ' The alert channel is told how it ends (this message is not updated).';
  const queued = q.status === 'pending' && q.queued !== null ? [context(`Still queued: ${escapeText(q.queued)}.${later}`)] : [];
  const skipped = q.skipped ? [context(`:information_source: Left out: ${escapeText(q.skipped)}`)] : [];
  return { text: fitText(text, 2900), blocks: [listSection(head, lines, { more: '`ctb trades`' }), ...skipped, ...queued, ...engine] };
}
