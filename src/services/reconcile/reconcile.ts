// Owns one reconciliation run: the ledger's live fills against Kraken's trade history (fetched
// with paging inside the rate limits), classified by matchTrades, plus balance diffs; written as a
// JSON report under REPORTS_DIR unless it is a dry run. `ctb reconcile` and the audit use it.
import type { Clock } from '../../clock.js';
import type { Config } from '../../config/env.js';
import type { Db } from '../../db/client.js';
import type { Balance, Exchange, ExchangeTrade } from '../../exchange/types.js';
import { balanceDiff, balanceDiffs, type BalanceDiff } from './balances.js';
import { ledgerCash, quoteTolerance } from './ledger-cash.js';
import { fetchAllTrades, type FetchProgress, type FetchTradesOptions } from './fetch-exchange-trades.js';
import { firstFillAt, loadLiveFills } from './load-ledger.js';
import { matchTrades, type LedgerFill, type MismatchField } from './match.js';
import { writeReportFile } from './report-file.js';

const DAY = 86_400_000;
/** How far before the legacy cutoff history is fetched: enough to show legacy trades near it. */
const LEGACY_LOOKBACK_MS = 7 * DAY;
const NO_LEDGER_LOOKBACK_MS = 30 * DAY;

const fillView = (f: LedgerFill) => ({ fillId: f.id, clientOrderId: f.clientOrderId, exchangeTradeId: f.exchangeTradeId, symbol: f.symbol, side: f.side, quantity: f.quantity, price: f.price, fee: f.fee, at: new Date(f.filledAtMs).toISOString() });
const tradeView = (t: ExchangeTrade) => ({ tradeId: t.id, orderId: t.orderId, symbol: t.symbol, side: t.side, quantity: t.quantity, price: t.price, fee: t.fee, feeCurrency: t.feeCurrency, at: t.timestamp.toISOString() });

export interface ReconcileReport {
  kind: 'reconcile';
  schemaVersion: 1;
  /** No mismatch, nothing missing on the exchange, no recent unmatched trade, no balance shortfall. */
  ok: boolean;
  at: string;
  legacyCutoff: string;
  cutoffSource: 'config' | 'first_ledger_fill' | 'no_live_ledger';
  fetchedSince: string;
  counts: { ledgerFills: number; exchangeTrades: number; matched: number; mismatched: number; missingOnExchange: number; legacyUnmatched: number; recentUnmatched: number };
  mismatched: Array<{ fields: MismatchField[]; ledger: ReturnType<typeof fillView>; exchange: ReturnType<typeof tradeView> }>;
  missingOnExchange: Array<ReturnType<typeof fillView>>;
  recentUnmatched: Array<ReturnType<typeof tradeView>>;
  legacyUnmatched: Array<ReturnType<typeof tradeView>>;
  /** Base assets, then the quote currency when the ledger has a figure for it. */
  balances: BalanceDiff[];
  /** The quote currency, when the ledger has no figure for it to check (no live equity snapshot yet). */
  quoteUnchecked: string | null;
  fetch: FetchProgress;
  summaryLine: string;
  /** Where the JSON report was written; null in a dry run. */
  reportFile: string | null;
}

type PassedOn = 'onProgress' | 'sleep' | 'backoffMs' | 'unreachableRetries' | 'onFailure';

export interface ReconcileOptions extends Pick<FetchTradesOptions, PassedOn> {
  writeReport: boolean;
  /** Reuse balances already fetched (the audit's memo). */
  balances?: () => Promise<Balance[]>;
}

/** What a reconciliation needs: the ledger, the clock, where reports go and the legacy cutoff. */
export interface ReconcileDeps {
  db: Db;
  clock: Clock;
  config: Pick<Config, 'RECONCILE_LEGACY_CUTOFF' | 'REPORTS_DIR' | 'QUOTE_CURRENCY'>;
}

