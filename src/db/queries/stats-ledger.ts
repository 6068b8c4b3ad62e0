// Owns the SQL behind the stats: aggregates over the daily rollup of closed trades (plus the raw
// trades at the window's ragged edges), open positions, equity facts and drawdown from the equity
// snapshots. Every query returns a handful of rows however long the ledger is; money stays text.
import { sql, type SQL } from 'drizzle-orm';
import { execute, type Db } from '../client.js';

const DAY_MS = 86_400_000;

export interface StatsWindow {
  /** Inclusive start; null = since the first trade. */
  from: Date | null;
  /** Inclusive end (usually now). */
  to: Date;
}

/**
 * Runs `reads` in one read-only repeatable-read transaction on one connection: every read sees one
 * snapshot of the ledger. The transaction's mode is set by a statement sent just ahead of the reads,
 * in their round trip (drizzle's transaction options send it alone and wait for its answer); it is
 * still the transaction's first statement, as PostgreSQL requires.
 */
export function inOneSnapshot<T>(db: Db, reads: (tx: Db) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    const snapshot: Db = tx;
    const [, result] = await Promise.all([execute(snapshot, sql`set transaction isolation level repeatable read read only`), reads(snapshot)]);
    return result;
  });
}

export interface ClosedGroupRow {
  mode: 'paper' | 'live';
  feed: 'kraken' | 'replay';
  strategy: string;
  closed: number;
  wins: number;
  losses: number;
  realized: string;
  fees: string;
  deployed: string;
}

/**
 * The stats reads carry their values in the SQL text, not as parameters: postgres.js sends a
 * statement with parameters in two round trips (describe, then bind and execute) and holds back the
 * statements behind it meanwhile, so the reads of one stats answer went out one after another. With
 * none, they leave together and come back in one round trip. Only values made here are spliced: a
 * Date's ISO form and a whole number, each checked for its shape. drizzle's execute() sends them
 * unnamed, so no prepared statement is kept per distinct text.
 */
const ISO_INSTANT = /^[+-]?\d{4,6}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const ts = (d: Date): SQL => {
  const iso = d.toISOString(); // throws on an invalid Date
  if (!ISO_INSTANT.test(iso)) throw new Error(`stats: unexpected timestamp text ${JSON.stringify(iso)}`);
  return sql.raw(`'${iso}'::timestamptz`);
};
const count = (n: number): SQL => {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`stats: expected a whole number ≥ 0, got ${n}`);
  return sql.raw(String(n));
};

/**
 * Closed trades in the window per (mode, feed, strategy). Whole UTC days inside the window come
 * from trade_stats_daily; the partial days at either end come from `trades` through its exit_at
 * index, so the answer is exact at any window boundary.
 */
export async function closedTradesByStrategy(db: Db, window: StatsWindow): Promise<ClosedGroupRow[]> {
  const { from, to } = window;
  const floorTo = new Date(Math.floor(to.getTime() / DAY_MS) * DAY_MS);
  const ceilFrom = from ? new Date(Math.ceil(from.getTime() / DAY_MS) * DAY_MS) : null;
  const tailStart = ceilFrom && ceilFrom > floorTo ? ceilFrom : floorTo;
  const raw = (range: SQL) => sql`
    select mode, feed, strategy, 1 as closed, (realized_pnl > 0)::int as wins, (realized_pnl < 0)::int as losses,
           realized_pnl, entry_fee + coalesce(exit_fee, 0) as fees, quantity * entry_price as deployed
    from trades where status = 'closed' and ${range}`;
  const head = from && ceilFrom
    ? sql`union all ${raw(sql`exit_at >= ${ts(from)} and exit_at < ${ts(ceilFrom)} and exit_at <= ${ts(to)}`)}`
    : sql``;
  const bucketFrom = ceilFrom ? sql`and day >= ${ts(ceilFrom)}` : sql``;
  return execute<ClosedGroupRow>(
    db,
    sql`
    select mode, feed, strategy,
           sum(closed)::int as closed, sum(wins)::int as wins, sum(losses)::int as losses,
           sum(realized_pnl)::text as realized, sum(fees)::text as fees, sum(deployed)::text as deployed
    from (
      select mode, feed, strategy, closed, wins, losses, realized_pnl, fees, deployed
      from trade_stats_daily where day < ${ts(floorTo)} ${bucketFrom}
      union all ${raw(sql`exit_at >= ${ts(tailStart)} and exit_at <= ${ts(to)}`)}
      ${head}
    ) as x
    group by mode, feed, strategy
    having sum(closed) <> 0
    order by mode, feed, strategy`,
  );
}

