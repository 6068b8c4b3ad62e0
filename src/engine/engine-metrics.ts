// Owns the engine's Prometheus metrics (served at GET /metrics), registered once per registry.
import { Counter, Gauge, type Registry } from 'prom-client';

export interface EngineMetrics {
  candles: Counter;
  orders: Counter<'outcome'>;
  equity: Gauge;
  drawdown: Gauge;
}

function once<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function engineMetrics(registry: Registry): EngineMetrics {
  const registers = [registry];
  return {
    candles: once(registry, 'ctb_engine_candles_total', () => new Counter({ name: 'ctb_engine_candles_total', help: 'Closed candles processed by the engine', registers })),
    orders: once(registry, 'ctb_engine_orders_total', () => new Counter({ name: 'ctb_engine_orders_total', help: 'Orders by outcome', labelNames: ['outcome'] as const, registers })),
    equity: once(registry, 'ctb_engine_equity', () => new Gauge({ name: 'ctb_engine_equity', help: 'Marked equity in the quote currency', registers })),
    drawdown: once(registry, 'ctb_engine_drawdown_pct', () => new Gauge({ name: 'ctb_engine_drawdown_pct', help: 'Drawdown from the equity peak, percent', registers })),
  };
}
