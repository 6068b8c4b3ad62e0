// Owns what becomes of the paper book's open positions at the switch to live. They are simulated:
// Kraken holds none of their base, so nothing live may sell them. They are set aside, not sold —
// they stay open in the paper book, which the live engine does not read (it loads live trades only:
// no live order sells them, the live book's caps and exposure leave them out) — and the paper
// engine takes them up again if the bot goes back to paper. The switch records and says which; the
// trades views (while live) and the go-live audit (before) say it in the same words.
import type { Db } from '../../db/client.js';
import { openTrades } from '../../db/queries/ledger-trades.js';
import type { Trade } from '../../db/schema/index.js';
import { dec } from '../../money.js';

export interface SetAsidePosition {
  tradeId: number;
  symbol: string;
  quantity: string;
  /**
   * The book it stays open in, as stats and trades name it: a paper trade on the replay feed is the
   * replay book's, not the paper one's (stats/compute-stats.ts bookOf).
   */
  book: 'paper' | 'replay';
}

/** A paper-mode trade as the switch sets it aside. */
export function setAsidePosition(t: Pick<Trade, 'id' | 'symbol' | 'quantity' | 'feed'>): SetAsidePosition {
  return { tradeId: t.id, symbol: t.symbol, quantity: dec(t.quantity).toFixed(), book: t.feed === 'replay' ? 'replay' : 'paper' };
}

const LISTED = 5;

export async function paperPositionsSetAside(db: Db): Promise<SetAsidePosition[]> {
  return (await openTrades(db, 'paper')).map(setAsidePosition);
}

/** The sentence the switch's record and announcement carry; null when no paper position is open. */
export function describeSetAside(positions: readonly SetAsidePosition[]): string | null {
  if (positions.length === 0) return null;
  const books = [...new Set(positions.map((p) => p.book))].sort();
  const mixed = books.length > 1;
  const listed = positions.slice(0, LISTED).map((p) => `#${p.tradeId} ${p.symbol} ${p.quantity}${mixed ? ` ${p.book}` : ''}`).join(', ');
  const more = positions.length > LISTED ? ` and ${positions.length - LISTED} more` : '';
  const kind = books.join(' and ');
  const n = positions.length === 1 ? `1 open ${kind} position` : `${positions.length} open ${kind} positions`;
  return `${n} set aside, not sold (${listed}${more}): simulated, so Kraken holds none of it; ` +
    `no live order sells them and the live caps and exposure leave them out; they stay open in the ${mixed ? 'paper and replay books' : `${kind} book`}`;
}

/** The switch's sentence as the trades views and the audit put it: already done while live, or to come. */
export function setAsideNote(mode: 'paper' | 'live', positions: readonly SetAsidePosition[]): string | null {
  const said = describeSetAside(positions);
  return said === null ? null : `${mode === 'live' ? 'The bot is live' : 'If the bot goes live'}: ${said}.`;
}
