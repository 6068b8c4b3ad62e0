// Block Kit for /trades and /balance: open trades with mark, unrealised PnL and age, totals per book,
// the last closed trades; the paper book beside Kraken's balances. Pure functions of result objects.
// Amounts read as `ctb trades` / `ctb balance` show them: money to the cent, PnL signed, crypto as held.
import type { BalanceResult } from '../../../commands/balance.js';
import type { TradesResult } from '../../../commands/trades.js';
import { money, price, signedMoney, signedPct, trimmed } from '../../domain/amount-text.js';
import { inFlightSize } from '../../domain/in-flight-size.js';
import { formatAge } from '../../domain/trade-age.js';
import { describePendingExit } from '../../domain/exit-request-state.js';
import { actorLabel, slackDate } from './format.js';
import { context, escapeText, fields, section, type KnownBlock, type SlackMessage } from './message.js';
import { upperFirst } from '../../domain/venue-name.js';

/** Slack allows 50 blocks a message; one line per trade, in sections well under 3,000 characters. */
export const TRADES_SHOWN = 25;

function chunks(lines: string[], size = 2800): string[] {
  const out: string[] = [];
  let cur = '';
  for (const line of lines) {
    if (cur && cur.length + line.length + 1 > size) {
      out.push(cur);
      cur = '';
    }
    cur = cur ? `${cur}\n${line}` : line;
  }
  if (cur) out.push(cur);
  return out;
}

export function renderTrades(r: TradesResult): SlackMessage {
  const blocks: KnownBlock[] = [];
  if (r.open.length === 0) {
    blocks.push(section('*Open trades*\nNone.'));
  } else {
    const lines = r.open.slice(0, TRADES_SHOWN).map((t) => {
      const mark = t.mark ? `mark ${price(t.mark.price)}` : 'no mark';
      const pnl = t.unrealizedPnl === null ? 'PnL —' : `*${signedMoney(t.unrealizedPnl)}* (${signedPct(t.unrealizedPct)})`;
      const id = t.id === null ? `in flight (${t.inFlight?.note ?? ''})` : t.inFlight ? `#${t.id}, ${t.inFlight.note}` : `#${t.id}`;
      const size = inFlightSize(t);
      return `• \`${id}\` *${escapeText(t.symbol)}* ${t.side} ${size} @ ${price(t.entryPrice)} → ${mark}: ${pnl} · ${formatAge(t.ageSeconds)} · ${escapeText(t.strategy)}, ${t.book}`;
    });
    const more = r.open.length > TRADES_SHOWN ? [`_…and ${r.open.length - TRADES_SHOWN} more: \`ctb trades\`_`] : [];
    chunks([`*Open trades (${r.open.length})*`, ...lines, ...more]).forEach((c) => blocks.push(section(c)));
    blocks.push(fields(r.totals.map((b) => [
      b.book, `${b.open} open, cost ${money(b.costBasis)}\nunrealised ${signedMoney(b.unrealizedPnl)}${b.unmarked > 0 ? ` (${b.unmarked} unmarked)` : ''}`,
    ])));
    if (r.paperSetAside) blocks.push(section(`:information_source: ${escapeText(r.paperSetAside)}`));
  }
  if (r.pendingExits.length > 0) {
    const lines = r.pendingExits.slice(0, TRADES_SHOWN).map((x) => `• request #${x.requestId}: exit of ${escapeText(describePendingExit(x))}, asked by ${actorLabel(x.requestedBy)}: ${escapeText(x.queued)}`);
    const more = r.pendingExits.length > TRADES_SHOWN ? [`_…and ${r.pendingExits.length - TRADES_SHOWN} more: \`ctb trades\`_`] : [];
    chunks([`*Exits queued (${r.pendingExits.length})* — asking again for these trades is refused while they are`, ...lines, ...more]).slice(0, 5).forEach((c) => blocks.push(section(c)));
  }
  if (r.closed) {
    const lines = r.closed.map((t) => `• \`#${t.id}\` *${escapeText(t.symbol)}* ${trimmed(t.quantity)} ${price(t.entryPrice)} → ${price(t.exitPrice)}: *${signedMoney(t.realizedPnl)}* · ${t.exitAt ? slackDate(t.exitAt) : '—'} · ${escapeText(t.strategy)}, ${t.book}`);
    chunks([`*Last ${r.closed.length} closed*`, ...(lines.length ? lines : ['None.'])]).slice(0, 10).forEach((c) => blocks.push(section(c)));
  }
  blocks.push(context(`As of ${slackDate(r.at)} · marks: the engine's last candle, else Kraken's ticker (a replay trade: its book's latest equity snapshot) · \`/exit <id>\` closes one trade (operators)`));
  const text = r.open.length === 0 ? 'No open trades' : `${r.open.length} open trade(s): ${r.totals.map((b) => `${b.book} unrealised ${signedMoney(b.unrealizedPnl)}${b.unmarked > 0 ? ` (${b.unmarked} unmarked)` : ''}`).join(', ')}`;
  return { text, blocks };
}

