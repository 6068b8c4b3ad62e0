// A local fake of Kraken's REST API for tests and end-to-end runs (point KRAKEN_API_URL at `url`):
// a thin wrapper over the product's Kraken simulator (src/simulator/), started in-process with a
// fixed price per pair (no replay, no pace), rate limits off, no slippage and one fill per order.
// It speaks Kraken's documented formats — `{ "error": [...], "result": ... }`, form-encoded private
// POSTs with API-Key/API-Sign headers and an increasing nonce — and records every call.
//
// Stable API (other areas rely on it; add, don't change):
//
//   const kraken = await startFakeKraken({ permissions, balances, trades, ... });  // loopback, port 0
//   kraken.url                      base URL for KRAKEN_API_URL (http://127.0.0.1:PORT)
//   kraken.calls                    every request: { api, endpoint, params, at } (params without nonce)
//   kraken.callsTo('CancelAll')     calls of one endpoint
//   kraken.orderChangingCalls()     calls of AddOrder/EditOrder/AmendOrder/Cancel*/CancelAllOrdersAfter
//   kraken.state                    mutable account: permissions, balances, trades, orders, systemStatus, deadMan
//   kraken.failNext(endpoint, failure, times = 1)
//        failure: a Kraken error string ('EAPI:Invalid nonce', 'EAPI:Rate limit exceeded',
//                 'EGeneral:Permission denied', 'EService:Unavailable', …) answered with HTTP 200,
//                 or { status: 503 } for an HTTP error, or 'reset' to drop the connection.
//   kraken.setLatency(endpoint | '*', ms)   delay answers (a slow Kraken, timeouts)
//   kraken.hold(endpoint)                  answer nothing until the returned release() (a Kraken that has not answered yet)
//   kraken.addTrades(trades) / kraken.addOrder(order)
//   kraken.close()
//   onRequestStart option: (path, performance.now()) as each request's headers arrive (benches)
//   kraken.simulator                the KrakenSimulator behind it (faults, setPrice, advance, …)
//
// Options: permissions (GetApiKeyInfo names, default a Trade key: query-funds, query-open-trades,
// query-closed-trades, modify-trades, close-trades; 'unsupported' makes GetApiKeyInfo answer
// `EGeneral:Unknown method` so clients fall back to the withdraw probe), balances (Kraken asset
// ids → amount), trades (FakeTrade[], any order; served newest first, `pageSize` a page, `ofs`/
// `start`/`end` honoured), orders, tickers (pair id → last price), apiKey/secret (when given, the
// key must match and API-Sign is verified like Kraken does), pageSize (default 50).
// Endpoints enforce Kraken's permissions: a key without a right gets `EGeneral:Permission denied`.
// WithdrawMethods / WithdrawAddresses answer only to keys with withdraw-funds. Withdraw is not
// implemented at all (a call to it is recorded and answered `EGeneral:Permission denied`).
// Orders placed through it are matched like the simulator does: balances enforced, market orders
// filled at the pair's price with Kraken's default fees, limit orders rest until the price crosses.
// AddOrder honours `deadline` on the simulator's clock: past when the request is handled → `EService:
// Deadline elapsed` and nothing placed; unreadable or outside now + 2 s … 60 s → `EGeneral:Invalid
// arguments:deadline` (src/simulator/add-order.ts).
// Its HTTP server keeps Node's defaults (keep-alive, keepAliveTimeout 5 s) on purpose: a client can
// meet a kept-alive connection closed under it, as Kraken's edge closes idle ones, and the product
// must survive that — it is not tuned away here. failNext(endpoint, 'reset') closes a call's
// connection without an answer, deterministically (the client sees "other side closed").
import { KrakenSimulator } from '../../src/simulator/simulator.js';
import { TRADE_KEY_PERMISSIONS } from '../../src/simulator/private-api.js';
import type { RecordedCall, SimOrder, SimState, SimTrade, SystemStatus } from '../../src/simulator/types.js';

export type FakeTrade = SimTrade;
export type FakeOrder = SimOrder;
export type { RecordedCall };

export type Failure = string | { status: number } | 'reset';

