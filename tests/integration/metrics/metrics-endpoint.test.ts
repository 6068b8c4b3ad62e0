// GET /metrics on one process: the figures from the ledger, named per Prometheus conventions (ratios,
// seconds, the currency as a label), checked by promtool itself, and the Grafana dashboard reading
// only names this registry exports.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import type { OwnedContext } from '../../../src/app/build-context.js';
import { ManualClock } from '../../../src/clock.js';
import { engineMetrics } from '../../../src/engine/engine-metrics.js';
import { createHttpServer, type HttpServer } from '../../../src/http/server.js';
import { healthFeature } from '../../../src/http/health.js';
import { silentLogger } from '../../../src/logger.js';
import { metricsFeature } from '../../../src/app/features/metrics.js';
import { ctbMetrics } from '../../../src/metrics/instruments.js';
import { updateBotState } from '../../../src/services/bot-state.js';
import { engineHeartbeatAgeMs } from '../../../src/db/queries/bot-state-row.js';
import { testContext } from '../../support/app-context.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { FIXTURE_NOW, seedHandComputedLedger } from '../../support/factories/stats-ledger-fixture.js';
import { promtool } from '../../support/promtool.js';
import { sample, samples } from '../../support/prom-text.js';

interface Panel {
  title: string;
  description?: string;
  targets: Array<{ expr: string; legendFormat?: string }>;
  fieldConfig: { defaults: { unit?: string; thresholds?: { steps: unknown[] }; mappings?: Array<{ options: Record<string, { text: string }> }> } };
}
interface Dashboard {
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query?: unknown; includeAll?: boolean }> };
}
const dashboard = JSON.parse(readFileSync(new URL('../../../grafana/ctb-dashboard.json', import.meta.url), 'utf8')) as Dashboard;
const panel = (title: string): Panel => {
  const p = dashboard.panels.find((x) => x.title === title);
  if (!p) throw new Error(`no panel "${title}" in the dashboard`);
  return p;
};
/** Metric names a PromQL expression reads (histogram series map to their family). */
export const metricNames = (expr: string): string[] =>
  [...expr.matchAll(/\b(ctb_[a-z_]+?)(?:_bucket)?\b(?=[{[)\s]|$)/g)].map((x) => x[1]!);

describe('GET /metrics', () => {
  let database: TestDatabase;
  /** The heartbeat's age on the database's clock now (s): at least what a scrape read just before, however long it took. */
  const heartbeatAgeNow = async () => Number(await engineHeartbeatAgeMs(database.db)) / 1000;
  let ctx: OwnedContext;
  let http: HttpServer;
  let base: string;
  const scrape = async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    return res.text();
  };

  beforeAll(async () => {
    database = await createPostgresTestDb();
    await seedHandComputedLedger(database.db);
    ctx = await testContext({ database, clock: new ManualClock(FIXTURE_NOW), env: { QUOTE_CURRENCY: 'EUR' } });
    http = createHttpServer(silentLogger());
    for (const f of [healthFeature, metricsFeature]) await f.start(ctx, http, { role: 'all', feed: 'kraken' });
    base = `http://127.0.0.1:${await http.listen(0, '127.0.0.1')}`;
  });
  afterAll(async () => {
    await http?.close();
    await ctx?.close();
    await database?.close();
  });

  it('exports trade counts, outcomes, ROI and drawdown ratios, and money labelled with the quote currency', async () => {
    const text = await scrape();
    expect(sample(text, 'ctb_metrics_exporter')).toBe(1);
    expect(sample(text, 'ctb_trades', { book: 'paper', status: 'closed' })).toBe(4);
    expect(sample(text, 'ctb_trades', { book: 'paper', status: 'open' })).toBe(1);
    expect(sample(text, 'ctb_trades', { book: 'live', status: 'closed' })).toBe(1);
    expect(sample(text, 'ctb_trades', { book: 'replay', status: 'closed' })).toBe(2);
    expect(sample(text, 'ctb_trade_outcomes', { book: 'paper', outcome: 'win' })).toBe(2);
    expect(sample(text, 'ctb_trade_outcomes', { book: 'paper', outcome: 'loss' })).toBe(1);
    expect(sample(text, 'ctb_roi_ratio', { book: 'paper' })).toBeCloseTo(0.000929, 8);
    expect(sample(text, 'ctb_equity_snapshot', { book: 'paper', currency: 'EUR' })).toBe(10780);
    expect(sample(text, 'ctb_equity_snapshot_timestamp_seconds', { book: 'paper' })).toBe(Date.parse('2026-01-10T11:30:00Z') / 1000);
    expect(sample(text, 'ctb_drawdown_ratio', { book: 'paper', kind: 'max' })).toBeCloseTo(0.1, 10);
    expect(sample(text, 'ctb_drawdown_ratio', { book: 'paper', kind: 'current' })).toBeCloseTo(0.02, 10);
    expect(sample(text, 'ctb_realized_pnl', { book: 'paper', currency: 'EUR' })).toBeCloseTo(9.285, 9);
    expect(sample(text, 'ctb_risk_limit_ratio', { limit: 'max_drawdown' })).toBeCloseTo(0.1, 10);
    expect(sample(text, 'ctb_database_up')).toBe(1);
    // No money gauge without its currency; no percentages left.
    for (const name of ['ctb_equity_snapshot', 'ctb_realized_pnl', 'ctb_unrealized_pnl', 'ctb_fees', 'ctb_exposure']) {
      const all = samples(text, name);
      expect(all.length, name).toBeGreaterThan(0);
      for (const s of all) expect(s.labels['currency'], name).toBe('EUR');
    }
    expect(text).not.toMatch(/^ctb_\w*_pct\b/m);
    // Every sample carries the service label Grafana filters on.
    expect(text).toMatch(/ctb_trades\{[^}]*service="ctb"/);
  });

  it('reports the engine heartbeat age, halted state, mode and the alert outbox backlog at scrape time', async () => {
    expect(sample(await scrape(), 'ctb_engine_heartbeat_age_seconds')).toBe(Number.POSITIVE_INFINITY); // never beat yet
    // The engine beats on the database's clock; its age is that clock's too (this replica's reads FIXTURE_NOW).
    await updateBotState(ctx.db, ctx.clock, { halted: true });
    await database.db.execute(sql`update bot_state set engine_heartbeat_at = now() - interval '45 seconds'`);
    const text = await scrape();
    expect(sample(text, 'ctb_engine_heartbeat_age_seconds')).toBeGreaterThanOrEqual(45);
    expect(sample(text, 'ctb_engine_heartbeat_age_seconds')).toBeLessThanOrEqual(await heartbeatAgeNow());
    expect(sample(text, 'ctb_bot_halted')).toBe(1);
    expect(sample(text, 'ctb_bot_mode', { mode: 'paper' })).toBe(1);
    expect(sample(text, 'ctb_bot_mode', { mode: 'live' })).toBe(0);
    expect(sample(text, 'ctb_alert_outbox_oldest_age_seconds')).toBe(0);
  });

  it('reports the mode the engine trades in (unknown for a stale armed holder), 1 on exactly one of live, paper, unknown, beside the requested mode', async () => {
    const lease = (armed: boolean, beat: string) => database.db.execute(sql`insert into engine_lease (id, holder_id, host, pid, role, feed, armed, has_kraken_keys, acquired_at, heartbeat_at)
      values (1, 'worker-1:4242:abc', 'worker-1', 4242, 'worker', 'kraken', ${armed}, true, now() - interval '2 hours', now() - ${beat}::interval)
      on conflict (id) do update set armed = excluded.armed, heartbeat_at = excluded.heartbeat_at`);
    const modes = async () => {
      const text = await scrape();
      return {
        trades: Object.fromEntries(['live', 'paper', 'unknown'].map((mode) => [mode, sample(text, 'ctb_bot_mode', { mode })])),
        requested: Object.fromEntries(['live', 'paper'].map((mode) => [mode, sample(text, 'ctb_bot_requested_mode', { mode })])),
      };
    };
    await updateBotState(ctx.db, ctx.clock, { halted: false, mode: 'live' });
    try {
      // A hung armed engine on another host: its lease stopped an hour ago; it may resume LIVE trading if it wakes.
      await lease(true, '1 hour');
      expect(await modes()).toEqual({ trades: { live: 0, paper: 0, unknown: 1 }, requested: { live: 1, paper: 0 } });
      // The same engine renewing its lease: live.
      await lease(true, '0 seconds');
      expect(await modes()).toEqual({ trades: { live: 1, paper: 0, unknown: 0 }, requested: { live: 1, paper: 0 } });
      // Running but not armed: it trades paper, whatever was approved.
      await lease(false, '0 seconds');
      expect(await modes()).toEqual({ trades: { live: 0, paper: 1, unknown: 0 }, requested: { live: 1, paper: 0 } });
    } finally {
      await database.db.execute(sql`delete from engine_lease`);
      await updateBotState(ctx.db, ctx.clock, { mode: 'paper' });
    }
  });

  it("reports the heartbeat's age on the database's clock from a replica whose clock runs 10 minutes ahead of the engine's, or behind it", async () => {
    const clock = ctx.clock as ManualClock;
    try {
      for (const skewMs of [10 * 60_000, -10 * 60_000]) {
        // The engine beat 2 s ago (the database's time), and this replica reads the engine's clock `skewMs` off.
        await database.db.execute(sql`update bot_state set engine_heartbeat_at = now() - interval '2 seconds'`);
        clock.set(new Date(Date.now() + skewMs));
        const age = sample(await scrape(), 'ctb_engine_heartbeat_age_seconds');
        expect(age, `replica ${skewMs > 0 ? 'ahead' : 'behind'}`).toBeGreaterThanOrEqual(2);
        expect(age, `replica ${skewMs > 0 ? 'ahead' : 'behind'}`).toBeLessThanOrEqual(await heartbeatAgeNow());
        // Stale is stale whatever this replica's clock says: a replica behind does not hide it.
        await database.db.execute(sql`update bot_state set engine_heartbeat_at = now() - interval '5 minutes'`);
        expect(sample(await scrape(), 'ctb_engine_heartbeat_age_seconds'), `replica ${skewMs > 0 ? 'ahead' : 'behind'}`).toBeGreaterThanOrEqual(300);
      }
    } finally {
      clock.set(FIXTURE_NOW);
    }
  });

  it('exports 0 open orders and 0 pending alert deliveries for every label while none wait, not "No data"', async () => {
    const text = await scrape();
    for (const mode of ['paper', 'live']) {
      for (const status of ['pending', 'sent', 'open']) expect(sample(text, 'ctb_open_orders', { mode, status }), `${mode} ${status}`).toBe(0);
    }
    for (const kind of ['slack_sync', 'slack_thread_note', 'slack_dm', 'email']) {
      expect(sample(text, 'ctb_alert_outbox_pending', { kind }), kind).toBe(0);
    }
  });

  it('exports the counters and the Slack ack histogram other areas record', async () => {
    const m = ctbMetrics(ctx.metrics);
    m.exchangeErrors.inc({ kind: 'retryable' });
    m.exchangeErrors.inc({ kind: 'retryable' });
    m.exchangeErrors.inc({ kind: 'auth' });
    m.alertsRaised.inc({ severity: 'critical' });
    m.escalations.inc({ step: 'oncall' });
    m.slackAckSeconds.observe({ surface: 'command' }, 0.2);
    m.slackAckSeconds.observe({ surface: 'command' }, 2.5);
    const text = await scrape();
    expect(sample(text, 'ctb_exchange_errors_total', { kind: 'retryable' })).toBe(2);
    expect(sample(text, 'ctb_exchange_errors_total', { kind: 'auth' })).toBe(1);
    expect(sample(text, 'ctb_alerts_raised_total', { severity: 'critical' })).toBe(1);
    expect(sample(text, 'ctb_alert_escalations_total', { step: 'oncall' })).toBe(1);
    expect(sample(text, 'ctb_slack_ack_duration_seconds_bucket', { surface: 'command', le: '0.25' })).toBe(1);
    expect(sample(text, 'ctb_slack_ack_duration_seconds_bucket', { surface: 'command', le: '3' })).toBe(2);
    expect(sample(text, 'ctb_slack_ack_duration_seconds_count', { surface: 'command' })).toBe(2);
  });

  it('names the default process metrics with one prefix and passes `promtool check metrics`', async () => {
    const e = engineMetrics(ctx.metrics);
    e.equity.set({ book: 'paper', currency: 'EUR' }, 9982.45);
    e.drawdown.set({ book: 'paper' }, 0.0175);
    e.candles.inc();
    const text = await scrape();
    expect(sample(text, 'ctb_process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(text).not.toContain('ctb_process_process_');
    expect(sample(text, 'ctb_engine_equity', { book: 'paper', currency: 'EUR' })).toBe(9982.45);
    const check = promtool(['check', 'metrics'], text);
    expect(check.output).toBe('');
    expect(check.status).toBe(0);
  });

  it('promtool would catch a gauge named _total (the check is live, not a rubber stamp)', () => {
    const bad = '# HELP ctb_x_total x\n# TYPE ctb_x_total gauge\nctb_x_total 1\n';
    const check = promtool(['check', 'metrics'], bad);
    expect(check.status).not.toBe(0);
    expect(check.output).toContain('non-counter metrics should not have "_total" suffix');
  });

  it('has a Grafana dashboard whose queries name only metrics this registry exports', async () => {
    engineMetrics(ctx.metrics);
    const exported = new Set((await ctx.metrics.getMetricsAsJSON()).map((m) => m.name));
    const titles = dashboard.panels.map((p) => p.title);
    expect(titles).toEqual(expect.arrayContaining(['Trading', 'Closed trades', 'ROI (all time)', 'Drawdown', 'Equity ($currency)']));
    const queries = [
      ...dashboard.panels.flatMap((p) => p.targets.map((t) => ({ where: p.title, expr: t.expr }))),
      ...dashboard.templating.list.filter((v) => v.type === 'query').map((v) => ({ where: `$${v.name}`, expr: JSON.stringify(v.query) })),
    ];
    for (const { where, expr } of queries) {
      const names = metricNames(expr);
      expect(names.length, where).toBeGreaterThan(0);
      for (const name of names) expect(exported, `${where}: ${name}`).toContain(name);
    }
  });

  it('lets the dashboard pick an instance for the per-process panels, and never sums database facts per instance', () => {
    const instance = dashboard.templating.list.find((v) => v.name === 'instance');
    expect(instance).toMatchObject({ type: 'query', includeAll: true });
    for (const title of ['Database reachable', 'Exchange errors / min', 'Slack ack latency p95', 'Process CPU and memory']) {
      for (const t of panel(title).targets) expect(t.expr, title).toContain('instance=~"$instance"');
    }
    // Database facts come from one replica: filtering them by instance would blank them on the others.
    for (const t of panel('Closed trades').targets) expect(t.expr).not.toContain('$instance');
  });

  it('shows HALTED / LIVE / PAPER / UNKNOWN / REDUCING for the trading state, thresholds where a number means trouble, and no hard-coded currency', () => {
    const trading = panel('Trading');
    const texts = Object.fromEntries(Object.entries(trading.fieldConfig.defaults.mappings![0]!.options).map(([k, v]) => [k, v.text]));
    // The expression is 2 × halted + live + 4 × reducing + 8 × unknown (reducing is never halted; live and
    // unknown are one mode each, and a halted engine trades neither): every combination maps to words.
    expect(texts).toEqual({
      '0': 'PAPER', '1': 'LIVE', '2': 'HALTED', '3': 'HALTED', '4': 'PAPER · REDUCING', '5': 'LIVE · REDUCING',
      '8': 'UNKNOWN · MAY RESUME LIVE', '12': 'UNKNOWN · MAY RESUME LIVE · REDUCING',
    });
    // A term an exporter does not have (mode="unknown" before it existed, during a rolling deploy) counts
    // 0, not "no data" for the whole panel; without the halt gauge itself there is nothing to show.
    expect(trading.targets[0]!.expr).toBe('2 * max(ctb_bot_halted{service="ctb"}) + (max(ctb_bot_mode{service="ctb", mode="live"}) or vector(0)) + 4 * (max(ctb_trading_state{service="ctb", state="reducing"}) or vector(0)) + 8 * (max(ctb_bot_mode{service="ctb", mode="unknown"}) or vector(0))');
    for (const title of ['Engine heartbeat age', 'Drawdown', 'ROI (all time)', 'Alert outbox backlog', 'Slack ack latency p95']) {
      expect(panel(title).fieldConfig.defaults.thresholds?.steps.length, title).toBeGreaterThan(1);
    }
    const json = JSON.stringify(dashboard);
    expect(json).not.toMatch(/USD/);
    for (const title of ['Equity ($currency)', 'Realised / unrealised PnL ($currency)']) {
      for (const t of panel(title).targets) expect(t.legendFormat, title).toContain('{{currency}}');
    }
  });
});

describe('GET /metrics when the database is unreachable', () => {
  it('answers with ctb_database_up 0 and prints no database fact at all (no reassuring zeros)', async () => {
    const database = await createPostgresTestDb();
    const ctx = await testContext({ database });
    const http = createHttpServer(silentLogger());
    for (const f of [healthFeature, metricsFeature]) await f.start(ctx, http, { role: 'all', feed: 'kraken' });
    const port = await http.listen(0, '127.0.0.1');
    await database.close();
    try {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(sample(text, 'ctb_database_up')).toBe(0);
      expect(sample(text, 'ctb_trades', { book: 'paper', status: 'closed' })).toBeUndefined();
      expect(sample(text, 'ctb_bot_halted')).toBeUndefined();
      expect(sample(text, 'ctb_engine_heartbeat_age_seconds')).toBeUndefined();
    } finally {
      await http.close();
      await ctx.close();
    }
  });
});
