import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import type { OwnedContext } from '../../../src/app/build-context.js';
import { ManualClock } from '../../../src/clock.js';
import { createHttpServer, type HttpServer } from '../../../src/http/server.js';
import { healthFeature } from '../../../src/http/health.js';
import { silentLogger } from '../../../src/logger.js';
import { metricsFeature } from '../../../src/metrics/feature.js';
import { ctbMetrics } from '../../../src/metrics/instruments.js';
import { updateBotState } from '../../../src/services/bot-state.js';
import { testContext } from '../../support/app-context.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { FIXTURE_NOW, seedHandComputedLedger } from '../../support/factories/stats-ledger-fixture.js';

/** The value of the sample whose name and labels match, from Prometheus text. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (.+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return m[3] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[3]);
  }
  return undefined;
}

describe('GET /metrics', () => {
  let database: TestDatabase;
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
    ctx = await testContext({ database, clock: new ManualClock(FIXTURE_NOW) });
    http = createHttpServer(silentLogger());
    for (const f of [healthFeature, metricsFeature]) await f.start(ctx, http, { role: 'all', feed: 'kraken' });
    base = `http://127.0.0.1:${await http.listen(0, '127.0.0.1')}`;
  });
  afterAll(async () => {
    await http?.close();
    await ctx?.close();
    await database?.close();
  });

  it('exports trade counts, outcomes, ROI, equity and drawdown per book from the ledger', async () => {
    const text = await scrape();
    expect(sample(text, 'ctb_trades', { book: 'paper', status: 'closed' })).toBe(4);
    expect(sample(text, 'ctb_trades', { book: 'paper', status: 'open' })).toBe(1);
    expect(sample(text, 'ctb_trades', { book: 'live', status: 'closed' })).toBe(1);
    expect(sample(text, 'ctb_trades', { book: 'replay', status: 'closed' })).toBe(2);
    expect(sample(text, 'ctb_trade_outcomes', { book: 'paper', outcome: 'win' })).toBe(2);
    expect(sample(text, 'ctb_trade_outcomes', { book: 'paper', outcome: 'loss' })).toBe(1);
    expect(sample(text, 'ctb_roi_pct', { book: 'paper' })).toBeCloseTo(0.0929, 6);
    expect(sample(text, 'ctb_equity', { book: 'paper' })).toBe(10780);
    expect(sample(text, 'ctb_drawdown_pct', { book: 'paper', kind: 'max' })).toBe(10);
    expect(sample(text, 'ctb_drawdown_pct', { book: 'paper', kind: 'current' })).toBe(2);
    expect(sample(text, 'ctb_realized_pnl', { book: 'paper' })).toBeCloseTo(9.285, 9);
    expect(sample(text, 'ctb_database_up')).toBe(1);
    // Every sample carries the service label Grafana filters on.
    expect(text).toMatch(/ctb_trades\{[^}]*service="ctb"/);
  });

  it('reports the engine heartbeat age and halted state at scrape time', async () => {
    expect(sample(await scrape(), 'ctb_engine_heartbeat_age_seconds')).toBe(Number.POSITIVE_INFINITY); // never beat yet
    await updateBotState(ctx.db, ctx.clock, { engineHeartbeatAt: new Date('2026-01-10T11:59:15Z'), halted: true });
    const text = await new Promise<string>((r) => setTimeout(() => r(scrape()), 1100)); // past the 1 s scrape cache
    expect(sample(text, 'ctb_engine_heartbeat_age_seconds')).toBe(45);
    expect(sample(text, 'ctb_bot_halted')).toBe(1);
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

  it('has a Grafana dashboard whose queries name only metrics this registry exports', async () => {
    const dashboard = JSON.parse(readFileSync(new URL('../../../grafana/ctb-dashboard.json', import.meta.url), 'utf8'));
    const exported = new Set((await ctx.metrics.getMetricsAsJSON()).map((m) => m.name));
    const titles = dashboard.panels.map((p: { title: string }) => p.title);
    expect(titles).toEqual(expect.arrayContaining(['Closed trades', 'ROI (all time, %)', 'Drawdown (%)']));
    for (const panel of dashboard.panels) {
      for (const target of panel.targets) {
        const names = [...target.expr.matchAll(/\b(ctb_[a-z_]+?)(?:_bucket)?\b(?=[{[)\s]|$)/g)].map((x: RegExpMatchArray) => x[1]);
        expect(names.length, panel.title).toBeGreaterThan(0);
        for (const name of names) expect(exported, `${panel.title}: ${name}`).toContain(name);
      }
    }
  });
});

describe('GET /metrics when the database is unreachable', () => {
  it('answers with ctb_database_up 0 and leaves the ledger gauges out', async () => {
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
      expect(sample(text, 'ctb_bot_halted')).toBeNaN(); // unknown, not a reassuring 0
    } finally {
      await http.close();
      await ctx.close();
    }
  });
});
