// Owns the metrics of operator control and the pre-trade gate:
//   ctb_trading_state{state}        gauge, a state set: 1 for the current state (active, reducing,
//                                   halted), 0 for the others; read from bot_state at scrape time,
//                                   by the metrics exporter only (src/metrics/scrape.ts).
//   ctb_risk_refusals_total{check}  counter: orders the pre-trade gate refused, by check.
// One set per registry (each context and each test has its own).
import { Counter, type Registry } from 'prom-client';
import { TRADING_STATES, tradingStateOf } from '../domain/trading-state.js';
import { ScrapeGauge, type ScrapeSource } from './scrape.js';

export interface TradingMetrics {
  riskRefusals: Counter<'check'>;
}

const byRegistry = new WeakMap<Registry, TradingMetrics>();

export function tradingMetrics(registry: Registry): TradingMetrics {
  const existing = byRegistry.get(registry);
  if (existing) return existing;
  const metrics: TradingMetrics = {
    riskRefusals: new Counter({
      name: 'ctb_risk_refusals_total', help: 'Orders the pre-trade gate refused, by check (notional, price_band, open_orders, rate).',
      labelNames: ['check'], registers: [registry],
    }),
  };
  byRegistry.set(registry, metrics);
  return metrics;
}

const gauges = new WeakSet<Registry>();

/** Registers ctb_trading_state on the registry (once); the exporter reads bot_state at each scrape. */
export function registerTradingStateGauge(registry: Registry, source: ScrapeSource): void {
  if (gauges.has(registry)) return;
  gauges.add(registry);
  // Unknown (the database unreadable, or another replica exports) is no series at all, never a false state.
  new ScrapeGauge(registry, source, {
    name: 'ctb_trading_state', help: 'Trading state as a state set: 1 for the current one (active, reducing = no new entries, halted), 0 for the others.',
    labelNames: ['state'],
  }, (g, s) => {
    const current = tradingStateOf(s.ops);
    for (const state of TRADING_STATES) g.set({ state }, state === current ? 1 : 0);
  });
}
