// Owns the live stats (the checklist's show_live_stats): trade counts, ROI, realised and unrealised
// PnL, fees, drawdown and exposure per book — paper and live side by side, replay-feed trades apart
// because they never count toward go-live. The database does the summing (stats-ledger.ts); this
// module combines a few rows per book with exact decimals.
import type { Config } from '../../config/env.js';
import type { Db } from '../../db/client.js';
import { Decimal, ZERO } from '../../money.js';
import { snapshotAsOf, type SnapshotAsOf, type SnapshotBotFacts } from '../../domain/snapshot-age.js';
import type { EngineHolderFacts } from '../../domain/engine-mode.js';
import {
  botFacts, closedTradesByStrategy, drawdownInWindow, equityFacts, inOneSnapshot, openTradesByStrategy, recentClosedTrades,
  type ClosedGroupRow, type OpenGroupRow, type StatsWindow,
} from '../../db/queries/stats-ledger.js';
import type { StatsPeriod } from '../../domain/stats-periods.js';
import { holderView } from '../../domain/engine-holder.js';
import { readLease } from '../../db/queries/engine-lease.js';
import { inFlightFills } from '../../db/queries/in-flight-fills.js';
import { paperFundingRow } from '../../db/queries/exchange-paper.js';
import { paperStartOf, type PaperStart, type PaperStartFrom } from '../../domain/paper-start.js';
import { inFlightExits, inFlightPositions, type InFlightExit, type InFlightPosition } from '../trades/in-flight.js';
import { unrealizedPnl } from '../trades/open-pnl.js';

export type BookName = 'paper' | 'live' | 'replay';
type Mode = 'paper' | 'live';
type Feed = 'kraken' | 'replay';

export interface StrategyStats {
  strategy: string;
  closed: number;
  wins: number;
  losses: number;
  realizedPnl: string;
  fees: string;
  /** Capital put to work (Σ quantity × entry price of the closed trades). */
  deployed: string;
  /** Realised PnL over deployed capital, in percent. */
  roiPct: string | null;
}

export interface BookStats {
  book: BookName;
  /** Replay trades are practice on recorded prices: they never count toward go-live. */
  countsTowardGoLive: boolean;
  trades: { total: number; open: number; closed: number; wins: number; losses: number; breakeven: number; winRatePct: string | null };
  pnl: {
    realized: string;
    /** Open positions at the latest equity snapshot's marks, after entry fees; null when no snapshot covers them (a trade opened or closed since). */
    unrealized: string | null;
    unrealizedMarkedAt: string | null;
    /** Entry and exit fees of the trades closed in the period (realised PnL is net of them). */
    fees: string;
  };
  roi: {
    /** All-time realised PnL over starting capital, percent. */
    totalPct: string | null;
    /** Realised PnL in the period over equity at the period's start, percent. */
    periodPct: string | null;
    startingCapital: string | null;
    /**
     * Where startingCapital comes from: the book's first equity snapshot; the amount the paper
     * account was funded with, as recorded then (`recorded`); or this process's
     * PAPER_STARTING_BALANCE — before any engine funded it (`config`), or when it was funded before
     * the amount was recorded (`unrecorded`) — said under the table (domain/paper-start.ts).
     */
    startingCapitalFrom: 'first_snapshot' | PaperStartFrom | null;
    periodStartEquity: string | null;
  };
  /** `peak` is the risk guard's, stored with the latest snapshot. */
  equity: { latest: string; at: string; peak: string } | null;
  /**
   * The latest snapshot's time and age, and why it is not fresh: equity, current drawdown, exposure's
   * share of equity and unrealised PnL are its figures (src/domain/snapshot-age.ts). Null: none yet.
   */
  asOf: SnapshotAsOf | null;
  /**
   * Both agree with the risk guard, which sees every mark and stores its peak with each equity
   * snapshot (peak_equity, drawdown_pct): the snapshots' equities alone miss the starting equity a
   * live book's first snapshot, taken after the first entry fee, never shows (stats-ledger.ts).
   */
  drawdown: {
    /**
     * Deepest fall inside the period, percent and amount, from the highest equity known by then: the
     * peak at the period's start (the last earlier snapshot's stored peak) raised by each snapshot's
     * equity and stored peak. Never less than the guard's drawdown at any snapshot in the period.
     */
    maxPct: string | null;
    maxAmount: string | null;
    /** Fall of the latest equity from the risk guard's peak (`equity.peak`): its drawdown_pct. */
    currentPct: string | null;
  };
  exposure: { costBasis: string; pctOfEquity: string | null };
  strategies: StrategyStats[];
}

