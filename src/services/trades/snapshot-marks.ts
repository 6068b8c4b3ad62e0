// Owns the replay book's mark outside the engine's process, for `ctb trades` and `ctb balance` alike:
// its prices exist only in the replay, so the book's latest equity snapshot is what there is — the
// snapshot `ctb stats` values the book at. The snapshot's equity − cash is the value of what the
// paper account held then; it prices one pair, as (equity − cash) ÷ the quantity held, only while
// nothing traded since:
// - the account holds exactly one asset besides the quote currency, and every open paper trade is in
//   that pair (the snapshot marked the open paper trades: one pair, or the split is unknown);
// - the account's cash is still the snapshot's (an entry or exit since would have moved it);
// - no open paper trade entered after the snapshot.
// Otherwise no mark: no price is better than a wrong one.
import type { Db } from '../../db/client.js';
import { latestSnapshotOf } from '../../db/queries/trade-views.js';
import type { Trade } from '../../db/schema/index.js';
import type { BalanceRow } from '../../exchange/paper/paper-store.js';
import { dec } from '../../money.js';
import type { Mark } from './marks.js';

type Position = Pick<Trade, 'mode' | 'symbol' | 'entryAt'>;

/** The replay book's mark of a pair (BTC/USD), or null. */
export type SnapshotMarkFor = (symbol: string) => Mark | null;

const NONE: SnapshotMarkFor = () => null;

/** `balances`: the paper account's (as read, none when it was never seeded); `open`: the open trades (the paper ones are the book's). */
export async function loadReplaySnapshotMark(
  db: Db, book: { quote: string; balances: readonly BalanceRow[]; open: readonly Position[] },
): Promise<SnapshotMarkFor> {
  const { quote, balances, open } = book;
  const held = balances.filter((b) => b.asset !== quote && !dec(b.total).isZero());
  if (held.length !== 1) return NONE;
  const asset = held[0]!;
  const pair = `${asset.asset}/${quote}`;
  const positions = open.filter((t) => t.mode === 'paper');
  if (positions.some((t) => t.symbol !== pair)) return NONE;
  const snap = await latestSnapshotOf(db, { mode: 'paper', feed: 'replay' });
  if (!snap) return NONE;
  const cash = balances.find((b) => b.asset === quote)?.total ?? '0';
  if (!dec(snap.cash).eq(cash)) return NONE;
  if (positions.some((t) => t.entryAt.getTime() > snap.at.getTime())) return NONE;
  const mark: Mark = { price: dec(snap.equity).minus(snap.cash).div(asset.total).toFixed(), at: snap.at, source: 'snapshot' };
  return (symbol) => (symbol === pair ? mark : null);
}
