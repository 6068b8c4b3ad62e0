// Owns the database-derived gauges: per book, trade counts, outcomes, ROI, the latest equity
// snapshot, drawdown, PnL, fees and exposure; and the operational facts — open orders, the engine's
// heartbeat age, halted, the mode the engine trades in and the one requested, open alerts,
// escalations, the alert outbox backlog, the risk limits the alert rules compare against. Only the
// metrics exporter prints them (src/metrics/scrape.ts), so a sum over every replica counts each fact
// once. Ratios are 0..1, times in seconds, money in the quote currency named by the `currency` label
// (docs/metrics.md).
import type { Registry } from 'prom-client';
import type { StatsReport } from '../services/stats/compute-stats.js';
import { ScrapeGauge, type ScrapeDeps, type ScrapeSource } from './scrape.js';
import { UNSETTLED_STATUSES } from '../domain/order-status.js';
import { DELIVERY_KINDS } from '../db/schema/alerts.js';
import { engineMode, type EngineMode } from '../domain/engine-mode.js';

type Book = StatsReport['books'][number];
const MODES = ['paper', 'live'] as const;
const ENGINE_MODES: readonly EngineMode[] = ['paper', 'live', 'unknown'];

const num = (v: string | null | undefined): number | null => (v === null || v === undefined ? null : Number(v));
const ratio = (pct: string | null | undefined): number | null => {
  const v = num(pct);
  return v === null ? null : v / 100;
};

export function registerLedgerGauges(registry: Registry, source: ScrapeSource, deps: Pick<ScrapeDeps, 'config'>): void {
  const currency = deps.config.QUOTE_CURRENCY;
  const gauge = <L extends string>(name: string, help: string, labelNames: L[], fill: ConstructorParameters<typeof ScrapeGauge<L>>[3]) =>
    new ScrapeGauge<L>(registry, source, { name, help, labelNames }, fill);
  const money = (name: string, help: string, pick: (b: Book) => string | null) =>
    gauge(name, `${help} In the quote currency (label currency).`, ['book', 'currency'], (g, s) => {
      for (const b of s.stats.books) {
        const v = num(pick(b));
        if (v !== null) g.set({ book: b.book, currency }, v);
      }
    });

  gauge('ctb_trades', 'Trades per book and status (open now, closed all time).', ['book', 'status'], (g, s) => {
    for (const b of s.stats.books) {
      g.set({ book: b.book, status: 'open' }, b.trades.open);
      g.set({ book: b.book, status: 'closed' }, b.trades.closed);
    }
  });
  gauge('ctb_trade_outcomes', 'Closed trades per book by outcome (win, loss, breakeven).', ['book', 'outcome'], (g, s) => {
    for (const b of s.stats.books) {
      g.set({ book: b.book, outcome: 'win' }, b.trades.wins);
      g.set({ book: b.book, outcome: 'loss' }, b.trades.losses);
      g.set({ book: b.book, outcome: 'breakeven' }, b.trades.breakeven);
    }
  });
  gauge('ctb_roi_ratio', 'All-time realised PnL over starting capital, per book (0.01 = 1%).', ['book'], (g, s) => {
    for (const b of s.stats.books) {
      const v = ratio(b.roi.totalPct);
      if (v !== null) g.set({ book: b.book }, v);
    }
  });
  money('ctb_equity_snapshot', 'Equity at the latest snapshot per book (snapshots are EQUITY_SNAPSHOT_INTERVAL apart; ctb_engine_equity is the live mark).', (b) => b.equity?.latest ?? null);
  gauge('ctb_equity_snapshot_timestamp_seconds', 'When the latest equity snapshot per book was taken (Unix time).', ['book'], (g, s) => {
    for (const b of s.stats.books) if (b.equity) g.set({ book: b.book }, Date.parse(b.equity.at) / 1000);
  });
  money('ctb_realized_pnl', 'All-time realised PnL (net of fees) per book.', (b) => b.pnl.realized);
  money('ctb_unrealized_pnl', 'Open positions at the latest snapshot marks, per book.', (b) => b.pnl.unrealized);
  money('ctb_fees', 'All-time fees of closed trades per book.', (b) => b.pnl.fees);
  money('ctb_exposure', 'Cost basis of open positions per book.', (b) => b.exposure.costBasis);
  gauge('ctb_drawdown_ratio', 'Fall from the equity peak per book (0.05 = 5%): kind=current (now) or max (deepest so far).', ['book', 'kind'], (g, s) => {
    for (const b of s.stats.books) {
      const current = ratio(b.drawdown.currentPct);
      const max = ratio(b.drawdown.maxPct);
      if (current !== null) g.set({ book: b.book, kind: 'current' }, current);
      if (max !== null) g.set({ book: b.book, kind: 'max' }, max);
    }
  });
  gauge('ctb_risk_limit_ratio', 'Configured risk limits (0.1 = 10%): max_drawdown pauses entries, hard_drawdown kills, daily_loss pauses for the day.', ['limit'], (g) => {
    g.set({ limit: 'max_drawdown' }, deps.config.RISK_MAX_DRAWDOWN_PCT / 100);
    g.set({ limit: 'hard_drawdown' }, deps.config.RISK_HARD_DRAWDOWN_PCT / 100);
    g.set({ limit: 'daily_loss' }, deps.config.RISK_DAILY_LOSS_PCT / 100);
  });
}

