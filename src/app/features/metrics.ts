// The metrics feature: registers Node's process metrics, the shared counters, the per-process gauges
// (database reachable, exporter role) and the scrape-time database gauges on the context's registry,
// which GET /metrics (src/http/health.ts) serves. Only the metrics exporter prints the database gauges (exporter.ts).
import { Gauge } from 'prom-client';
import type { Feature } from '../feature.js';
import { MetricsExporterRole } from '../../metrics/exporter.js';
import { ctbMetrics } from '../../metrics/instruments.js';
import { collectProcessMetrics } from '../../metrics/process-metrics.js';
import { registerLedgerGauges, registerOperationalGauges } from '../../metrics/ledger-gauges.js';
import { scrapeSource } from '../../metrics/scrape.js';
import { registerTradingStateGauge, tradingMetrics } from '../../metrics/trading-metrics.js';

export const metricsFeature: Feature = {
  name: 'metrics',
  roles: ['all', 'web', 'worker'],
  async start(ctx) {
    collectProcessMetrics(ctx.metrics);
    ctbMetrics(ctx.metrics);
    tradingMetrics(ctx.metrics);
    const role = new MetricsExporterRole(ctx.database, ctx.logger);
    const source = scrapeSource(ctx, role);
    const registers = [ctx.metrics];
    new Gauge({
      name: 'ctb_database_up', help: "1 when this process could read the database at this scrape (each process's own view).", registers,
      async collect() {
        this.set((await source.databaseUp) ? 1 : 0);
      },
    });
    new Gauge({
      name: 'ctb_metrics_exporter', help: '1 on the one process that exports the database-derived gauges, 0 on the others.', registers,
      async collect() {
        this.set((await source.exporting) ? 1 : 0);
      },
    });
    registerLedgerGauges(ctx.metrics, source, ctx);
    registerOperationalGauges(ctx.metrics, source);
    registerTradingStateGauge(ctx.metrics, source);
    return { stop: () => role.release() };
  },
};
