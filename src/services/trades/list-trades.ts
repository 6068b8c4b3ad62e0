// Owns what `/trades` and `ctb trades` show: every open trade with its mark price, unrealised PnL
// (after the entry fee) and age, totals per book, and optionally the last N closed trades. Long
// only: every trade is opened by a buy and closed by a sell. Amounts are exact decimal strings.
// Marks are the ones /balance and /stats use: the engine's candle, Kraken's ticker for trades on
// Kraken's market, the replay book's latest equity snapshot for replay trades outside the engine.
// An entry still in flight that has filled part of its order is listed with what it filled
// (in-flight.ts): no trade row holds it yet, but the bot holds it. An open trade whose exit is in
// flight and has partly filled is listed with what it still holds (the same rule), and its unrealised
// PnL is the whole trade's until the exit is booked (open-pnl.ts), the figure stats gives; one whose
// exit is in flight with nothing filled yet is listed whole, marked so.
// While the engine trades live (the database live, and its lease holder armed or none holding it:
// domain/engine-mode.ts holderBook), the paper positions still open are listed in their book with the
// switch's note (mode/paper-set-aside.ts): set aside, not sold.
import type { Db } from '../../db/client.js';
import { exitsInFlight, type ExitInFlightRow } from '../../db/queries/in-flight-fills.js';
import { lastClosedTrades, openTradesById } from '../../db/queries/trade-views.js';
import type { Trade } from '../../db/schema/index.js';
import { Decimal, ZERO, dec } from '../../money.js';
import { bookOf, money, type BookName } from '../stats/compute-stats.js';
import { loadMarks, type Mark, type MarksDeps } from './marks.js';
import { loadReplaySnapshotMark } from './snapshot-marks.js';
import { readPaperBalances } from '../../exchange/paper/paper-store.js';
import { getBotState } from '../bot-state.js';
import { holderBook } from '../../domain/engine-mode.js';
import { readEngineHolder } from '../engine-lease/holder-view.js';
import { setAsideNote, setAsidePosition } from '../mode/paper-set-aside.js';
import { openTradeValue, unrealizedPnl } from './open-pnl.js';
import {
  EXIT_IN_FLIGHT_NOTE, EXIT_SENT_NOTE, IN_FLIGHT_NOTE, inFlightExits, inFlightPositions, loadInFlightFills, stillHeld, type InFlightExit, type InFlightPosition,
} from './in-flight.js';

export interface OpenTradeRow {
  /** The trade's id; null for an entry still in flight (no trade row yet: see inFlight). */
  id: number | null;
  /**
   * An order in flight, partly filled. An entry: quantity is what it filled so far of `ordered`.
   * An exit: it sold `filled` of `ordered`, and quantity is what the trade still holds.
   */
  inFlight: { intentId: number; purpose: 'entry' | 'exit'; ordered: string; filled: string; note: string } | null;
  book: BookName;
  strategy: string;
  symbol: string;
  side: 'long';
  quantity: string;
  entryPrice: string;
  entryAt: Date;
  ageSeconds: number;
  /** Null when no price is known in this process (see marks.ts). */
  mark: Mark | null;
  unrealizedPnl: string | null;
  unrealizedPct: string | null;
}

export interface BookTotals {
  book: BookName;
  open: number;
  costBasis: string;
  /**
   * Over every open trade of the book; null when `unmarked` > 0, as stats' unrealised PnL is null
   * when its marks do not cover every position: a sum that leaves trades out is not the book's.
   */
  unrealizedPnl: string | null;
  unmarked: number;
}

export interface ClosedTradeRow {
  id: number;
  book: BookName;
  strategy: string;
  symbol: string;
  quantity: string;
  entryPrice: string;
  exitPrice: string | null;
  entryAt: Date;
  exitAt: Date | null;
  realizedPnl: string | null;
}

export interface TradesView {
  at: Date;
  open: OpenTradeRow[];
  totals: BookTotals[];
  closed: ClosedTradeRow[] | null;
  /** While the bot is live and paper positions are open: what became of them (the live switch's words); else null. */
  paperSetAside: string | null;
}

export const CLOSED_MAX = 100;

interface Valued {
  row: OpenTradeRow;
  cost: Decimal;
  /** Unrounded, so a book's total is the exact sum (stats' figure), not a sum of rounded rows. */
  pnl: Decimal | null;
}

type OpenPosition = Pick<Trade, 'mode' | 'feed' | 'strategy' | 'symbol' | 'entryAt'> & { id: number | null; inFlight: OpenTradeRow['inFlight']; quantity: string | Decimal; entryPrice: string | Decimal; entryFee: string | Decimal } & {
  /** The whole trade and its exit in flight, as its unrealised PnL counts them (open-pnl.ts). */
  whole: { quantity: string | Decimal; entryFee: string | Decimal; exit: InFlightExit | undefined };
};

