// Renders /trades and /balance results for the terminal.
import type { BalanceResult } from '../../../commands/balance.js';
import type { TradesResult } from '../../../commands/trades.js';
import { formatAge } from '../../services/trades/list-trades.js';
import { textTable } from './text-table.js';

const signed = (v: string) => (v.startsWith('-') ? v : `+${v}`);

export function renderTrades(r: TradesResult): string {
  const out: string[] = [];
  if (r.open.length === 0) {
    out.push('No open trades.');
  } else {
    out.push(`Open trades (${r.open.length}):`);
    out.push(textTable(
      ['ID', 'BOOK', 'PAIR', 'SIDE', 'SIZE', 'ENTRY', 'MARK', 'UNREALISED', '%', 'AGE', 'STRATEGY'],
      r.open.map((t) => [
        `#${t.id}`, t.book, t.symbol, t.side, t.quantity, t.entryPrice, t.mark ? `${t.mark.price} (${t.mark.source})` : '—',
        t.unrealizedPnl === null ? '—' : signed(t.unrealizedPnl), t.unrealizedPct === null ? '—' : `${signed(t.unrealizedPct)}%`, formatAge(t.ageSeconds), t.strategy,
      ]),
      { right: [4, 5, 7, 8, 9] },
    ));
    out.push('');
    for (const b of r.totals) {
      out.push(`${b.book}: ${b.open} open, cost ${b.costBasis}, unrealised ${signed(b.unrealizedPnl)}${b.unmarked > 0 ? ` (${b.unmarked} without a mark price)` : ''}`);
    }
    if (r.open.some((t) => !t.mark)) out.push('— : no mark price in this process (a replay trade outside the engine, or Kraken unreachable)');
  }
  if (r.closed) {
    out.push('');
    out.push(r.closed.length === 0 ? 'No closed trades.' : `Last ${r.closed.length} closed:`);
    if (r.closed.length > 0) {
      out.push(textTable(
        ['ID', 'BOOK', 'PAIR', 'SIZE', 'ENTRY', 'EXIT', 'PNL', 'CLOSED AT', 'STRATEGY'],
        r.closed.map((t) => [`#${t.id}`, t.book, t.symbol, t.quantity, t.entryPrice, t.exitPrice ?? '—', t.realizedPnl === null ? '—' : signed(t.realizedPnl), t.exitAt?.toISOString() ?? '—', t.strategy]),
        { right: [3, 4, 5, 6] },
      ));
    }
  }
  return out.join('\n');
}

export function renderBalance(r: BalanceResult): string {
  const out: string[] = [`Paper book${r.paper.seeded ? '' : ' (not started yet: the starting balance)'} — ${r.paper.openTrades} open trade(s):`];
  out.push(textTable(['ASSET', 'TOTAL', `VALUE (${r.quote})`], r.paper.assets.map((a) => [a.asset, a.total, a.value ?? '—']), { right: [1, 2] }));
  out.push(`paper value: ${r.paper.value ?? '— (an asset has no mark price)'}`);
  out.push('');
  const k = r.kraken;
  if (k.status === 'no_key') {
    out.push('Kraken: no key set (KRAKEN_API_KEY / KRAKEN_API_SECRET) — only the paper book is shown.');
  } else if (k.status === 'error') {
    out.push(`Kraken: could not read the balances — ${k.message}`);
  } else {
    out.push(`Kraken — ${k.openTrades} open live trade(s); bot-managed = ${r.quote} (trading capital) and what open live trades hold:`);
    out.push(textTable(
      ['ASSET', 'TOTAL', 'FREE', 'IN ORDERS', 'BOT-MANAGED', 'OTHER', `VALUE (${r.quote})`],
      k.assets.map((a) => [a.asset, a.total, a.free, a.used, `${a.botManaged}${a.shortfall ? ' (!)' : ''}`, a.other, a.value ?? '—']),
      { right: [1, 2, 3, 4, 5, 6] },
    ));
    out.push(`bot-managed value: ${k.botManagedValue ?? '—'}   whole account: ${k.accountValue ?? '— (an asset has no mark price)'}`);
    if (k.assets.some((a) => a.shortfall)) out.push('(!) the ledger says open live trades hold more than Kraken shows: run ctb reconcile.');
  }
  return out.join('\n');
}