export interface OpenGroupRow {
  mode: 'paper' | 'live';
  feed: 'kraken' | 'replay';
  strategy: string;
  open: number;
  costBasis: string;
  entryFees: string;
  lastEntryAt: Date | string;
}

/** Positions open now, per (mode, feed, strategy), valued at their entry prices. */
export async function openTradesByStrategy(db: Db): Promise<OpenGroupRow[]> {
  return execute<OpenGroupRow>(
    db,
    sql`
    select mode, feed, strategy, count(*)::int as open,
           sum(quantity * entry_price)::text as "costBasis", sum(entry_fee)::text as "entryFees",
           max(entry_at) as "lastEntryAt"
    from trades where status = 'open'
    group by mode, feed, strategy
    order by mode, feed, strategy`,
  );
}

export interface EquityFactsRow {
  mode: 'paper' | 'live';
  feed: 'kraken' | 'replay';
  firstEquity: string | null;
  lastAt: Date | string | null;
  lastEquity: string | null;
  lastCash: string | null;
  /** Equity of the last snapshot at or before the window's start. */
  startEquity: string | null;
  /** A trade of the book closed after the last snapshot: its equity − cash no longer prices what is open. */
  closedSinceLast: boolean;
  /**
   * The risk guard's peak at the window's end: the peak_equity stored with the last snapshot (or its
   * equity, were that higher). The current drawdown is measured from it, as the guard measures.
   */
  peakEquity: string | null;
}

/**
 * Per book: first, last and window-start equity, and the risk guard's peak, from equity_snapshots.
 * The peak is the stored one, not the highest snapshot equity: the guard sees every mark, snapshots
 * are taken every EQUITY_SNAPSHOT_INTERVAL, and a live book's first snapshot comes after its first
 * entry fee was paid, below the starting equity the guard already took as its peak.
 */
export async function equityFacts(db: Db, window: StatsWindow): Promise<EquityFactsRow[]> {
  const start = window.from ? ts(window.from) : sql`'-infinity'::timestamptz`;
  return execute<EquityFactsRow>(
    db,
    sql`
    select b.mode, b.feed, f.equity::text as "firstEquity", l.at as "lastAt", l.equity::text as "lastEquity",
           l.cash::text as "lastCash", s.equity::text as "startEquity", greatest(l.peak_equity, l.equity)::text as "peakEquity",
           exists (select 1 from trades t where t.status = 'closed' and t.exit_at > l.at and t.mode = b.mode and t.feed = b.feed) as "closedSinceLast"
    from (values ('paper', 'kraken'), ('live', 'kraken'), ('paper', 'replay'), ('live', 'replay')) as b(mode, feed)
    left join lateral (select equity from equity_snapshots e where e.mode = b.mode and e.feed = b.feed
                       order by at asc, id asc limit 1) f on true
    left join lateral (select at, equity, cash, peak_equity from equity_snapshots e where e.mode = b.mode and e.feed = b.feed
                       and at <= ${ts(window.to)} order by at desc, id desc limit 1) l on true
    left join lateral (select equity from equity_snapshots e where e.mode = b.mode and e.feed = b.feed
                       and at <= ${start} order by at desc, id desc limit 1) s on true
    where f.equity is not null`,
  );
}

