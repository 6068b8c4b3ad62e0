// A local fake of Kraken's REST API for tests and end-to-end runs (point KRAKEN_API_URL at `url`).
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
//   kraken.addTrades(trades) / kraken.addOrder(order)
//   kraken.close()
//   onRequestStart option: (path, performance.now()) as each request's headers arrive (benches)
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
import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeTrade {
  txid: string;
  ordertxid: string;
  pair: string; // Kraken pair id, e.g. XXBTZUSD
  time: number; // unix seconds (fractional allowed)
  type: 'buy' | 'sell';
  ordertype?: string;
  price: string;
  vol: string;
  fee: string;
  cost?: string;
}

export interface FakeOrder {
  txid: string;
  cl_ord_id?: string;
  userref?: number;
  pair: string; // altname as Kraken writes it in descr.pair, e.g. XBTUSD
  type: 'buy' | 'sell';
  ordertype: 'market' | 'limit';
  price?: string;
  vol: string;
  vol_exec: string;
  status: 'pending' | 'open' | 'closed' | 'canceled' | 'expired';
  opentm: number;
}

export interface RecordedCall {
  api: 'public' | 'private';
  endpoint: string;
  method: string;
  params: Record<string, string>;
  at: number;
}

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
  systemStatus?: 'online' | 'maintenance' | 'cancel_only' | 'post_only';
  /** Called the moment a request's headers arrive (performance.now()), before its body: benches time arrivals with it. */
  onRequestStart?: (path: string, at: number) => void;
}

export const TRADE_KEY_PERMISSIONS = ['query-funds', 'query-open-trades', 'query-closed-trades', 'modify-trades', 'close-trades'];
export const ORDER_CHANGING = new Set(['AddOrder', 'AddOrderBatch', 'EditOrder', 'AmendOrder', 'CancelOrder', 'CancelOrderBatch', 'CancelAll', 'CancelAllOrdersAfter']);

const NEEDS: Record<string, string[]> = {
  BalanceEx: ['query-funds'], Balance: ['query-funds'], TradeBalance: ['query-funds'],
  OpenOrders: ['query-open-trades'], QueryOrders: ['query-open-trades'],
  ClosedOrders: ['query-closed-trades'], TradesHistory: ['query-closed-trades'], QueryTrades: ['query-closed-trades'],
  AddOrder: ['modify-trades'], CancelOrder: ['close-trades'], CancelAll: ['close-trades'], CancelAllOrdersAfter: ['close-trades'],
  WithdrawMethods: ['query-funds', 'withdraw-funds'], WithdrawAddresses: ['query-funds', 'withdraw-funds'],
};

const PAIRS: Record<string, { altname: string; wsname: string; base: string; quote: string; ordermin: string; tick: string }> = {
  XXBTZUSD: { altname: 'XBTUSD', wsname: 'XBT/USD', base: 'XXBT', quote: 'ZUSD', ordermin: '0.00005', tick: '0.1' },
  XETHZUSD: { altname: 'ETHUSD', wsname: 'ETH/USD', base: 'XETH', quote: 'ZUSD', ordermin: '0.002', tick: '0.01' },
};
const ASSETS: Record<string, { altname: string; decimals: number }> = {
  XXBT: { altname: 'XBT', decimals: 10 }, XETH: { altname: 'ETH', decimals: 10 }, ZUSD: { altname: 'USD', decimals: 4 },
};

export interface FakeKraken {
  url: string;
  calls: RecordedCall[];
  state: {
    permissions: string[] | 'unsupported';
    balances: Record<string, string>;
    trades: FakeTrade[];
    orders: Map<string, FakeOrder>;
    tickers: Record<string, string>;
    systemStatus: NonNullable<FakeKrakenOptions['systemStatus']>;
    deadMan: { timeoutSeconds: number; triggerAt: number | null };
  };
  callsTo(endpoint: string): RecordedCall[];
  orderChangingCalls(): RecordedCall[];
  failNext(endpoint: string, failure: Failure, times?: number): void;
  setLatency(endpoint: string, ms: number): void;
  addTrades(trades: FakeTrade[]): void;
  addOrder(order: FakeOrder): void;
  close(): Promise<void>;
}

