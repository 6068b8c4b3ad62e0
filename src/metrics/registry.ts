// Owns the Prometheus registry served at GET /metrics. Features register their own metrics on it.
// Node's default process metrics are named ctb_process_… and ctb_nodejs_… (one prefix, not two);
// prom-client's three gauges named `…_total` (active handles, requests, resources summed over their
// types) are dropped: a `_total` suffix is for counters, and the per-type gauges beside them carry
// the same figures.
import { collectDefaultMetrics, Registry } from 'prom-client';

const GAUGES_NAMED_TOTAL = ['ctb_nodejs_active_handles_total', 'ctb_nodejs_active_requests_total', 'ctb_nodejs_active_resources_total'];

export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'ctb' });
  collectDefaultMetrics({ register: registry, prefix: 'ctb_' });
  for (const name of GAUGES_NAMED_TOTAL) registry.removeSingleMetric(name);
  return registry;
}