export async function reconcile(ctx: ReconcileDeps, exchange: Exchange, opts: ReconcileOptions): Promise<ReconcileReport> {
  const now = ctx.clock.now();
  const configured = ctx.config.RECONCILE_LEGACY_CUTOFF ? new Date(ctx.config.RECONCILE_LEGACY_CUTOFF) : null;
  const ledger = await loadLiveFills(ctx.db);
  const first = firstFillAt(ledger);
  const cutoffSource = configured ? 'config' : first ? 'first_ledger_fill' : 'no_live_ledger';
  // With no live ledger at all, everything on the exchange predates the bot: legacy.
  const cutoff = configured ?? first ?? now;
  // From before the earlier of the cutoff and the first fill: a configured cutoff later than the
  // ledger's start must not leave early fills looking "missing on exchange" for want of history.
  const earliest = first && first < cutoff ? first : cutoff;
  const since = new Date(earliest.getTime() - (cutoffSource === 'no_live_ledger' ? NO_LEDGER_LOOKBACK_MS : LEGACY_LOOKBACK_MS));

  const { trades, progress } = await fetchAllTrades(exchange, { since, ...pick(opts) });
  const result = matchTrades(ledger, trades, { legacyBefore: cutoff });
  const [exchangeBalances, cash] = await Promise.all([opts.balances?.() ?? exchange.fetchBalances(), ledgerCash(ctx.db)]);
  const quote = ctx.config.QUOTE_CURRENCY;
  const balances = balanceDiffs(ledger, exchangeBalances);
  if (cash) balances.push(balanceDiff(quote, cash.cash, exchangeBalances, quoteTolerance(cash)));
  const quoteUnchecked = cash ? null : quote;

  const shortfalls = balances.filter((b) => b.status === 'exchange_holds_less');
  const ok = result.mismatched.length === 0 && result.missingOnExchange.length === 0 && result.recentUnmatched.length === 0 && shortfalls.length === 0;
  const counts = {
    ledgerFills: ledger.length, exchangeTrades: trades.length, matched: result.matched, mismatched: result.mismatched.length,
    missingOnExchange: result.missingOnExchange.length, legacyUnmatched: result.legacyUnmatched.length, recentUnmatched: result.recentUnmatched.length,
  };
  const summaryLine = `RECONCILE ${ok ? 'OK' : 'FAILED'} — ${counts.matched} matched, ${counts.mismatched} mismatched, ${counts.missingOnExchange} missing on exchange, ${counts.recentUnmatched} recent unmatched, ${counts.legacyUnmatched} legacy unmatched; ${shortfalls.length} balance shortfall(s)`
    + (quoteUnchecked ? `; ${quoteUnchecked} not checked (no live equity snapshot)` : '');
  const report: ReconcileReport = {
    kind: 'reconcile', schemaVersion: 1, ok, at: now.toISOString(), legacyCutoff: cutoff.toISOString(), cutoffSource, fetchedSince: since.toISOString(),
    counts,
    mismatched: result.mismatched.map((m) => ({ fields: m.fields, ledger: fillView(m.fill), exchange: tradeView(m.trade) })),
    missingOnExchange: result.missingOnExchange.map(fillView),
    recentUnmatched: result.recentUnmatched.map(tradeView),
    legacyUnmatched: result.legacyUnmatched.map(tradeView),
    balances, quoteUnchecked, fetch: progress, summaryLine, reportFile: null,
  };
  if (opts.writeReport) report.reportFile = await writeReportFile(ctx.config.REPORTS_DIR, 'reconcile', now, report);
  return report;
}

function pick(opts: ReconcileOptions): Pick<FetchTradesOptions, PassedOn> {
  return {
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    ...(opts.sleep ? { sleep: opts.sleep } : {}),
    ...(opts.backoffMs ? { backoffMs: opts.backoffMs } : {}),
    ...(opts.unreachableRetries !== undefined ? { unreachableRetries: opts.unreachableRetries } : {}),
    ...(opts.onFailure ? { onFailure: opts.onFailure } : {}),
  };
}
