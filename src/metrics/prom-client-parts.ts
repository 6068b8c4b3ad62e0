// prom-client's registry and the two metric kinds every process builds, each imported from its own
// file. The package's index also loads its cluster aggregator, Pushgateway, Summary (with tdigest),
// the default process metrics and OpenTelemetry's API — about 160 KB of code that every command
// compiled at start although only the process serving GET /metrics uses any of it (it imports the
// index: src/metrics/process-metrics.ts, src/app/features/metrics.ts). The same files either way,
// so a metric made from these classes and one made from the index share one registry.
import RegistryClass from 'prom-client/lib/registry.js';
import CounterClass from 'prom-client/lib/counter.js';
import HistogramClass from 'prom-client/lib/histogram.js';

export const Registry = RegistryClass;
export const Counter = CounterClass;
export const Histogram = HistogramClass;
