// Node's default process metrics on the registry a process serves at GET /metrics (the metrics
// feature adds them). They are named ctb_process_… and ctb_nodejs_… (one prefix, not two);
// prom-client's three gauges named `…_total` (active handles, requests, resources summed over their
// types) are dropped: a `_total` suffix is for counters, and the per-type gauges beside them carry
// the same figures. The event-loop delay is sampled every 50 ms, not prom-client's 10: its timer
// woke an idle process 100 times a second, 3.7 ms of CPU a second on this machine (an idle web
// replica uses 12-15 in all), and the stalls worth seeing are tens of milliseconds and more.
import { collectDefaultMetrics, type Registry } from 'prom-client';

const GAUGES_NAMED_TOTAL = ['ctb_nodejs_active_handles_total', 'ctb_nodejs_active_requests_total', 'ctb_nodejs_active_resources_total'];

/** How often the event-loop delay is sampled (prom-client's default: 10 ms). */
export const EVENT_LOOP_SAMPLE_MS = 50;

const collecting = new WeakSet<Registry>();

/** Adds the default process metrics to `registry` once (a second call on it does nothing). */
export function collectProcessMetrics(registry: Registry): void {
  if (collecting.has(registry)) return;
  collecting.add(registry);
  collectDefaultMetrics({ register: registry, prefix: 'ctb_', eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  for (const name of GAUGES_NAMED_TOTAL) registry.removeSingleMetric(name);
}
