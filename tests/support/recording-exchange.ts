// An in-memory Exchange for kill-switch tests: holds open orders, records every call into a shared
// event log (so a test can check what happened before the first database query), and can be told
// to fail, to hang, or to keep orders alive through a cancel (an order the exchange will not drop).
import type { Exchange, OrderState, Venue } from '../../src/exchange/types.js';
import { ExchangeError } from '../../src/exchange/errors.js';

export type ExchangeMode = 'ok' | 'network_error' | 'hang';

export interface RecordingExchange extends Exchange {
  open: OrderState[];
  calls: string[];
  mode: ExchangeMode;
  /** Orders that survive cancel-all (cancelled only by cancelOrder, or never when sticky). */
  sticky: Set<string>;
  deadManTimeouts: number[];
  /** Each call answers this much later (a slow exchange). */
  latencyMs: number;
  /** While set, each call waits for it to settle: an exchange that has not answered yet, until the test says so. */
  hold: Promise<void> | null;
  systemStatus: 'online' | 'maintenance' | 'cancel_only' | 'post_only';
}

export function openOrder(id: string, overrides: Partial<OrderState> = {}): OrderState {
  return {
    exchangeOrderId: id, clientOrderId: `c-${id}`, symbol: 'BTC/USD', side: 'buy', status: 'open',
    quantity: '0.01', filledQuantity: '0', averagePrice: null, trades: [], ...overrides,
  };
}

export function recordingExchange(venue: Venue, events: string[] = [], orders: OrderState[] = []): RecordingExchange {
  const ex: RecordingExchange = {
    venue,
    open: [...orders],
    calls: [],
    mode: 'ok',
    sticky: new Set(),
    deadManTimeouts: [],
    latencyMs: 0,
    hold: null,
    systemStatus: 'online',
    async loadMarkets() { return []; },
    async fetchTicker() { throw new Error('not used'); },
    async fetchCandles() { return []; },
    async fetchBalances() { return []; },
    async createOrder(order) {
      const o = openOrder(`o${ex.open.length + 1}`, { clientOrderId: order.clientOrderId, symbol: order.symbol, side: order.side, quantity: order.quantity });
      ex.open.push(o);
      return o;
    },
    async cancelOrder(id) {
      await gate('cancelOrder');
      ex.open = ex.open.filter((o) => o.exchangeOrderId !== id);
    },
    async cancelAllOrders() {
      await gate('cancelAllOrders');
      const before = ex.open.length;
      ex.open = ex.open.filter((o) => ex.sticky.has(o.exchangeOrderId));
      return { canceled: before - ex.open.length };
    },
    async fetchOpenOrders() {
      await gate('fetchOpenOrders');
      return ex.open.map((o) => ({ ...o }));
    },
    async fetchMyTrades() { return { trades: [] }; },
    async fetchOrderByClientId() { return null; },
    async cancelAllOrdersAfter(ms) {
      await gate('cancelAllOrdersAfter');
      ex.deadManTimeouts.push(ms);
    },
    async fetchKeyRights() { return { canQuery: true, canTrade: true, canCancel: true, canWithdraw: false, source: 'paper' }; },
    async fetchSystemStatus() {
      await gate('fetchSystemStatus');
      return ex.systemStatus;
    },
  } as RecordingExchange;

  async function gate(call: string): Promise<void> {
    ex.calls.push(call);
    events.push(`${venue}:${call}`);
    if (ex.mode === 'network_error') throw new ExchangeError('retryable', 'network', `${venue} unreachable (test)`);
    if (ex.mode === 'hang') await new Promise(() => {});
    if (ex.latencyMs > 0) await new Promise((r) => setTimeout(r, ex.latencyMs));
    if (ex.hold) await ex.hold;
  }
  return ex;
}
