// Owns the Prometheus registry served at GET /metrics. Features register their own metrics on it.
import { collectDefaultMetrics, Registry } from 'prom-client';

export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'ctb' });
  collectDefaultMetrics({ register: registry, prefix: 'ctb_process_' });
  return registry;
}