export interface RecentClosedTrade {
  id: number;
  book: BookName;
  strategy: string;
  symbol: string;
  exitAt: string;
  realizedPnl: string;
}

export interface StatsReport {
  period: StatsPeriod | 'custom';
  from: string | null;
  to: string;
  /** Trades closed in the period, every book included. */
  closed: number;
  /** Positions open now, every book included. */
  open: number;
  books: BookStats[];
  recentClosed: RecentClosedTrade[];
}

// Figures shown to people round half up (0.09285% reads 0.0929%); the sums behind them are exact.
const HALF_UP = Decimal.ROUND_HALF_UP;
export const money = (d: string | number | Decimal): string => new Decimal(d).toDecimalPlaces(8, HALF_UP).toFixed();
const pct = (num: Decimal, den: Decimal | null): string | null =>
  den === null || den.isZero() ? null : num.times(100).div(den).toDecimalPlaces(4, HALF_UP).toFixed();
const iso = (d: Date | string): string => new Date(d).toISOString();

export const bookOf = (mode: Mode, feed: Feed): BookName => (feed === 'replay' ? 'replay' : mode);

function sumClosed(rows: ClosedGroupRow[]) {
  return rows.reduce(
    (acc, r) => ({
      closed: acc.closed + r.closed,
      wins: acc.wins + r.wins,
      losses: acc.losses + r.losses,
      realized: acc.realized.plus(r.realized),
      fees: acc.fees.plus(r.fees),
    }),
    { closed: 0, wins: 0, losses: 0, realized: ZERO, fees: ZERO },
  );
}

function strategyStats(rows: ClosedGroupRow[]): StrategyStats[] {
  const byName = new Map<string, ClosedGroupRow[]>();
  for (const r of rows) byName.set(r.strategy, [...(byName.get(r.strategy) ?? []), r]);
  return [...byName.entries()].map(([strategy, group]) => {
    const s = sumClosed(group);
    const deployed = group.reduce((acc, r) => acc.plus(r.deployed), ZERO);
    return {
      strategy, closed: s.closed, wins: s.wins, losses: s.losses,
      realizedPnl: money(s.realized), fees: money(s.fees), deployed: money(deployed), roiPct: pct(s.realized, deployed),
    };
  });
}

interface BookInputs {
  book: BookName;
  closed: ClosedGroupRow[];
  allTime: ClosedGroupRow[];
  open: OpenGroupRow[];
  /** Exits in flight with fills: their trades are open, but exposure is what those still hold. */
  exits: InFlightExit[];
  facts: Awaited<ReturnType<typeof equityFacts>>[number] | undefined;
  drawdown: Awaited<ReturnType<typeof drawdownInWindow>>[number] | undefined;
  /** The paper account's recorded funding, or this process's PAPER_STARTING_BALANCE before one is recorded. */
  paperStart: PaperStart;
  now: Date;
  snapshotIntervalMs: number;
  bot: SnapshotBotFacts | null;
  engineRunning: boolean | undefined;
  /** The engine lease's holder now; undefined for a past window. */
  engine: EngineHolderFacts | undefined;
}

/**
 * The heartbeat's age at the window's end: its age read on the database's clock (the one the engine
 * beats on) less how long before this reading the window ended — both of those on this process's
 * clock, so an offset of that clock from the database's cancels out.
 */
function heartbeatAtEnd<B extends SnapshotBotFacts & { heartbeatAgeMs: number | null }>(bot: B | null, end: Date, readAt: number): SnapshotBotFacts | null {
  if (!bot) return null;
  return { ...bot, heartbeatAgeMs: bot.heartbeatAgeMs === null ? null : bot.heartbeatAgeMs - (readAt - end.getTime()) };
}

/** An entry in flight with fills as one more open position of its book (its filled part at its fills' prices). */
const asOpenGroup = (p: InFlightPosition): OpenGroupRow => ({
  mode: p.mode, feed: p.feed, strategy: p.strategy, open: 1, costBasis: p.quantity.times(p.entryPrice).toFixed(), entryFees: p.entryFee.toFixed(), lastEntryAt: p.entryAt,
});

