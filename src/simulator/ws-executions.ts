// Owns the simulator's WebSocket v2 endpoint (ws://127.0.0.1:PORT/v2, beside its REST API) and the
// one channel the bot uses there, `executions`, in Kraken's documented format: subscribe with a
// token GetWebSocketsToken issued (accepted within 15 minutes of issue, as Kraken does), a snapshot
// of open orders (snap_orders) and the last 50 trades (snap_trades) on subscribe, then an update per
// order event — pending_new and new when placed, a trade per fill (order_status partially_filled, as
// Kraken may report even for the last fill), then filled / canceled / expired with cum_qty — and a
// heartbeat every second; ping is answered with pong. Faults for rehearsals and tests: drop every
// socket (and refuse new ones for a while), and refuse every token.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import { pairOf } from './catalogue.js';
import type { SimContext } from './context.js';
import { d } from './format.js';
import { WS_TOKEN_TTL_MS } from './private-api.js';
import { isOpen, type SimExecution, type SimOrder, type SimTrade } from './types.js';

export const WS_PATH = '/v2';
const HEARTBEAT_MS = 1_000;
const SNAPSHOT_TRADES = 50;

type Entry = Record<string, unknown>;

const num = (v: string | number | undefined) => (v === undefined ? undefined : Number(v));
const iso = (unixSeconds: number) => new Date(Math.round(unixSeconds * 1000)).toISOString();

/** The order's fields every entry about it carries. */
function orderFields(o: SimOrder): Entry {
  const pair = pairOf(o.pair);
  return {
    order_id: o.txid, ...(o.cl_ord_id !== undefined ? { cl_ord_id: o.cl_ord_id } : {}), order_userref: o.userref ?? 0,
    symbol: pair?.symbol ?? o.pair, side: o.type, order_type: o.ordertype, order_qty: num(o.vol),
    ...(o.price !== undefined ? { limit_price: num(o.price) } : {}), fee_ccy_pref: o.oflags?.includes('fcib') ? 'fcib' : 'fciq',
  };
}

function cumulative(o: SimOrder): Entry {
  const filled = d(o.vol_exec);
  return {
    cum_qty: num(o.vol_exec), cum_cost: num(o.cost ?? '0'),
    avg_price: filled.gt(0) ? d(o.cost ?? 0).div(filled).toDecimalPlaces(8).toNumber() : 0,
  };
}

function openStatus(o: SimOrder): 'new' | 'partially_filled' {
  return d(o.vol_exec).gt(0) ? 'partially_filled' : 'new';
}

function endedStatus(o: SimOrder): 'filled' | 'canceled' | 'expired' {
  return o.status === 'closed' ? 'filled' : o.status === 'expired' ? 'expired' : 'canceled';
}

/** A fill as Kraken streams it: exec_id is the trade id REST answers with, trade_id its number. */
export function tradeEntry(o: SimOrder | undefined, t: SimTrade, withOrderState: boolean): Entry {
  const pair = pairOf(t.pair);
  const quote = pair?.symbol.split('/')[1] ?? 'USD';
  return {
    ...(o ? orderFields(o) : { order_id: t.ordertxid, symbol: pair?.symbol ?? t.pair, side: t.type, order_type: t.ordertype ?? 'market' }),
    exec_type: 'trade', exec_id: t.txid, trade_id: t.trade_id ?? 0,
    last_qty: num(t.vol), last_price: num(t.price), cost: num(t.cost ?? d(t.price).mul(t.vol).toFixed()),
    liquidity_ind: t.maker ? 'm' : 't', fees: [{ asset: quote, qty: num(t.fee) }], fee_usd_equiv: num(t.fee),
    ...(withOrderState && o ? { order_status: 'partially_filled', ...cumulative(o) } : {}),
    timestamp: iso(t.time),
  };
}

/** Every entry one simulator event makes, in the order Kraken sends them. */
export function entriesOf(e: SimExecution, nowMs: number): Entry[][] {
  const at = new Date(nowMs).toISOString();
  switch (e.kind) {
    case 'new':
      return [
        [{ ...orderFields(e.order), exec_type: 'pending_new', order_status: 'pending_new', timestamp: at }],
        [{ ...orderFields(e.order), exec_type: 'new', order_status: 'new', ...cumulative(e.order), timestamp: at }],
      ];
    case 'trade':
      return [[tradeEntry(e.order, e.trade, true)]];
    case 'ended': {
      const status = endedStatus(e.order);
      return [[{
        ...orderFields(e.order), exec_type: status, order_status: status, ...cumulative(e.order),
        ...(status !== 'filled' && e.order.reason ? { reason: e.order.reason } : {}), timestamp: at,
      }]];
    }
  }
}

