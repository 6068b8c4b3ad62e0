// Owns the engine's Prometheus metrics (served at GET /metrics), registered once per registry. They
// live only in the process that runs the engine, so a sum over replicas counts them once. Equity
// and drawdown are the engine's live marks, set on every candle (the database's snapshots lag by up
// to EQUITY_SNAPSHOT_INTERVAL); they carry the book, and equity the quote currency.
import { Counter, Gauge, type Registry } from 'prom-client';

export interface EngineMetrics {
  candles: Counter;
  orders: Counter<'outcome'>;
  equity: Gauge<'book' | 'currency'>;
  drawdown: Gauge<'book'>;
  /** Live orders whose fills were all booked, by how Kraken told them: its executions stream or a REST answer. */
  liveBooked: Counter<'via'>;
  /** 1 while Kraken's executions channel is subscribed and heard from, 0 while live without it. */
  executionsUp: Gauge;
}

function once<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function engineMetrics(registry: Registry): EngineMetrics {
  const registers = [registry];
  return {
    candles: once(registry, 'ctb_engine_candles_total', () => new Counter({ name: 'ctb_engine_candles_total', help: 'Closed candles processed by the engine', registers })),
    orders: once(registry, 'ctb_engine_orders_total', () => new Counter({ name: 'ctb_engine_orders_total', help: 'Orders by outcome', labelNames: ['outcome'] as const, registers })),
    equity: once(registry, 'ctb_engine_equity', () => new Gauge({
      name: 'ctb_engine_equity', help: "The engine's marked equity now (cash plus positions at the last candle), in the quote currency (label currency).",
      labelNames: ['book', 'currency'] as const, registers,
    })),
    drawdown: once(registry, 'ctb_engine_drawdown_ratio', () => new Gauge({
      name: 'ctb_engine_drawdown_ratio', help: "The engine's fall from its equity peak now (0.05 = 5%), the figure its risk guard acts on.",
      labelNames: ['book'] as const, registers,
    })),
    liveBooked: once(registry, 'ctb_live_orders_booked_total', () => new Counter({
      name: 'ctb_live_orders_booked_total', help: "Live orders whose fills were all booked, by how Kraken told them (via: stream = executions channel, poll = REST)",
      labelNames: ['via'] as const, registers,
    })),
    executionsUp: once(registry, 'ctb_kraken_executions_up', () => new Gauge({
      name: 'ctb_kraken_executions_up', help: "1 while Kraken's executions channel is subscribed and heard from; 0 while live without it (fills then come from REST polling)",
      registers,
    })),
  };
}
