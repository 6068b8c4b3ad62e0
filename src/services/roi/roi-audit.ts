// Owns the ROI audit (`ctb audit-roi`, audit check roi.audit): for each book (mode + feed) and
// period, ROI from the ledger against ROI from equity snapshots; for live, the ledger's book (the
// latest snapshot's cash, the trades since, the open positions) against Kraken's balances, both
// valued at Kraken's prices now. Ledger ROI = (realized PnL in the period +
// change in unrealized PnL, where unrealized = snapshot position value − ledger cost of the open
// positions) / starting equity — so the two agree exactly when cash flows match the ledger.
// Live orders still in flight count as /trades, /balance and reconciliation count them (in-flight.ts):
// what their fills bought or sold is held or gone, and their cash moved, though no trade has them yet.
import type { Clock } from '../../clock.js';
import type { Config } from '../../config/env.js';
import type { Db } from '../../db/client.js';
import type { EquitySnapshot } from '../../db/schema/index.js';
import { Decimal } from '../../money.js';
import type { Balance, Exchange } from '../../exchange/types.js';
import { writeReportFile } from '../reconcile/report-file.js';
import { heldByBot, inFlightCashFlow, loadInFlightFills } from '../trades/in-flight.js';
import * as Q from '../../db/queries/roi.js';

