// Owns the metrics of operator control and the pre-trade gate:
//   ctb_trading_state{state}        gauge, a state set: 1 for the current state (active, reducing,
//                                   halted), 0 for the others; read from bot_state at scrape time.
//   ctb_risk_refusals_total{check}  counter: orders the pre-trade gate refused, by check.
// One set per registry (each AppContext and each test has its own).
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AppContext } from '../app/context.js';
import { getBotState } from '../services/bot-state.js';
import { TRADING_STATES, tradingStateOf } from '../services/trading-state.js';

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

/** Registers ctb_trading_state on the registry (once); it reads bot_state at each scrape. */
export function registerTradingStateGauge(registry: Registry, deps: Pick<AppContext, 'db' | 'logger'>): void {
  if (gauges.has(registry)) return;
  gauges.add(registry);
  new Gauge({
    name: 'ctb_trading_state', help: 'Trading state as a state set: 1 for the current one (active, reducing = no new entries, halted), 0 for the others.',
    labelNames: ['state'], registers: [registry],
    async collect() {
      this.reset();
      try {
        const current = tradingStateOf(await getBotState(deps.db));
        for (const state of TRADING_STATES) this.set({ state }, state === current ? 1 : 0);
      } catch (err) {
        // Unknown is shown as no series at all (ctb_database_up says why), never as a false state.
        deps.logger.warn({ err }, 'metrics scrape could not read the trading state');
      }
    },
  });
}
