// Renders /trades and /balance results for the terminal.
import type { BalanceResult } from '../../../commands/balance.js';
import type { TradesResult } from '../../../commands/trades.js';
import { money, price, signedMoney, signedPct, trimmed } from '../../domain/amount-text.js';
import { inFlightSize } from '../../domain/in-flight-size.js';
import { formatAge } from '../../domain/trade-age.js';
import { describePendingExit } from '../../domain/exit-request-state.js';
import type { CliIo } from '../io.js';
import { tone } from './stats-text.js';
import { plain, styleFor, type Style } from './style.js';
import { table } from './table.js';
import { upperFirst } from '../../domain/venue-name.js';

const styleOf = (io?: CliIo): Style => (io ? styleFor(io) : plain);

export function renderTrades(r: TradesResult, io?: CliIo): string {
  const style = styleOf(io);
  const pnl = (v: string | null) => (v === null ? '—' : tone(signedMoney(v), style));
  const out: string[] = [];
  if (r.open.length === 0) {
    // Nothing open is often the question "what did it trade?": say where the closed ones are.
    out.push(r.closed ? 'No open trades.' : 'No open trades. (ctb trades --closed 10 lists the last 10 closed trades.)');
  } else {
    out.push(`Open trades (${r.open.length}):`);
    out.push(table(
      ['ID', 'BOOK', 'PAIR', 'SIDE', 'SIZE', 'ENTRY', 'MARK', 'UNREALISED', '%', 'AGE', 'STRATEGY'],
      r.open.map((t) => [
        t.id === null ? 'in flight' : `#${t.id}`, t.book, t.symbol, t.side, inFlightSize(t), price(t.entryPrice), t.mark ? `${price(t.mark.price)} (${t.mark.source})` : '—',
        pnl(t.unrealizedPnl), t.unrealizedPct === null ? '—' : tone(signedPct(t.unrealizedPct), style), formatAge(t.ageSeconds), t.strategy,
      ]),
      { right: [4, 5, 7, 8, 9], style },
    ));
    out.push('');
    for (const b of r.totals) {
      out.push(`${b.book}: ${b.open} open, cost ${money(b.costBasis)}, unrealised ${pnl(b.unrealizedPnl)}${b.unmarked > 0 ? ` (${b.unmarked} without a mark price)` : ''}`);
    }
    if (r.paperSetAside) out.push(r.paperSetAside);
    for (const t of r.open) {
      if (t.inFlight?.purpose === 'entry') out.push(`in flight: ${t.symbol} entry (order intent ${t.inFlight.intentId}) — ${t.inFlight.note}: the bot holds the ${trimmed(t.quantity)} filled; its trade is written when the order resolves`);
      else if (t.inFlight && t.inFlight.filled === '0') out.push(`in flight: ${t.symbol} exit of #${t.id} (order intent ${t.inFlight.intentId}) — ${t.inFlight.note}: the trade holds all ${trimmed(t.quantity)} and is valued at the mark until the order resolves`);
      else if (t.inFlight) out.push(`in flight: ${t.symbol} exit of #${t.id} (order intent ${t.inFlight.intentId}) — ${t.inFlight.note}: ${trimmed(t.inFlight.filled)} sold, the trade holds the ${trimmed(t.quantity)} left; it closes when the order resolves`);
    }
    if (r.open.some((t) => !t.mark)) {
      out.push("— : no mark price, so no book total either (a replay trade opened after its book's latest equity snapshot, or Kraken unreachable)");
    }
  }
  if (r.pendingExits.length > 0) {
    out.push('');
    out.push(`Exits queued (${r.pendingExits.length}) — asking again for these trades is refused while they are:`);
    for (const x of r.pendingExits) out.push(`  request #${x.requestId}: exit of ${describePendingExit(x)}, asked by ${x.requestedBy}: ${x.queued}`);
  }
  if (r.closed) {
    out.push('');
    out.push(r.closed.length === 0 ? 'No closed trades.' : `Last ${r.closed.length} closed:`);
    if (r.closed.length > 0) {
      out.push(table(
        ['ID', 'BOOK', 'PAIR', 'SIZE', 'ENTRY', 'EXIT', 'PNL', 'CLOSED AT', 'STRATEGY'],
        r.closed.map((t) => [`#${t.id}`, t.book, t.symbol, trimmed(t.quantity), price(t.entryPrice), price(t.exitPrice), pnl(t.realizedPnl), t.exitAt?.toISOString() ?? '—', t.strategy]),
        { right: [3, 4, 5, 6], style },
      ));
    }
  }
  return out.join('\n');
}

export function renderBalance(r: BalanceResult, io?: CliIo): string {
  const style = styleOf(io);
  // The quote currency is money: to the cent like every value (--json keeps every digit); other assets as held.
  const amount = (asset: string, v: string | null | undefined) => (asset === r.quote ? money(v) : trimmed(v));
  const book = r.paper.feed === 'replay' ? 'Paper book on the replay feed (simulated prices, not Kraken\'s)' : 'Paper book';
  const out: string[] = [`${book}${r.paper.seeded ? '' : ' (not started yet: the starting balance)'} — ${r.paper.openTrades} open trade(s):`];
  out.push(table(['ASSET', 'TOTAL', `VALUE (${r.quote})`], r.paper.assets.map((a) => [a.asset, amount(a.asset, a.total), money(a.value)]), { right: [1, 2], style }));
  const unmarked = r.paper.feed === 'replay' ? "— (no replay price for a held asset: the running bot's replay has it, and no equity snapshot matches the book)" : '— (an asset has no mark price)';
  out.push(`paper value: ${r.paper.value === null ? unmarked : `${money(r.paper.value)} ${r.quote}`}`);
  out.push('');
  const k = r.kraken;
  if (k.status === 'no_key') {
    out.push('Kraken: no key set (KRAKEN_API_KEY / KRAKEN_API_SECRET) — only the paper book is shown.');
  } else if (k.status === 'error') {
    out.push(`${upperFirst(r.venue)}: could not read the balances — ${k.message}`);
  } else {
    const inFlight = k.ordersInFlight > 0 ? `, ${k.ordersInFlight} live order(s) in flight with fills` : '';
    out.push(`${upperFirst(r.venue)} — ${k.openTrades} open live trade(s)${inFlight}; bot-managed = ${r.quote} (trading capital) and what open live trades${inFlight ? ' and orders in flight' : ''} hold:`);
    out.push(table(
      ['ASSET', 'TOTAL', 'FREE', 'IN ORDERS', 'BOT-MANAGED', 'OTHER', `VALUE (${r.quote})`],
      k.assets.map((a) => [
        a.asset, amount(a.asset, a.total), amount(a.asset, a.free), amount(a.asset, a.used),
        `${amount(a.asset, a.botManaged)}${a.note ? ' *' : ''}${a.shortfall ? ' (!)' : ''}`, amount(a.asset, a.other), money(a.value),
      ]),
      { right: [1, 2, 3, 4, 5, 6], style },
    ));
    out.push(`bot-managed value: ${money(k.botManagedValue)}   whole account: ${k.accountValue === null || k.accountValue === undefined ? '— (an asset has no mark price)' : money(k.accountValue)}`);
    for (const a of k.assets) if (a.note) out.push(`* ${a.asset} bot-managed: ${a.note} — the bot bought it; its trade is written when the order resolves.`);
    if (k.assets.some((a) => a.shortfall)) out.push(`(!) the ledger says open live trades hold more than ${r.venue} shows: run ctb reconcile.`);
  }
  return out.join('\n');
}