export const ROI_PERIODS = { '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000, all: null } as const;
export type RoiPeriod = keyof typeof ROI_PERIODS;

export interface RoiRow {
  mode: Q.Book['mode'];
  feed: Q.Book['feed'];
  period: RoiPeriod;
  from: string | null;
  to: string | null;
  startEquity: string | null;
  endEquity: string | null;
  snapshotRoiPct: string | null;
  ledgerRoiPct: string | null;
  /** |snapshot − ledger| in percentage points. */
  diffPp: string | null;
  status: 'agrees' | 'disagrees' | 'no_data';
  strategies: Array<Q.StrategyRow & { roiPct: string | null }>;
}

export interface ExchangeEquity {
  /** The latest live snapshot's equity, at the prices of its time (shown, not compared). */
  snapshotEquity: string;
  /** The ledger's live book at the prices Kraken's balances are valued at: what is compared. */
  ledgerEquity: string;
  exchangeEquity: string;
  diffPct: string;
  status: 'agrees' | 'disagrees' | 'unpriced';
  unpriced: string[];
  /** Live orders in flight whose fills the ledger's side counts (no trade holds them yet). */
  ordersInFlight: number;
}

export interface RoiAuditReport {
  kind: 'roi_audit';
  schemaVersion: 1;
  ok: boolean;
  at: string;
  tolerancePp: number;
  rows: RoiRow[];
  /** Live book against Kraken balances; null when there is no live book or no key. */
  exchange: ExchangeEquity | null;
  summaryLine: string;
  reportFile: string | null;
}

/** What the ROI audit reads: the ledger and equity snapshots, the clock, and where reports go. */
export interface RoiDeps {
  db: Db;
  clock: Clock;
  config: Pick<Config, 'QUOTE_CURRENCY' | 'ROI_TOLERANCE_PCT' | 'REPORTS_DIR'>;
}

const pct = (num: Decimal, den: Decimal) => (den.isZero() ? null : num.div(den).mul(100));

async function rowFor(ctx: RoiDeps, book: Q.Book, period: RoiPeriod, now: Date, tolerancePp: number): Promise<RoiRow> {
  const span = ROI_PERIODS[period];
  const end = await Q.latestSnapshot(ctx.db, book);
  const start = end ? await Q.snapshotAtOrAfter(ctx.db, book, span === null ? new Date(0) : new Date(now.getTime() - span)) : null;
  const empty: RoiRow = { ...book, period, from: null, to: null, startEquity: null, endEquity: null, snapshotRoiPct: null, ledgerRoiPct: null, diffPp: null, status: 'no_data', strategies: [] };
  if (!end || !start || start.id === end.id || new Decimal(start.equity).isZero()) return { ...empty, ...(end ? { to: end.at.toISOString(), endEquity: end.equity } : {}) };

  const eqS = new Decimal(start.equity);
  const eqE = new Decimal(end.equity);
  const [realized, costS, costE, strategies] = await Promise.all([
    Q.realizedBetween(ctx.db, book, start.at, end.at), Q.openCostAt(ctx.db, book, start.at), Q.openCostAt(ctx.db, book, end.at),
    Q.realizedByStrategy(ctx.db, book, start.at, end.at),
  ]);
  const unrealS = eqS.minus(start.cash).minus(costS);
  const unrealE = eqE.minus(end.cash).minus(costE);
  const ledgerPnl = new Decimal(realized).plus(unrealE).minus(unrealS);
  const snapshotRoi = pct(eqE.minus(eqS), eqS)!;
  const ledgerRoi = pct(ledgerPnl, eqS)!;
  const diff = snapshotRoi.minus(ledgerRoi).abs();
  return {
    ...book, period, from: start.at.toISOString(), to: end.at.toISOString(), startEquity: start.equity, endEquity: end.equity,
    snapshotRoiPct: snapshotRoi.toFixed(4), ledgerRoiPct: ledgerRoi.toFixed(4), diffPp: diff.toFixed(4),
    status: diff.lte(tolerancePp) ? 'agrees' : 'disagrees',
    strategies: strategies.map((s) => ({ ...s, roiPct: pct(new Decimal(s.realizedPnl), new Decimal(s.deployed))?.toFixed(4) ?? null })),
  };
}

/**
 * The live book against Kraken, both valued at the same prices now: the ledger's book is the latest
 * snapshot's cash moved by the trades booked since, plus its open positions; Kraken's is its
 * balances. Not the snapshot's equity: that was valued at its own time's prices, and a halted engine
 * writes no live snapshot, so any move since would read as a disagreement nothing could clear.
 */
async function exchangeEquity(ctx: RoiDeps, exchange: Exchange, balances: Balance[], book: Q.Book, snap: EquitySnapshot, tolerancePp: number): Promise<ExchangeEquity> {
  const quote = ctx.config.QUOTE_CURRENCY;
  const prices = new Map<string, Promise<Decimal | null>>();
  const priceOf = (symbol: string) => {
    let p = prices.get(symbol);
    if (!p) {
      p = exchange.fetchTicker(symbol).then((t) => new Decimal(t.last), () => null);
      prices.set(symbol, p);
    }
    return p;
  };
  const unpriced = new Set<string>();
  const value = async (asset: string, symbol: string, quantity: string) => {
    const price = await priceOf(symbol);
    if (price === null) unpriced.add(asset);
    return price === null ? new Decimal(0) : new Decimal(quantity).mul(price);
  };

  let total = new Decimal(0);
  for (const b of balances) {
    if (new Decimal(b.total).isZero()) continue;
    total = total.plus(b.asset === quote ? new Decimal(b.total) : await value(b.asset, `${b.asset}/${quote}`, b.total));
  }
  const [flow, open, inFlight] = await Promise.all([Q.cashFlowAfter(ctx.db, book, snap.at), Q.openQuantities(ctx.db, book), loadInFlightFills(ctx.db)]);
  const live = inFlight.filter((r) => r.mode === book.mode && r.feed === book.feed);
  let ledger = new Decimal(snap.cash).plus(flow).plus(inFlightCashFlow(live, book.mode));
  const { held } = heldByBot(open.map((p) => ({ ...p, mode: book.mode })), live, book.mode);
  for (const [asset, quantity] of held) ledger = ledger.plus(await value(asset, `${asset}/${quote}`, quantity.toFixed()));

  const diffPct = ledger.isZero() ? new Decimal(total.isZero() ? 0 : 100) : total.minus(ledger).abs().div(ledger).mul(100);
  const status = unpriced.size > 0 ? 'unpriced' : diffPct.lte(tolerancePp) ? 'agrees' : 'disagrees';
  return {
    snapshotEquity: new Decimal(snap.equity).toFixed(), ledgerEquity: ledger.toFixed(), exchangeEquity: total.toFixed(), diffPct: diffPct.toFixed(4), status, unpriced: [...unpriced],
    ordersInFlight: live.length,
  };
}

export interface RoiAuditOptions {
  writeReport: boolean;
  /** The live exchange (read-only is enough); omit to skip the exchange comparison. */
  exchange?: Exchange;
  balances?: () => Promise<Balance[]>;
}

export async function auditRoi(ctx: RoiDeps, opts: RoiAuditOptions): Promise<RoiAuditReport> {
  const now = ctx.clock.now();
  const tolerancePp = ctx.config.ROI_TOLERANCE_PCT;
  const books = await Q.booksWithSnapshots(ctx.db);
  const rows: RoiRow[] = [];
  for (const book of books) for (const period of Object.keys(ROI_PERIODS) as RoiPeriod[]) rows.push(await rowFor(ctx, book, period, now, tolerancePp));

  let exchange: ExchangeEquity | null = null;
  const live = books.find((b) => b.mode === 'live');
  if (live && opts.exchange) {
    const snap = await Q.latestSnapshot(ctx.db, live);
    if (snap) exchange = await exchangeEquity(ctx, opts.exchange, await (opts.balances?.() ?? opts.exchange.fetchBalances()), live, snap, tolerancePp);
  }
  const disagreeing = rows.filter((r) => r.status === 'disagrees');
  const ok = disagreeing.length === 0 && exchange?.status !== 'disagrees';
  const compared = rows.filter((r) => r.status !== 'no_data').length;
  const summaryLine = `ROI AUDIT ${ok ? 'OK' : 'FAILED'} — ${compared} book-period(s) compared, ${disagreeing.length} disagree beyond ${tolerancePp} pp`
    + (exchange ? `; exchange equity ${exchange.status} (${exchange.diffPct}% apart${exchange.ordersInFlight > 0 ? `, counting the fills of ${exchange.ordersInFlight} live order(s) in flight` : ''})` : '');
  const report: RoiAuditReport = { kind: 'roi_audit', schemaVersion: 1, ok, at: now.toISOString(), tolerancePp, rows, exchange, summaryLine, reportFile: null };
  if (opts.writeReport) report.reportFile = await writeReportFile(ctx.config.REPORTS_DIR, 'roi-audit', now, report);
  return report;
}
