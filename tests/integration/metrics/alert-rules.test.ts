// monitoring/alerts.yml: valid for Prometheus (`promtool check rules`), each rule firing on the cases
// in alerts.test.yml and quiet on the healthy ones (`promtool test rules`), and reading only metric
// names the bot exports — a renamed metric would otherwise leave a rule that can never fire.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { OwnedContext } from '../../../src/app/build-context.js';
import { engineMetrics } from '../../../src/engine/engine-metrics.js';
import { createHttpServer } from '../../../src/http/server.js';
import { silentLogger } from '../../../src/logger.js';
import { metricsFeature } from '../../../src/app/features/metrics.js';
import { testContext } from '../../support/app-context.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { promtool } from '../../support/promtool.js';

interface Rule {
  alert: string;
  expr: string;
  labels: { severity: string };
  annotations: { summary: string; description: string };
}
const rules = (parse(readFileSync(new URL('../../../monitoring/alerts.yml', import.meta.url), 'utf8')) as { groups: Array<{ rules: Rule[] }> })
  .groups.flatMap((g) => g.rules);

describe('monitoring/alerts.yml', () => {
  let database: TestDatabase;
  let ctx: OwnedContext;
  beforeAll(async () => {
    database = await createPostgresTestDb();
    ctx = await testContext({ database });
    await metricsFeature.start(ctx, createHttpServer(silentLogger()), { role: 'all', feed: 'kraken' });
    engineMetrics(ctx.metrics);
  });
  afterAll(async () => {
    await ctx?.close();
    await database?.close();
  });

  it('passes `promtool check rules`', () => {
    const r = promtool(['check', 'rules', 'monitoring/alerts.yml']);
    expect(r.output).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(r.status).toBe(0);
  });

  it('fires each rule on its case and stays quiet on the healthy ones (`promtool test rules`)', () => {
    const r = promtool(['test', 'rules', 'monitoring/alerts.test.yml']);
    expect(r.output).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('covers a stale heartbeat, a halt, a mode unknown, drawdown, exchange errors and an alert backlog, each with a severity and a next step', () => {
    const names = rules.map((r) => r.alert);
    expect(names).toEqual(expect.arrayContaining([
      'CtbEngineHeartbeatStale', 'CtbHalted', 'CtbModeUnknown', 'CtbDrawdownNearLimit', 'CtbDrawdownLimitReached', 'CtbExchangeErrors', 'CtbAlertBacklog',
    ]));
    for (const r of rules) {
      expect(['warning', 'critical'], r.alert).toContain(r.labels.severity);
      expect(r.annotations.summary.length, r.alert).toBeGreaterThan(10);
      expect(r.annotations.description.length, r.alert).toBeGreaterThan(10);
    }
    // Every alert rule's case is in the test file, so none ships untried.
    const cases = readFileSync(new URL('../../../monitoring/alerts.test.yml', import.meta.url), 'utf8');
    for (const name of names) expect(cases, name).toContain(`alertname: ${name}`);
  });

  it('reads only metric names the bot exports', () => {
    const exported = new Set(ctx.metrics.getMetricsAsArray().map((m) => m.name));
    for (const r of rules) {
      const names = [...r.expr.matchAll(/\b(ctb_[a-z_]+)\b/g)].map((m) => m[1]!);
      expect(names.length, r.alert).toBeGreaterThan(0);
      for (const name of names) expect(exported, `${r.alert}: ${name}`).toContain(name);
    }
  });
});