export function registerOperationalGauges(registry: Registry, source: ScrapeSource): void {
  const gauge = <L extends string>(name: string, help: string, labelNames: L[], fill: ConstructorParameters<typeof ScrapeGauge<L>>[3]) =>
    new ScrapeGauge<L>(registry, source, { name, help, labelNames }, fill);

  // Counts print 0 for every known label set while nothing is counted, so a panel shows 0, not "No data".
  gauge('ctb_open_orders', 'Order intents not yet settled (pending, sent, open), by mode and status.', ['mode', 'status'], (g, s) => {
    for (const mode of MODES) for (const status of UNSETTLED_STATUSES) g.set({ mode, status }, 0);
    for (const o of s.ops.openOrders) g.set({ mode: o.mode, status: o.status }, o.n);
  });
  // +Inf before the first beat, so a rule such as `> 60` fires for an engine that never started.
  // On the database's clock, which the engine beats on: this replica's clock may be minutes off the engine's.
  gauge('ctb_engine_heartbeat_age_seconds', 'Seconds since the engine last beat (+Inf before its first beat).', [], (g, s) => {
    g.set(s.ops.heartbeatAgeMs !== null ? Math.max(0, s.ops.heartbeatAgeMs / 1000) : Number.POSITIVE_INFINITY);
  });
  gauge('ctb_bot_halted', '1 when the bot is halted (kill switch).', [], (g, s) => g.set(s.ops.halted ? 1 : 0));
  // What trades, by the one rule every view shows (domain/engine-mode.ts): unknown while a stale armed
  // holder may resume LIVE trading if it wakes — never counted as paper.
  gauge('ctb_bot_mode', 'The mode the engine trades in: 1 on exactly one of live, paper or unknown (a stale engine lease whose armed holder may resume LIVE trading if it wakes), 0 on the others.', ['mode'], (g, s) => {
    const mode = engineMode(s.ops, s.engine);
    for (const m of ENGINE_MODES) g.set({ mode: m }, m === mode ? 1 : 0);
  });
  gauge('ctb_bot_requested_mode', 'The mode bot_state asks for (what was approved, whatever runs): 1 on paper or live, 0 on the other.', ['mode'], (g, s) => {
    for (const m of MODES) g.set({ mode: m }, m === s.ops.mode ? 1 : 0);
  });
  gauge('ctb_alerts_open', 'Alert groups not resolved, by severity and status.', ['severity', 'status'], (g, s) => {
    for (const a of s.ops.alertsOpen) g.set({ severity: a.severity, status: a.status }, a.n);
  });
  gauge('ctb_escalations_active', 'Critical alerts whose escalation timer is running.', [], (g, s) => g.set(s.ops.escalationsActive));
  gauge('ctb_alert_outbox_pending', 'Alert deliveries stored but not yet sent (Slack posts, DMs, email), by kind.', ['kind'], (g, s) => {
    for (const kind of DELIVERY_KINDS) g.set({ kind }, 0);
    for (const o of s.ops.outbox) g.set({ kind: o.kind }, o.n);
  });
  gauge('ctb_alert_outbox_oldest_age_seconds', 'Age of the oldest alert delivery not yet sent (0 when none waits).', [], (g, s) => {
    const oldest = s.ops.outbox.reduce<number | null>((m, o) => (m === null ? o.oldest.getTime() : Math.min(m, o.oldest.getTime())), null);
    g.set(oldest === null ? 0 : Math.max(0, (s.now.getTime() - oldest) / 1000));
  });
}
