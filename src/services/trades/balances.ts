// Owns what `/balance` and `ctb balance` show: the paper book (the simulated account) and, when a
// Kraken key is set, Kraken's balances split into what the bot manages — the quote currency it
// trades with, the base assets its open live trades hold and what its live orders in flight have
// filled (in-flight.ts: the bot's, though no trade row holds it yet) — and the rest of the account (as
// Freqtrade's /balance and /balance full). Values in the quote currency at the marks of marks.ts
// (a replay book's, outside the engine, at the snapshot mark of snapshot-marks.ts, as /trades).
import type { Db } from '../../db/client.js';
import type { ExchangeProvider } from '../../exchange/provider.js';
import type { Balance } from '../../exchange/types.js';
import { latestPaperSnapshot, openTradesById } from '../../db/queries/trade-views.js';
import type { FeedKind } from '../../market/types.js';
import { readPaperBalances } from '../../exchange/paper/paper-store.js';
import { isAppError } from '../../errors.js';
import { KRAKEN_UNREACHABLE_CHECK, krakenUnreachable } from '../../exchange/errors.js';
import { Decimal, ZERO, dec } from '../../money.js';
import { money } from '../stats/compute-stats.js';
import { loadMarks, type MarkFor, type MarksDeps } from './marks.js';
import { loadReplaySnapshotMark } from './snapshot-marks.js';
import { heldByBot, IN_FLIGHT_NOTE, loadInFlightFills } from './in-flight.js';
import { krakenVenueName } from '../../domain/venue-name.js';

export interface AssetBalance {
  asset: string;
  total: string;
  /** Quote-currency value at the asset's mark; null when no mark is known. */
  value: string | null;
}

export interface KrakenAssetBalance extends AssetBalance {
  free: string;
  used: string;
  /** The quote currency (the bot's trading capital), or what open live trades and orders in flight hold. */
  botManaged: string;
  /** Set when part of botManaged was filled by an order still in flight. */
  note: string | null;
  other: string;
  /** The ledger says the bot holds more than Kraken shows. */
  shortfall: boolean;
}

export interface BalanceView {
  at: Date;
  quote: string;
  /**
   * feed: the market the paper book trades on (its latest equity snapshot's, else this process's
   * MARKET_FEED). A replay book is valued at the replay's prices only, never at Kraken's.
   */
  paper: { seeded: boolean; feed: FeedKind; assets: AssetBalance[]; value: string | null; openTrades: number };
  /** Whose balances `kraken` holds, as outputs name it: Kraken, or the server KRAKEN_API_URL points at (a rehearsal's simulator). */
  venue: string;
  kraken:
    | { status: 'no_key' }
    | { status: 'error'; message: string }
    | { status: 'ok'; assets: KrakenAssetBalance[]; botManagedValue: string | null; accountValue: string | null; openTrades: number; ordersInFlight: number };
}

const baseOf = (symbol: string) => symbol.split('/')[0] ?? symbol;

function valueOf(asset: string, amount: Decimal, quote: string, markFor: MarkFor, feed: FeedKind = 'kraken'): Decimal | null {
  if (asset === quote) return amount;
  if (amount.isZero()) return ZERO;
  const mark = markFor(`${asset}/${quote}`, feed);
  return mark ? amount.times(mark.price) : null;
}

function total(values: Array<Decimal | null>): string | null {
  return values.some((v) => v === null) ? null : money(values.reduce<Decimal>((a, v) => a.plus(v!), ZERO));
}

async function paperFeed(ctx: { db: Db; config: MarksDeps['config'] }): Promise<FeedKind> {
  const snap = await latestPaperSnapshot(ctx.db);
  return snap?.feed ?? ctx.config.MARKET_FEED;
}

/** What /balance reads: the paper book and its snapshot, Kraken's balances when a key is set, and marks. */
export type BalancesDeps = MarksDeps & { db: Db; exchanges: ExchangeProvider };