export async function startFakeKraken(opts: FakeKrakenOptions = {}): Promise<FakeKraken> {
  const pageSize = opts.pageSize ?? 50;
  const state: FakeKraken['state'] = {
    permissions: opts.permissions ?? [...TRADE_KEY_PERMISSIONS],
    balances: { ZUSD: '10000.0000', XXBT: '0.0000000000', ...opts.balances },
    trades: [...(opts.trades ?? [])],
    orders: new Map((opts.orders ?? []).map((o) => [o.txid, o])),
    tickers: { XXBTZUSD: '50000.0', XETHZUSD: '3000.00', ...opts.tickers },
    systemStatus: opts.systemStatus ?? 'online',
    deadMan: { timeoutSeconds: 0, triggerAt: null },
  };
  const calls: RecordedCall[] = [];
  const failures = new Map<string, Failure[]>();
  const latency = new Map<string, number>();
  const lastNonce = new Map<string, bigint>();
  let orderSeq = 0;

  const ok = (result: unknown) => ({ error: [], result });
  const err = (message: string) => ({ error: [message] });

  function publicAnswer(endpoint: string, params: Record<string, string>): unknown {
    switch (endpoint) {
      case 'Time': {
        const now = Math.floor(Date.now() / 1000);
        return ok({ unixtime: now, rfc1123: new Date(now * 1000).toUTCString() });
      }
      case 'SystemStatus':
        return ok({ status: state.systemStatus, timestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z') });
      case 'Assets':
        return ok(Object.fromEntries(Object.entries(ASSETS).map(([id, a]) => [id, { aclass: 'currency', altname: a.altname, decimals: a.decimals, display_decimals: 5, status: 'enabled' }])));
      case 'AssetPairs':
        return ok(Object.fromEntries(Object.entries(PAIRS).map(([id, p]) => [id, {
          altname: p.altname, wsname: p.wsname, aclass_base: 'currency', base: p.base, aclass_quote: 'currency', quote: p.quote,
          lot: 'unit', cost_decimals: 5, pair_decimals: p.tick.split('.')[1]?.length ?? 0, lot_decimals: 8, lot_multiplier: 1,
          leverage_buy: [], leverage_sell: [], fees: [[0, 0.4], [10000, 0.35]], fees_maker: [[0, 0.25], [10000, 0.2]],
          fee_volume_currency: 'ZUSD', margin_call: 80, margin_stop: 40, ordermin: p.ordermin, costmin: '0.5', tick_size: p.tick, status: 'online',
        }])));
      case 'Ticker': {
        const pair = params['pair'] ?? 'XXBTZUSD';
        const last = state.tickers[pair];
        if (!last) return err('EQuery:Unknown asset pair');
        const bid = (Number(last) - 0.1).toFixed(1);
        const ask = (Number(last) + 0.1).toFixed(1);
        return ok({ [pair]: { a: [ask, '1', '1.000'], b: [bid, '1', '1.000'], c: [last, '0.01'], v: ['100.0', '250.5'], p: [last, last], t: [1000, 2500], l: [bid, bid], h: [ask, ask], o: last } });
      }
      case 'OHLC': {
        const pair = params['pair'] ?? 'XXBTZUSD';
        const last = state.tickers[pair];
        if (!last) return err('EQuery:Unknown asset pair');
        const interval = Number(params['interval'] ?? 1) * 60;
        const end = Math.floor(Date.now() / 1000 / interval) * interval;
        const rows = Array.from({ length: 3 }, (_, i) => [end - (2 - i) * interval, last, last, last, last, last, '1.5', 10]);
        return ok({ [pair]: rows, last: end });
      }
      default:
        return err('EGeneral:Unknown method');
    }
  }

  function orderJson(o: FakeOrder) {
    const price = o.vol_exec === '0' || Number(o.vol_exec) === 0 ? '0.00000' : (o.price ?? state.tickers[pairIdOf(o.pair)] ?? '0');
    return {
      refid: null, userref: o.userref ?? null, cl_ord_id: o.cl_ord_id ?? null, status: o.status, opentm: o.opentm, starttm: 0, expiretm: 0,
      descr: { pair: o.pair, type: o.type, ordertype: o.ordertype, price: o.price ?? '0', price2: '0', leverage: 'none', order: `${o.type} ${o.vol} ${o.pair} @ ${o.ordertype}`, close: '' },
      vol: o.vol, vol_exec: o.vol_exec, cost: '0', fee: '0', price, stopprice: '0', limitprice: '0', misc: '', oflags: 'fciq',
      ...(o.status === 'closed' || o.status === 'canceled' ? { closetm: o.opentm + 1, reason: null } : {}),
    };
  }

  function pairIdOf(name: string): string {
    return Object.entries(PAIRS).find(([id, p]) => id === name || p.altname === name)?.[0] ?? name;
  }

  function privateAnswer(endpoint: string, params: Record<string, string>): unknown {
    if (endpoint === 'GetApiKeyInfo') {
      if (state.permissions === 'unsupported') return err('EGeneral:Unknown method');
      return ok({ apiKeyName: 'fake-key', apiKey: 'redacted', nonce: '0', nonceWindow: 0, permissions: state.permissions, iban: 'XX00 FAKE', validUntil: '0', queryFrom: '0', queryTo: '0', createdTime: '0', modifiedTime: '0', ipAllowlist: [], lastUsed: '0' });
    }
    if (endpoint === 'Withdraw' || endpoint === 'WalletTransfer') return err('EGeneral:Permission denied');
    const perms = state.permissions === 'unsupported' ? [...TRADE_KEY_PERMISSIONS] : state.permissions;
    const needs = NEEDS[endpoint];
    if (!needs) return err('EGeneral:Unknown method');
    if (!needs.every((p) => perms.includes(p))) return err('EGeneral:Permission denied');
    const matchesClient = (o: FakeOrder) =>
      (params['cl_ord_id'] === undefined || o.cl_ord_id === params['cl_ord_id']) && (params['userref'] === undefined || String(o.userref) === params['userref']);
    switch (endpoint) {
      case 'BalanceEx':
      case 'Balance':
        return ok(Object.fromEntries(Object.entries(state.balances).map(([a, b]) => [a, endpoint === 'Balance' ? b : { balance: b, hold_trade: '0.0000' }])));
      case 'OpenOrders':
        return ok({ open: Object.fromEntries([...state.orders.values()].filter((o) => (o.status === 'open' || o.status === 'pending') && matchesClient(o)).map((o) => [o.txid, orderJson(o)])) });
      case 'ClosedOrders': {
        const closed = [...state.orders.values()].filter((o) => o.status !== 'open' && o.status !== 'pending' && matchesClient(o));
        const ofs = Number(params['ofs'] ?? 0);
        return ok({ closed: Object.fromEntries(closed.slice(ofs, ofs + pageSize).map((o) => [o.txid, orderJson(o)])), count: closed.length });
      }
      case 'QueryOrders': {
        const ids = (params['txid'] ?? '').split(',').filter(Boolean);
        const found = ids.map((id) => state.orders.get(id)).filter((o): o is FakeOrder => o !== undefined);
        if (found.length === 0) return err('EOrder:Invalid order');
        return ok(Object.fromEntries(found.map((o) => [o.txid, orderJson(o)])));
      }
      case 'TradesHistory': {
        const start = params['start'] === undefined ? -Infinity : Number(params['start']);
        const end = params['end'] === undefined ? Infinity : Number(params['end']);
        const all = state.trades.filter((t) => t.time > start && t.time <= end).sort((a, b) => b.time - a.time);
        const ofs = Number(params['ofs'] ?? 0);
        const page = all.slice(ofs, ofs + pageSize);
        return ok({
          trades: Object.fromEntries(page.map((t) => [t.txid, {
            ordertxid: t.ordertxid, postxid: 'TKH2SE-M7IF5-CFI7LT', pair: t.pair, time: t.time, type: t.type, ordertype: t.ordertype ?? 'market',
            price: t.price, cost: t.cost ?? (Number(t.price) * Number(t.vol)).toFixed(5), fee: t.fee, vol: t.vol, margin: '0.00000', leverage: '0', misc: '', trade_id: 1, maker: false,
          }])),
          count: all.length,
        });
      }
      case 'AddOrder': {
        const pairId = pairIdOf(params['pair'] ?? '');
        const pair = PAIRS[pairId];
        if (!pair) return err('EQuery:Unknown asset pair');
        const txid = `OFAKE${String(++orderSeq).padStart(2, '0')}-AAAAA-BBBBBB`;
        const market = params['ordertype'] === 'market';
        const order: FakeOrder = {
          txid, pair: pair.altname, type: params['type'] === 'sell' ? 'sell' : 'buy', ordertype: market ? 'market' : 'limit', vol: params['volume'] ?? '0',
          vol_exec: market ? (params['volume'] ?? '0') : '0', status: market ? 'closed' : 'open', opentm: Date.now() / 1000,
          ...(params['price'] ? { price: params['price'] } : {}), ...(params['cl_ord_id'] ? { cl_ord_id: params['cl_ord_id'] } : {}),
        };
        state.orders.set(txid, order);
        return ok({ descr: { order: `${order.type} ${order.vol} ${order.pair} @ ${order.ordertype}` }, txid: [txid] });
      }
      case 'CancelOrder': {
        const o = state.orders.get(params['txid'] ?? '') ?? [...state.orders.values()].find((x) => x.cl_ord_id === params['cl_ord_id']);
        if (!o || (o.status !== 'open' && o.status !== 'pending')) return err('EOrder:Unknown order');
        o.status = 'canceled';
        return ok({ count: 1 });
      }
      case 'CancelAll': {
        let count = 0;
        for (const o of state.orders.values()) if (o.status === 'open' || o.status === 'pending') { o.status = 'canceled'; count += 1; }
        return ok({ count });
      }
      case 'CancelAllOrdersAfter': {
        const timeout = Number(params['timeout'] ?? 0);
        const now = Date.now();
        state.deadMan = { timeoutSeconds: timeout, triggerAt: timeout > 0 ? now + timeout * 1000 : null };
        const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
        return ok({ currentTime: iso(now), triggerTime: timeout > 0 ? iso(now + timeout * 1000) : '0' });
      }
      case 'WithdrawMethods':
        return ok([{ asset: 'XXBT', method: 'Bitcoin', network: 'Bitcoin', minimum: '0.0004' }]);
      case 'WithdrawAddresses':
        return ok([{ address: 'bc1qfake', asset: 'XBT', method: 'Bitcoin', key: 'cold', verified: true }]);
      default:
        return err('EGeneral:Unknown method');
    }
  }

  function authProblem(req: IncomingMessage, path: string, body: string, params: Record<string, string>): string | undefined {
    const key = req.headers['api-key'];
    const sign = req.headers['api-sign'];
    if (typeof key !== 'string' || key === '' || typeof sign !== 'string') return 'EAPI:Invalid key';
    if (opts.apiKey !== undefined && key !== opts.apiKey) return 'EAPI:Invalid key';
    const nonceText = params['nonce'];
    if (!nonceText || !/^\d+$/.test(nonceText)) return 'EAPI:Invalid nonce';
    if (opts.secret !== undefined) {
      const digest = createHash('sha256').update(nonceText + body).digest();
      const expected = createHmac('sha512', Buffer.from(opts.secret, 'base64')).update(Buffer.concat([Buffer.from(path), digest])).digest('base64');
      if (expected !== sign) return 'EAPI:Invalid signature';
    }
    const nonce = BigInt(nonceText);
    const last = lastNonce.get(key);
    if (last !== undefined && nonce <= last) return 'EAPI:Invalid nonce';
    lastNonce.set(key, nonce);
    return undefined;
  }

  async function handle(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const match = /^\/0\/(public|private)\/([A-Za-z]+)$/.exec(url.pathname);
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    if (!match) return send(404, err('EGeneral:Unknown method'));
    const api = match[1] as 'public' | 'private';
    const endpoint = match[2]!;
    const raw = api === 'public' ? Object.fromEntries(url.searchParams) : Object.fromEntries(new URLSearchParams(body));
    const { nonce: _nonce, ...params } = raw;
    calls.push({ api, endpoint, method: req.method ?? 'GET', params, at: Date.now() });
    const delay = latency.get(endpoint) ?? latency.get('*') ?? 0;
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    const queued = failures.get(endpoint);
    const failure = queued?.shift();
    if (failure !== undefined) {
      if (failure === 'reset') return void req.socket.destroy();
      if (typeof failure === 'object') return send(failure.status, { error: [`EService:Unavailable`] });
      return send(200, err(failure));
    }
    if (api === 'private') {
      const problem = authProblem(req, url.pathname, body, raw);
      if (problem) return send(200, err(problem));
      return send(200, privateAnswer(endpoint, params));
    }
    return send(200, publicAnswer(endpoint, params));
  }

  const server = createServer((req, res) => {
    opts.onRequestStart?.(req.url ?? '/', performance.now());
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks).toString('utf8')).catch((e: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: [`EGeneral:Internal error: ${(e as Error).message}`] }));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    state,
    callsTo: (endpoint) => calls.filter((c) => c.endpoint === endpoint),
    orderChangingCalls: () => calls.filter((c) => ORDER_CHANGING.has(c.endpoint)),
    failNext(endpoint, failure, times = 1) {
      const queue = failures.get(endpoint) ?? [];
      for (let i = 0; i < times; i++) queue.push(failure);
      failures.set(endpoint, queue);
    },
    setLatency: (endpoint, ms) => void latency.set(endpoint, ms),
    addTrades: (trades) => void state.trades.push(...trades),
    addOrder: (order) => void state.orders.set(order.txid, order),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
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