function bookStats(i: BookInputs): BookStats {
  const period = sumClosed(i.closed);
  const allTime = sumClosed(i.allTime);
  const openCount = i.open.reduce((n, r) => n + r.open, 0);
  const costBasis = i.open.reduce((acc, r) => acc.plus(r.costBasis), ZERO);
  const heldCostBasis = i.exits.reduce((acc, e) => acc.minus(e.soldCost), costBasis);
  const f = i.facts;
  const startingCapital = f?.firstEquity ? new Decimal(f.firstEquity) : i.book === 'live' ? null : new Decimal(i.paperStart.amount);
  const startingCapitalFrom = f?.firstEquity ? 'first_snapshot' as const : i.book === 'live' ? null : i.paperStart.from;
  const periodStart = f?.startEquity ? new Decimal(f.startEquity) : startingCapital;
  const latest = f?.lastEquity ? new Decimal(f.lastEquity) : null;
  const peak = f?.peakEquity ? new Decimal(f.peakEquity) : null;

  // equity − cash is the positions' value at the snapshot's marks; it prices today's open trades
  // only if none was opened or closed after that snapshot (what /trades and /balance ask of the
  // replay book's snapshot, snapshot-marks.ts). Net of the entry fees, as realised PnL is net of
  // fees and as /trades shows each trade: opening a trade is not a gain of its fee. An exit in
  // flight's sale is not realised until its trade closes, so its trade counts whole here, the part
  // sold at what it sold for (the snapshot holds its unbooked fills so): open-pnl.ts, as /trades.
  const entryFees = i.open.reduce((acc, r) => acc.plus(r.entryFees), ZERO);
  let unrealized: Decimal | null = openCount === 0 ? ZERO : null;
  const lastEntry = Math.max(
    i.open.reduce<number>((m, r) => Math.max(m, new Date(r.lastEntryAt).getTime()), 0),
    i.exits.reduce<number>((m, e) => Math.max(m, e.lastFillAt.getTime()), 0),
  );
  const tradeSince = f?.lastAt ? new Date(f.lastAt).getTime() < lastEntry || f.closedSinceLast : false;
  if (openCount > 0 && f?.lastAt && f.lastEquity && f.lastCash && !tradeSince) {
    unrealized = unrealizedPnl({ value: new Decimal(f.lastEquity).minus(f.lastCash), costBasis, entryFees });
  }
  const decided = period.wins + period.losses;
  return {
    book: i.book,
    countsTowardGoLive: i.book !== 'replay',
    trades: {
      total: period.closed + openCount,
      open: openCount,
      closed: period.closed,
      wins: period.wins,
      losses: period.losses,
      breakeven: period.closed - decided,
      winRatePct: period.closed === 0 ? null : pct(new Decimal(period.wins), new Decimal(period.closed)),
    },
    pnl: {
      realized: money(period.realized),
      unrealized: unrealized === null ? null : money(unrealized),
      unrealizedMarkedAt: openCount > 0 && unrealized !== null && f?.lastAt ? iso(f.lastAt) : null,
      fees: money(period.fees),
    },
    roi: {
      totalPct: pct(allTime.realized, startingCapital),
      periodPct: pct(period.realized, periodStart),
      startingCapital: startingCapital ? money(startingCapital) : null,
      startingCapitalFrom,
      periodStartEquity: periodStart ? money(periodStart) : null,
    },
    equity: latest && f?.lastAt && peak ? { latest: money(latest), at: iso(f.lastAt), peak: money(peak) } : null,
    asOf: f?.lastAt ? snapshotAsOf({ book: i.book, at: f.lastAt, now: i.now, intervalMs: i.snapshotIntervalMs, bot: i.bot, tradeSince, engineRunning: i.engineRunning, ...(i.engine ? { engine: i.engine } : {}) }) : null,
    drawdown: {
      maxPct: i.drawdown?.maxPct ? new Decimal(i.drawdown.maxPct).toDecimalPlaces(4, HALF_UP).toFixed() : null,
      maxAmount: i.drawdown?.maxAmount ? money(i.drawdown.maxAmount) : null,
      currentPct: latest && peak ? pct(peak.minus(latest), peak) : null,
    },
    exposure: { costBasis: money(heldCostBasis), pctOfEquity: pct(heldCostBasis, latest ?? startingCapital) },
    strategies: strategyStats(i.closed),
  };
}

export interface ComputeStatsInput {
  window: StatsWindow;
  period: StatsPeriod | 'custom';
  recentLimit?: number;
  /**
   * The window ends now (default): whether an engine holds the lease now tells whether snapshots are
   * still being written. False for a past period's summary, whose end the lease of today says nothing of.
   */
  endsNow?: boolean;
}

