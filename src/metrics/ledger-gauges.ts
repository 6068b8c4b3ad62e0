// Owns the gauges computed at scrape time from the database: equity, ROI, drawdown, trade counts,
// PnL, exposure per book; open orders; engine heartbeat age and state; open alerts and active
// escalations. One read per scrape (shared by every gauge, reused for a second), so a Prometheus
// scrape costs the same as one `/stats all`. If the database cannot be read, ctb_database_up is 0
// and the ledger gauges are left out (unlabelled ones read NaN) rather than showing stale figures.
import { Gauge, type Registry } from 'prom-client';
import type { AppContext } from '../app/context.js';
import { operationalFacts, type OperationalFacts } from '../db/queries/stats-metrics.js';
import { computeStats, type StatsReport } from '../services/stats/compute-stats.js';
import { windowFor } from '../services/stats/periods.js';

interface Scrape {
  stats: StatsReport;
  ops: OperationalFacts;
  now: Date;
}

type Deps = Pick<AppContext, 'db' | 'config' | 'clock' | 'logger'>;

const num = (v: string | null | undefined): number | null => (v === null || v === undefined ? null : Number(v));

const registered = new WeakSet<Registry>();

export function registerLedgerGauges(registry: Registry, deps: Deps): void {
  if (registered.has(registry)) return;
  registered.add(registry);
  let cached: { at: number; promise: Promise<Scrape | null> } | null = null;
  const load = (): Promise<Scrape | null> => {
    const t = performance.now();
    if (cached && t - cached.at < 1000) return cached.promise;
    const promise = (async () => {
      try {
        const now = deps.clock.now();
        const [stats, ops] = await Promise.all([
          computeStats(deps, { window: windowFor('all', now), period: 'all', recentLimit: 0 }),
          operationalFacts(deps.db),
        ]);
        return { stats, ops, now };
      } catch (err) {
        deps.logger.warn({ err }, 'metrics scrape could not read the database');
        return null;
      }
    })();
    cached = { at: t, promise };
    return promise;
  };

  const gauge = <L extends string>(name: string, help: string, labelNames: L[], fill: (g: Gauge<L>, s: Scrape) => void) =>
    new Gauge<L>({
      name, help, labelNames, registers: [registry],
      async collect() {
        this.reset();
        const s = await load();
        if (s) fill(this, s);
        // An unlabelled gauge always prints a value; NaN says "unknown" rather than a false 0.
        else if (labelNames.length === 0) (this as Gauge<string>).set(Number.NaN);
      },
    });
  const perBook = (name: string, help: string, pick: (b: StatsReport['books'][number]) => string | null) =>
    gauge(name, help, ['book'], (g, s) => {
      for (const b of s.stats.books) {
        const v = num(pick(b));
        if (v !== null) g.set({ book: b.book }, v);
      }
    });

  new Gauge({
    name: 'ctb_database_up', help: '1 when the last scrape could read the database.', registers: [registry],
    async collect() {
      this.set((await load()) ? 1 : 0);
    },
  });
  perBook('ctb_equity', 'Latest equity snapshot per book (quote currency).', (b) => b.equity?.latest ?? null);
  perBook('ctb_roi_pct', 'All-time realised PnL over starting capital, percent, per book.', (b) => b.roi.totalPct);
  perBook('ctb_realized_pnl', 'All-time realised PnL (net of fees) per book.', (b) => b.pnl.realized);
  perBook('ctb_unrealized_pnl', 'Open positions at the latest snapshot marks, per book.', (b) => b.pnl.unrealized);
  perBook('ctb_fees', 'All-time fees of closed trades per book.', (b) => b.pnl.fees);
  perBook('ctb_exposure', 'Cost basis of open positions per book.', (b) => b.exposure.costBasis);
  gauge('ctb_drawdown_pct', 'Drawdown from the equity peak, percent: kind=current (now) or max (deepest so far).', ['book', 'kind'], (g, s) => {
    for (const b of s.stats.books) {
      const current = num(b.drawdown.currentPct);
      const max = num(b.drawdown.maxPct);
      if (current !== null) g.set({ book: b.book, kind: 'current' }, current);
      if (max !== null) g.set({ book: b.book, kind: 'max' }, max);
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
  gauge('ctb_open_orders', 'Order intents not yet settled (pending, sent, open), by mode and status.', ['mode', 'status'], (g, s) => {
    for (const o of s.ops.openOrders) g.set({ mode: o.mode, status: o.status }, o.n);
  });
  // +Inf before the first beat, so an alert rule such as `> 60` fires for an engine that never started.
  gauge('ctb_engine_heartbeat_age_seconds', 'Seconds since the engine last beat (+Inf before its first beat).', [], (g, s) => {
    g.set(s.ops.heartbeatAt ? Math.max(0, (s.now.getTime() - s.ops.heartbeatAt.getTime()) / 1000) : Number.POSITIVE_INFINITY);
  });
  gauge('ctb_bot_halted', '1 when the bot is halted (kill switch).', [], (g, s) => g.set(s.ops.halted ? 1 : 0));
  gauge('ctb_alerts_open', 'Alert groups not resolved, by severity and status.', ['severity', 'status'], (g, s) => {
    for (const a of s.ops.alertsOpen) g.set({ severity: a.severity, status: a.status }, a.n);
  });
  gauge('ctb_escalations_active', 'Critical alerts whose escalation timer is running.', [], (g, s) => g.set(s.ops.escalationsActive));
}
