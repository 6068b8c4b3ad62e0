// Owns the Prometheus registry of a process. Features register their own metrics on it; the
// process that serves GET /metrics adds Node's default process metrics (src/metrics/process-metrics.ts,
// from the metrics feature): a one-shot command has a registry nobody scrapes, so it neither loads
// them nor samples its event loop and garbage collections for them.
import type { Registry as RegistryType } from 'prom-client';
import { Registry } from './prom-client-parts.js';

export function createMetricsRegistry(): RegistryType {
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'ctb' });
  return registry;
}