export async function readBalances(ctx: BalancesDeps): Promise<BalanceView> {
  const quote = ctx.config.QUOTE_CURRENCY;
  const [open, inFlight] = await Promise.all([openTradesById(ctx.db), loadInFlightFills(ctx.db)]);
  const rows = await readPaperBalances(ctx.db);
  const paperRows = rows.length > 0 ? rows : [{ asset: quote, total: String(ctx.config.PAPER_STARTING_BALANCE) }];
  const liveOpen = open.filter((t) => t.mode === 'live');
  const feed = await paperFeed(ctx);
  // Only what is held needs a price: an empty book (no position) asks nobody for a mark.
  const paperHeld = paperRows.filter((r) => r.asset !== quote && !dec(r.total).isZero()).map((r) => ({ symbol: `${r.asset}/${quote}`, feed }));

  let krakenBalances: Balance[] | null = null;
  let krakenError: string | null = null;
  if (ctx.exchanges.hasKrakenKeys()) {
    try {
      krakenBalances = await ctx.exchanges.kraken().fetchBalances();
    } catch (err) {
      // No answer at all: where it was asked and why, as `ctb reconcile` says it.
      const unreachable = krakenUnreachable(err, ctx.config.KRAKEN_API_URL ?? 'https://api.kraken.com');
      krakenError = unreachable !== null ? `${unreachable}. ${KRAKEN_UNREACHABLE_CHECK}.`
        : isAppError(err) ? err.userMessage : err instanceof Error ? err.message : String(err);
    }
  }
  const krakenHeld = (krakenBalances ?? []).filter((b) => b.asset !== quote && !dec(b.total).isZero()).map((b) => ({ symbol: `${b.asset}/${quote}`, feed: 'kraken' as const }));
  const markFor = await loadMarks(ctx, [...paperHeld, ...krakenHeld]);
  const fromSnapshot = feed === 'replay' ? await loadReplaySnapshotMark(ctx.db, { quote, balances: rows, open }) : () => null;
  const paperMark: MarkFor = (symbol) => markFor(symbol, feed) ?? fromSnapshot(symbol);

  const paperValues = paperRows.map((r) => ({ asset: r.asset, total: money(r.total), value: valueOf(r.asset, dec(r.total), quote, paperMark, feed) }));
  const view: BalanceView = {
    at: ctx.clock.now(), quote,
    paper: {
      seeded: rows.length > 0, feed, assets: paperValues.map((a) => ({ ...a, value: a.value === null ? null : money(a.value) })),
      value: total(paperValues.map((a) => a.value)), openTrades: open.filter((t) => t.mode === 'paper').length,
    },
    venue: krakenVenueName(ctx.config.KRAKEN_API_URL),
    kraken: krakenError !== null ? { status: 'error', message: krakenError } : { status: 'no_key' },
  };
  if (krakenBalances) {
    const { held, inFlight: movedInFlight } = heldByBot(liveOpen, inFlight, 'live');
    const assets = krakenBalances.filter((b) => !dec(b.total).isZero() || held.has(b.asset)).map((b) => {
      const totalAmount = dec(b.total);
      const managed = b.asset === quote ? totalAmount : held.get(b.asset) ?? ZERO;
      const other = totalAmount.minus(managed);
      return {
        asset: b.asset, total: money(totalAmount), free: money(b.free), used: money(b.used), botManaged: money(managed),
        note: b.asset !== quote && movedInFlight.has(b.asset) ? IN_FLIGHT_NOTE : null,
        other: money(Decimal.max(other, ZERO)), shortfall: other.lt(0),
        value: valueOf(b.asset, totalAmount, quote, markFor), managedValue: valueOf(b.asset, Decimal.min(managed, totalAmount), quote, markFor),
      };
    });
    view.kraken = {
      status: 'ok', openTrades: liveOpen.length, ordersInFlight: inFlight.filter((r) => r.mode === 'live').length,
      assets: assets.map(({ managedValue: _m, value, ...a }) => ({ ...a, value: value === null ? null : money(value) })),
      botManagedValue: total(assets.map((a) => a.managedValue)), accountValue: total(assets.map((a) => a.value)),
    };
  }
  return view;
}