const fromTrade = (exits: Map<number, InFlightExit>, sent: Map<number, ExitInFlightRow>) => (t: Trade): OpenPosition => {
  const exit = exits.get(t.id);
  const whole = { quantity: t.quantity, entryFee: t.entryFee, exit };
  if (!exit) {
    // Sent, nothing filled yet: the trade is whole and open, valued at the mark until the order resolves.
    const order = sent.get(t.id);
    return { ...t, whole, inFlight: order ? { intentId: order.intentId, purpose: 'exit', ordered: money(order.ordered), filled: '0', note: EXIT_SENT_NOTE } : null };
  }
  return {
    ...t, ...stillHeld(t, exit), whole,
    inFlight: { intentId: exit.intentId, purpose: 'exit', ordered: money(exit.ordered), filled: money(exit.sold), note: EXIT_IN_FLIGHT_NOTE },
  };
};
const fromInFlight = (p: InFlightPosition): OpenPosition => ({
  ...p, id: null, whole: { quantity: p.quantity, entryFee: p.entryFee, exit: undefined },
  inFlight: { intentId: p.intentId, purpose: 'entry', ordered: money(p.ordered), filled: money(p.quantity), note: IN_FLIGHT_NOTE },
});

function openRow(t: OpenPosition, mark: Mark | null, now: Date): Valued {
  const qty = dec(t.quantity);
  const cost = qty.times(t.entryPrice);
  // The whole trade's PnL, its part already sold by an exit in flight included: the figure stats gives.
  const wholeCost = dec(t.whole.quantity).times(t.entryPrice);
  const pnl = mark ? unrealizedPnl({ value: openTradeValue(t.whole, t.whole.exit, mark.price), costBasis: wholeCost, entryFees: dec(t.whole.entryFee) }) : null;
  const row: OpenTradeRow = {
    id: t.id, inFlight: t.inFlight, book: bookOf(t.mode, t.feed), strategy: t.strategy, symbol: t.symbol, side: 'long', quantity: money(qty), entryPrice: money(t.entryPrice),
    entryAt: t.entryAt, ageSeconds: Math.max(0, Math.floor((now.getTime() - t.entryAt.getTime()) / 1000)), mark,
    unrealizedPnl: pnl ? money(pnl) : null,
    unrealizedPct: pnl && wholeCost.gt(0) ? pnl.div(wholeCost).times(100).toDecimalPlaces(2).toFixed(2) : null,
  };
  return { row, cost, pnl };
}

function totalsOf(valued: Valued[]): BookTotals[] {
  const books = new Map<BookName, { open: number; cost: Decimal; pnl: Decimal; unmarked: number }>();
  for (const { row, cost, pnl } of valued) {
    const b = books.get(row.book) ?? { open: 0, cost: ZERO, pnl: ZERO, unmarked: 0 };
    books.set(row.book, { open: b.open + 1, cost: b.cost.plus(cost), pnl: pnl === null ? b.pnl : b.pnl.plus(pnl), unmarked: b.unmarked + (pnl === null ? 1 : 0) });
  }
  return [...books].map(([book, b]) => ({ book, open: b.open, costBasis: money(b.cost), unrealizedPnl: b.unmarked > 0 ? null : money(b.pnl), unmarked: b.unmarked }));
}

/** What /trades reads: the open and closed trades, and the marks of the open ones. */
export type ListTradesDeps = MarksDeps & { db: Db };

export async function listTrades(ctx: ListTradesDeps, opts: { closed?: number } = {}): Promise<TradesView> {
  const now = ctx.clock.now();
  const [trades, inFlight, sent, state, holder] = await Promise.all([
    openTradesById(ctx.db), loadInFlightFills(ctx.db), exitsInFlight(ctx.db), getBotState(ctx.db), readEngineHolder(ctx),
  ]);
  const open = [...trades.map(fromTrade(inFlightExits(inFlight), new Map(sent.map((e) => [e.tradeId, e])))), ...inFlightPositions(inFlight).map(fromInFlight)];
  const markFor = await loadMarks(ctx, open);
  const fromSnapshot = open.some((t) => t.feed === 'replay' && t.mode === 'paper')
    ? await loadReplaySnapshotMark(ctx.db, { quote: ctx.config.QUOTE_CURRENCY, balances: await readPaperBalances(ctx.db), open })
    : () => null;
  const replayMark = (t: OpenPosition) => (t.feed === 'replay' && t.mode === 'paper' ? fromSnapshot(t.symbol) : null);
  const valued = open.map((t) => openRow(t, markFor(t.symbol, t.feed) ?? replayMark(t), now));
  let closed: ClosedTradeRow[] | null = null;
  if (opts.closed !== undefined && opts.closed > 0) {
    const last = await lastClosedTrades(ctx.db, Math.min(opts.closed, CLOSED_MAX));
    closed = last.map((t) => ({
      id: t.id, book: bookOf(t.mode, t.feed), strategy: t.strategy, symbol: t.symbol, quantity: money(t.quantity), entryPrice: money(t.entryPrice),
      exitPrice: t.exitPrice === null ? null : money(t.exitPrice), entryAt: t.entryAt, exitAt: t.exitAt, realizedPnl: t.realizedPnl === null ? null : money(t.realizedPnl),
    }));
  }
  // Set aside only while the engine trades the live book: an engine without IS_LIVE trades (and sells) the paper one.
  const paper = holderBook(state, holder) === 'live' ? trades.filter((t) => t.mode === 'paper') : [];
  const paperSetAside = setAsideNote('live', paper.map(setAsidePosition));
  return { at: now, open: valued.map((v) => v.row), totals: totalsOf(valued), closed, paperSetAside };
}