export interface FakeKrakenOptions {
  permissions?: string[] | 'unsupported';
  balances?: Record<string, string>;
  trades?: FakeTrade[];
  orders?: FakeOrder[];
  tickers?: Record<string, string>;
  apiKey?: string;
  secret?: string;
  pageSize?: number;
  systemStatus?: SystemStatus;
  /** Called the moment a request's headers arrive (performance.now()), before its body: benches time arrivals with it. */
  onRequestStart?: (path: string, at: number) => void;
}

export { TRADE_KEY_PERMISSIONS };
export const ORDER_CHANGING = new Set(['AddOrder', 'AddOrderBatch', 'EditOrder', 'AmendOrder', 'CancelOrder', 'CancelOrderBatch', 'CancelAll', 'CancelAllOrdersAfter']);

export interface FakeKraken {
  url: string;
  calls: RecordedCall[];
  state: SimState;
  simulator: KrakenSimulator;
  callsTo(endpoint: string): RecordedCall[];
  orderChangingCalls(): RecordedCall[];
  failNext(endpoint: string, failure: Failure, times?: number): void;
  setLatency(endpoint: string, ms: number): void;
  /** Holds `endpoint`'s answers (received, not answered) until the returned function is called. */
  hold(endpoint: string): () => void;
  addTrades(trades: FakeTrade[]): void;
  addOrder(order: FakeOrder): void;
  close(): Promise<void>;
}

export async function startFakeKraken(opts: FakeKrakenOptions = {}): Promise<FakeKraken> {
  const sim = await KrakenSimulator.start({
    ...(opts.apiKey !== undefined ? { apiKey: opts.apiKey } : {}),
    ...(opts.secret !== undefined ? { secret: opts.secret } : {}),
    ...(opts.permissions !== undefined ? { permissions: opts.permissions } : {}),
    ...(opts.balances ? { balances: opts.balances } : {}),
    ...(opts.trades ? { trades: opts.trades } : {}),
    ...(opts.orders ? { orders: opts.orders } : {}),
    ...(opts.pageSize !== undefined ? { pageSize: opts.pageSize } : {}),
    ...(opts.systemStatus ? { systemStatus: opts.systemStatus } : {}),
    ...(opts.onRequestStart ? { onRequestStart: opts.onRequestStart } : {}),
    fixedPrices: { XXBTZUSD: '50000.0', XETHZUSD: '3000.00', ...opts.tickers },
    pace: 0,
    rateLimits: false,
    historyCandles: 3,
  });
  return {
    url: sim.url,
    calls: sim.calls,
    state: sim.state,
    simulator: sim,
    callsTo: (endpoint) => sim.calls.filter((c) => c.endpoint === endpoint),
    orderChangingCalls: () => sim.calls.filter((c) => ORDER_CHANGING.has(c.endpoint)),
    failNext(endpoint, failure, times = 1) {
      const spec = failure === 'reset'
        ? { endpoint, kind: 'reset' as const, times }
        : typeof failure === 'object'
          ? { endpoint, kind: 'http_5xx' as const, status: failure.status, json: true, times }
          : { endpoint, kind: 'error' as const, message: failure, times };
      sim.faults.add(spec);
    },
    setLatency: (endpoint, ms) => void sim.latency.set(endpoint, ms),
    hold: (endpoint) => sim.hold(endpoint),
    addTrades: (trades) => void sim.state.trades.push(...trades),
    addOrder: (order) => void sim.state.orders.set(order.txid, order),
    close: () => sim.close(),
  };
}

/** Builds `n` Kraken-format trades, newest at `newest` (unix seconds), one a minute apart. */
export function fakeTrades(n: number, opts: { newest?: number; pair?: string; prefix?: string } = {}): FakeTrade[] {
  const newest = opts.newest ?? 1_767_614_400; // 2026-01-05T12:00:00Z
  const prefix = opts.prefix ?? 'T';
  return Array.from({ length: n }, (_, i) => ({
    txid: `${prefix}${String(i).padStart(5, '0')}-FAKE-TRADE`,
    ordertxid: `O${prefix}${String(i).padStart(5, '0')}-FAKE-ORDER`,
    pair: opts.pair ?? 'XXBTZUSD',
    time: newest - i * 60,
    type: i % 2 === 0 ? 'buy' : 'sell',
    price: (50000 + i).toFixed(1),
    vol: '0.01000000',
    fee: '1.30000',
  }));
}