export interface BotFactsRow {
  mode: 'paper' | 'live';
  halted: boolean;
  heartbeatAt: Date | string | null;
  /** The heartbeat's age now, on the database's clock (the one the engine beats on). */
  heartbeatAgeMs: number | null;
}

/** Which book the engine snapshots now and whether it runs (bot_state), to say why a snapshot is old. */
export async function botFacts(db: Db): Promise<BotFactsRow | null> {
  const rows = await execute<Omit<BotFactsRow, 'heartbeatAgeMs'> & { heartbeatAgeMs: number | string | null }>(db, sql`select mode, halted, engine_heartbeat_at as "heartbeatAt",
    (extract(epoch from (now() - engine_heartbeat_at)) * 1000)::float8 as "heartbeatAgeMs" from bot_state where id = 1`);
  const row = rows[0];
  return row ? { ...row, heartbeatAgeMs: row.heartbeatAgeMs === null ? null : Number(row.heartbeatAgeMs) } : null;
}

export interface DrawdownRow {
  mode: 'paper' | 'live';
  feed: 'kraken' | 'replay';
  maxPct: string | null;
  maxAmount: string | null;
}

/**
 * Deepest fall inside the window from a running peak, per book, never shallower than the risk guard
 * measured at any snapshot in it. The running peak starts at the highest equity known at the
 * window's start — the last earlier snapshot's stored peak_equity, or its equity if higher — and
 * rises with every snapshot's equity and stored peak_equity (the guard's peak, which has seen marks
 * between snapshots). Counting only the snapshots' equities inside the window would start from the
 * window's first snapshot and miss a fall that began before it, or the starting equity a live
 * book's first snapshot (taken after the first entry fee) never shows.
 */
export async function drawdownInWindow(db: Db, window: StatsWindow): Promise<DrawdownRow[]> {
  const start = window.from ? ts(window.from) : sql`'-infinity'::timestamptz`;
  return execute<DrawdownRow>(
    db,
    sql`
    select b.mode, b.feed,
           max(case when x.peak > 0 then (x.peak - x.equity) * 100 / x.peak else 0 end)::text as "maxPct",
           max(x.peak - x.equity)::text as "maxAmount"
    from (values ('paper', 'kraken'), ('live', 'kraken'), ('paper', 'replay'), ('live', 'replay')) as b(mode, feed)
    left join lateral (select greatest(e.equity, e.peak_equity) as peak from equity_snapshots e
                       where e.mode = b.mode and e.feed = b.feed and e.at < ${start}
                       order by e.at desc, e.id desc limit 1) s on true
    join lateral (select w.equity,
                         greatest(max(greatest(w.equity, w.peak_equity)) over (order by w.at, w.id rows unbounded preceding), s.peak) as peak
                  from equity_snapshots w where w.mode = b.mode and w.feed = b.feed and w.at >= ${start} and w.at <= ${ts(window.to)}) x on true
    group by b.mode, b.feed`,
  );
}

export interface RecentClosedRow {
  id: number;
  mode: 'paper' | 'live';
  feed: 'kraken' | 'replay';
  strategy: string;
  symbol: string;
  exitAt: Date | string;
  realizedPnl: string;
}

/** The latest closed trades (newest first), through the exit_at index. */
export async function recentClosedTrades(db: Db, opts: { to: Date; limit: number }): Promise<RecentClosedRow[]> {
  return execute<RecentClosedRow>(
    db,
    sql`
    select id::int as id, mode, feed, strategy, symbol, exit_at as "exitAt", realized_pnl::text as "realizedPnl"
    from trades where status = 'closed' and exit_at <= ${ts(opts.to)}
    order by exit_at desc, id desc limit ${count(opts.limit)}`,
  );
}

export interface EquityPoint {
  book: 'paper' | 'live' | 'replay';
  at: Date | string;
  /** Close of the bucket, as a float for plotting only. */
  equity: number;
  /** Deepest fall inside the bucket from the running peak, percent (≥ 0). */
  drawdownPct: number;
}

