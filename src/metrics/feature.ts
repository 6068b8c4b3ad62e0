// The metrics feature: registers the shared counters and the scrape-time ledger gauges on the
// context's registry, which GET /metrics (src/http/health.ts) serves.
import type { Feature } from '../app/feature.js';
import { ctbMetrics } from './instruments.js';
import { registerLedgerGauges } from './ledger-gauges.js';
import { registerTradingStateGauge, tradingMetrics } from './trading-metrics.js';

export const metricsFeature: Feature = {
  name: 'metrics',
  roles: ['all', 'web', 'worker'],
  async start(ctx) {
    ctbMetrics(ctx.metrics);
    registerLedgerGauges(ctx.metrics, ctx);
    registerTradingStateGauge(ctx.metrics, ctx);
    tradingMetrics(ctx.metrics);
  },
};