export function renderBalance(r: BalanceResult): SlackMessage {
  // The quote currency is money, to the cent; other assets as held (as `ctb balance` shows them).
  const amount = (asset: string, v: string | null | undefined) => (asset === r.quote ? money(v) : trimmed(v));
  const paper = r.paper.assets.map((a) => `${a.asset} ${amount(a.asset, a.total)}${a.asset !== r.quote ? ` (≈ ${money(a.value)} ${r.quote})` : ''}`).join('\n');
  const blocks: KnownBlock[] = [
    section(`*Paper book*${r.paper.feed === 'replay' ? ' (replay feed)' : ''}${r.paper.seeded ? '' : ' (not started yet)'} — ${r.paper.openTrades} open trade(s)\n${paper}\nValue: *${money(r.paper.value)} ${r.quote}*`),
  ];
  const k = r.kraken;
  if (k.status === 'no_key') blocks.push(section('*Kraken*\nNo key set: only the paper book is shown.'));
  else if (k.status === 'error') blocks.push(section(`*${escapeText(upperFirst(r.venue))}*\n:x: Could not read the balances — ${escapeText(k.message)}`));
  else {
    const lines = k.assets.map((a) => {
      const [total, free, used, bot, other] = [a.total, a.free, a.used, a.botManaged, a.other].map((v) => amount(a.asset, v));
      return `• *${escapeText(a.asset)}* ${total} (free ${free}, in orders ${used}) — bot-managed ${bot}${a.note ? ` (${a.note})` : ''}${a.shortfall ? ' :warning:' : ''}, other ${other}${a.value ? ` · ≈ ${money(a.value)} ${r.quote}` : ''}`;
    });
    chunks([`*${escapeText(upperFirst(r.venue))}* — ${k.openTrades} open live trade(s)${k.ordersInFlight > 0 ? `, ${k.ordersInFlight} live order(s) in flight with fills` : ''}`, ...lines]).forEach((c) => blocks.push(section(c)));
    blocks.push(fields([['Bot-managed', `${money(k.botManagedValue)} ${r.quote}`], ['Whole account', `${money(k.accountValue)} ${r.quote}`]]));
    if (k.assets.some((a) => a.shortfall)) blocks.push(section(`:warning: The ledger says open live trades hold more than ${escapeText(r.venue)} shows: run \`ctb reconcile\`.`));
  }
  blocks.push(context(`As of ${slackDate(r.at)} · bot-managed = ${r.quote} (trading capital) and what open live trades hold`));
  const text = `Balance: paper ${money(r.paper.value)} ${r.quote}${k.status === 'ok' ? `; ${r.venue} bot-managed ${money(k.botManagedValue)}, account ${money(k.accountValue)}` : k.status === 'error' ? `; ${r.venue} unreadable` : ''}`;
  return { text, blocks };
}