export async function computeStats(deps: { db: Db; config: Pick<Config, 'PAPER_STARTING_BALANCE' | 'QUOTE_CURRENCY' | 'EQUITY_SNAPSHOT_INTERVAL' | 'ENGINE_LEASE_TTL'> }, input: ComputeStatsInput): Promise<StatsReport> {
  const { window } = input;
  // One read-only repeatable-read transaction on one connection: the figures come from one snapshot
  // of the ledger (a trade closing between two of the reads can't be counted in one and missed by
  // another), and a cold process (ctb stats) opens one connection, not one per statement. The reads
  // are sent together and answered in one round trip (stats-ledger.ts).
  const endsNow = input.endsNow ?? true;
  const [closed, allTime, openTrades, inFlight, facts, drawdowns, recent, bot, lease, funding] = await inOneSnapshot(deps.db, (db) =>
    Promise.all([
      closedTradesByStrategy(db, window),
      window.from ? closedTradesByStrategy(db, { from: null, to: window.to }) : null,
      openTradesByStrategy(db),
      inFlightFills(db),
      equityFacts(db, window),
      drawdownInWindow(db, window),
      recentClosedTrades(db, { to: window.to, limit: input.recentLimit ?? 5 }),
      botFacts(db),
      endsNow ? readLease(db) : null,
      paperFundingRow(db, deps.config.QUOTE_CURRENCY),
    ]),
  );
  const readAt = Date.now();
  // The paper account's funding is a fact the engine recorded; this process's setting only stands in before.
  const paperStart = paperStartOf(funding, deps.config.PAPER_STARTING_BALANCE);
  // What entries in flight filled is open already, though no trade row holds it yet (in-flight.ts).
  const open = [...openTrades, ...inFlightPositions(inFlight).map(asOpenGroup)];
  const exits = [...inFlightExits(inFlight).values()];
  // A graceful stop releases the lease at once; a dead engine's goes stale after ENGINE_LEASE_TTL.
  const engine = lease ? holderView(lease.lease, lease.dbNow, deps.config.ENGINE_LEASE_TTL) : undefined;
  const engineRunning = engine ? engine.state === 'running' : undefined;
  const inBook = (book: BookName) => <T extends { mode: Mode; feed: Feed }>(r: T) => bookOf(r.mode, r.feed) === book;
  // Replay equity is the paper account's practice run; live-on-replay is not a thing the engine does.
  const factsFor = (book: BookName) =>
    facts.find((f) => (book === 'replay' ? f.feed === 'replay' && f.mode === 'paper' : f.feed === 'kraken' && f.mode === book));
  const drawdownFor = (book: BookName) =>
    drawdowns.find((d) => (book === 'replay' ? d.feed === 'replay' && d.mode === 'paper' : d.feed === 'kraken' && d.mode === book));
  const hasReplay = [...closed, ...(allTime ?? []), ...open].some((r) => r.feed === 'replay') || factsFor('replay') !== undefined;
  const books: BookName[] = hasReplay ? ['paper', 'live', 'replay'] : ['paper', 'live'];
  const bookList = books.map((book) =>
    bookStats({
      book,
      closed: closed.filter(inBook(book)),
      allTime: (allTime ?? closed).filter(inBook(book)),
      open: open.filter(inBook(book)),
      exits: exits.filter(inBook(book)),
      facts: factsFor(book),
      drawdown: drawdownFor(book),
      paperStart,
      // A snapshot's age is told at the window's end: now, for every period but a past summary's.
      now: window.to,
      snapshotIntervalMs: deps.config.EQUITY_SNAPSHOT_INTERVAL,
      bot: heartbeatAtEnd(bot, window.to, readAt),
      engineRunning,
      engine,
    }),
  );
  return {
    period: input.period,
    from: window.from ? window.from.toISOString() : null,
    to: window.to.toISOString(),
    closed: bookList.reduce((n, b) => n + b.trades.closed, 0),
    open: bookList.reduce((n, b) => n + b.trades.open, 0),
    books: bookList,
    recentClosed: recent.map((r) => ({
      id: Number(r.id), book: bookOf(r.mode, r.feed), strategy: r.strategy, symbol: r.symbol,
      exitAt: iso(r.exitAt), realizedPnl: money(r.realizedPnl),
    })),
  };
}
