// Owns the replay book's marks outside the engine's process: its prices exist only in the replay,
// so the book's latest equity snapshot is what there is — the marks `ctb stats` values the book at.
// equity − cash is the open positions' value at the snapshot; it prices them only when no trade of
// the book opened after it (stats' rule), and gives one price only when they are all one pair.
import type { Db } from '../../db/client.js';
import { latestSnapshotOf } from '../../db/queries/trade-views.js';
import type { Trade } from '../../db/schema/index.js';
import { ZERO, dec } from '../../money.js';
import type { Mark } from './marks.js';

type Position = Pick<Trade, 'mode' | 'feed' | 'symbol' | 'quantity' | 'entryAt'>;

export type SnapshotMarkFor = (t: Pick<Trade, 'mode' | 'feed' | 'symbol'>) => Mark | null;

const bookKey = (t: Pick<Trade, 'mode' | 'feed'>) => `${t.mode}/${t.feed}`;

export async function loadSnapshotMarks(db: Db, open: Position[]): Promise<SnapshotMarkFor> {
  const books = new Map<string, Position[]>();
  for (const t of open.filter((p) => p.feed === 'replay')) books.set(bookKey(t), [...(books.get(bookKey(t)) ?? []), t]);
  const marks = new Map<string, Mark>();
  for (const [key, positions] of books) {
    const first = positions[0]!;
    if (positions.some((p) => p.symbol !== first.symbol)) continue;
    const snap = await latestSnapshotOf(db, { mode: first.mode, feed: first.feed });
    const lastEntry = Math.max(...positions.map((p) => p.entryAt.getTime()));
    if (!snap || snap.at.getTime() < lastEntry) continue;
    const quantity = positions.reduce((q, p) => q.plus(p.quantity), ZERO);
    if (quantity.isZero()) continue;
    marks.set(key, { price: dec(snap.equity).minus(snap.cash).div(quantity).toFixed(), at: snap.at, source: 'snapshot' });
  }
  return (t) => (t.feed === 'replay' ? marks.get(bookKey(t)) ?? null : null);
}