/** The snapshot on subscribe: open orders, then the last 50 trades (oldest first). */
export function snapshotOf(ctx: SimContext, nowMs: number): Entry[] {
  const at = new Date(nowMs).toISOString();
  const open = [...ctx.state.orders.values()].filter(isOpen)
    .map((o) => ({ ...orderFields(o), exec_type: 'new', order_status: openStatus(o), ...cumulative(o), timestamp: at }));
  const trades = ctx.state.trades.slice(-SNAPSHOT_TRADES).map((t) => tradeEntry(ctx.state.orders.get(t.ordertxid), t, false));
  return [...open, ...trades];
}

interface Client {
  ws: WebSocket;
  subscribed: boolean;
}

export class SimExecutionsServer {
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #clients = new Set<Client>();
  readonly #heartbeat: NodeJS.Timeout;
  #sequence = 0;
  /** Until this epoch ms, new connections are refused (a dropped-socket fault). */
  refuseUntil = 0;
  /** Refuse every token (an expired or revoked token fault). */
  rejectTokens = false;

  constructor(private readonly ctx: SimContext, server: Server) {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#upgrade(req, socket, head));
    this.#heartbeat = setInterval(() => this.#broadcast({ channel: 'heartbeat' }), HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  get connections(): number {
    return this.#clients.size;
  }

  get subscribers(): number {
    return [...this.#clients].filter((c) => c.subscribed).length;
  }

  /** Streams one simulator event to every subscribed socket. */
  publish(e: SimExecution): void {
    if (this.subscribers === 0) return;
    for (const data of entriesOf(e, this.ctx.now())) this.#broadcast({ channel: 'executions', type: 'update', data, sequence: ++this.#sequence });
  }

  /** Closes every socket at once (no close handshake), and refuses new ones for `refuseMs`. */
  drop(refuseMs = 0): number {
    this.refuseUntil = Date.now() + refuseMs;
    const n = this.#clients.size;
    for (const c of this.#clients) c.ws.terminate();
    this.#clients.clear();
    return n;
  }

  async close(): Promise<void> {
    clearInterval(this.#heartbeat);
    this.drop();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = new URL(req.url ?? '/', 'http://simulator').pathname;
    if (path !== WS_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    if (Date.now() < this.refuseUntil) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      const client: Client = { ws, subscribed: false };
      this.#clients.add(client);
      ws.send(JSON.stringify({ channel: 'status', type: 'update', data: [{ api_version: 'v2', connection_id: Date.now(), system: 'online', version: '2.0.0' }] }));
      ws.on('message', (data) => this.#onMessage(client, data.toString()));
      ws.on('close', () => this.#clients.delete(client));
      ws.on('error', () => this.#clients.delete(client));
    });
  }

  #onMessage(client: Client, text: string): void {
    const timeIn = new Date().toISOString();
    let msg: { method?: unknown; req_id?: unknown; params?: { channel?: unknown; token?: unknown; snap_orders?: unknown; snap_trades?: unknown } };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      return this.#send(client, { error: 'EGeneral:Invalid arguments', success: false, time_in: timeIn, time_out: new Date().toISOString() });
    }
    const reqId = typeof msg.req_id === 'number' ? { req_id: msg.req_id } : {};
    const answer = (body: Entry) => this.#send(client, { ...body, ...reqId, time_in: timeIn, time_out: new Date().toISOString() });
    if (msg.method === 'ping') return answer({ method: 'pong' });
    if (msg.method !== 'subscribe') return answer({ method: String(msg.method), error: 'EGeneral:Invalid arguments:method', success: false });
    const params = msg.params ?? {};
    if (params.channel !== 'executions') return answer({ method: 'subscribe', error: 'EGeneral:Invalid arguments:channel', success: false });
    const issued = typeof params.token === 'string' ? this.ctx.wsTokens.get(params.token) : undefined;
    if (this.rejectTokens || issued === undefined || this.ctx.now() - issued > WS_TOKEN_TTL_MS) {
      return answer({ method: 'subscribe', error: 'ESession:Invalid session', success: false });
    }
    answer({ method: 'subscribe', result: { channel: 'executions', maxratecount: 180, snapshot: true, warnings: [] }, success: true });
    const all = snapshotOf(this.ctx, this.ctx.now());
    const data = all.filter((e) => (e['exec_type'] === 'trade' ? params.snap_trades === true : params.snap_orders !== false));
    this.#send(client, { channel: 'executions', type: 'snapshot', data, sequence: ++this.#sequence });
    client.subscribed = true;
  }

  #send(client: Client, body: unknown): void {
    if (client.ws.readyState === WebSocket.OPEN) client.ws.send(JSON.stringify(body));
  }

  #broadcast(body: Entry): void {
    const text = JSON.stringify(body);
    for (const c of this.#clients) if (c.subscribed && c.ws.readyState === WebSocket.OPEN) c.ws.send(text);
  }
}