/**
 * The equity curve per book, cut into at most `buckets` time buckets (close, high, low each) so a
 * year of per-minute snapshots still plots from a few hundred points. Drawdown is measured from
 * the running peak of the bucket highs to each bucket's low, so no dip is smoothed away; a bucket's
 * high counts the risk guard's stored peak_equity too, so the curve's drawdown is never shallower
 * than the guard's (and the stats' max drawdown, drawdownInWindow).
 */
export async function equityCurvePoints(db: Db, opts: { window: StatsWindow; buckets: number }): Promise<EquityPoint[]> {
  // Buckets cut the span the snapshots cover, not the whole period: a replay played in the last
  // 15 minutes keeps its resolution in a 24h chart. Per mode, so each end is one probe of (mode, at).
  const after = opts.window.from ? sql`and at >= ${ts(opts.window.from)}` : sql``;
  const to = ts(opts.window.to);
  const end = (fn: SQL, mode: string) => sql`(select ${fn}(at) from equity_snapshots where mode = ${mode} ${after} and at <= ${to})`;
  const from = sql`least(${end(sql`min`, 'paper')}, ${end(sql`min`, 'live')})`;
  const last = sql`greatest(${end(sql`max`, 'paper')}, ${end(sql`max`, 'live')})`;
  return execute<EquityPoint>(
    db,
    sql`
    with bounds as (select ${from} as f, ${last} as t),
    b as (
      select case when e.feed = 'replay' then 'replay' else e.mode end as book,
             floor(extract(epoch from e.at - bounds.f) / greatest(extract(epoch from bounds.t - bounds.f) / ${opts.buckets}, 0.001))::int as k,
             max(e.at) as at, (array_agg(e.equity order by e.at desc, e.id desc))[1] as close,
             max(greatest(e.equity, e.peak_equity)) as hi, min(e.equity) as lo
      from equity_snapshots e, bounds
      where e.at >= bounds.f and e.at <= bounds.t and (e.feed = 'kraken' or e.mode = 'paper')
      group by 1, 2
    )
    select book, at, close::float8 as equity,
           coalesce(((max(hi) over w - lo) * 100 / nullif(max(hi) over w, 0))::float8, 0) as "drawdownPct"
    from b window w as (partition by book order by k rows unbounded preceding)
    order by book, k`,
  );
}

export interface TradeMarkerRow {
  book: 'paper' | 'live' | 'replay';
  kind: 'entry' | 'exit';
  at: Date | string;
  tradeId: number;
  symbol: string;
  /** Exits: the realised PnL, as a float for choosing the marker only. */
  realizedPnl: number | null;
}

/**
 * Entries and exits inside the window (the newest `limit`, oldest first), per book as the equity
 * curve counts them. Read through the exit_at and status indexes: the trades closed since the
 * window began, and the open ones — every trade entered in a window that ends now is one of them.
 */
export async function tradeMarkers(db: Db, opts: { window: StatsWindow; limit: number }): Promise<TradeMarkerRow[]> {
  const from = opts.window.from ? ts(opts.window.from) : sql`'-infinity'::timestamptz`;
  const to = ts(opts.window.to);
  const rows = await execute<TradeMarkerRow>(
    db,
    sql`
    with t as (
      select * from trades where status = 'closed' and exit_at >= ${from}
      union all
      select * from trades where status = 'open'
    ),
    m as (
      select case when feed = 'replay' then 'replay' else mode end as book, 'entry' as kind, entry_at as at, id::int as "tradeId", symbol,
             null::float8 as "realizedPnl"
      from t where split_from_trade_id is null and entry_at >= ${from} and entry_at <= ${to} and (feed = 'kraken' or mode = 'paper')
      union all
      select case when feed = 'replay' then 'replay' else mode end, 'exit', exit_at, id::int, symbol, realized_pnl::float8
      from t where status = 'closed' and exit_at <= ${to} and (feed = 'kraken' or mode = 'paper')
    )
    select * from m order by at desc, "tradeId" desc limit ${opts.limit}`,
  );
  return rows.reverse();
}
