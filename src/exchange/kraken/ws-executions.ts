// Owns the link to Kraken's WebSocket v2 `executions` channel: a token from REST GetWebSocketsToken
// for every connection (Kraken's token must be used within 15 minutes of issue and lasts as long as
// the connection it opened, so a fresh one per (re)connect never presents an expired one), the
// subscription with snap_orders and snap_trades (the snapshot after every (re)connect lists open
// orders and the last 50 trades, so fills made while the link was down are still seen), a ping and
// a silence watch (Kraken sends a heartbeat every second; no message for `silenceMs` → reconnect),
// and reconnects with growing, jittered back-off. A message that cannot be read is logged with why —
// never its text, never the token — and changes nothing. Only the orders it changed are handed on.
import { performance } from 'node:perf_hooks';
import type WebSocket from 'ws';
import { Decimal } from '../../money.js';
import { backoffDelay, type Backoff } from '../../retry.js';
import type { Logger } from '../../logger.js';
import type { ExchangeTrade, ExecutionsListener, OrderState } from '../types.js';
import { ExecutionsBook } from './executions-book.js';
import { parseWsMessage } from './ws-schemas.js';

export interface ExecutionsStreamOptions {
  url: string;
  /** A fresh GetWebSocketsToken token (REST); called for every connection. */
  token: () => Promise<string>;
  logger: Logger;
  backoff?: Backoff;
  /** No message for this long (heartbeats come every second): the link is dead. */
  silenceMs?: number;
  pingEveryMs?: number;
}

/** WebSocket readyState OPEN / CLOSED (ws is loaded when the first link opens, never by a kill's import). */
const OPEN = 1;
const CLOSED = 3;
let wsModule: Promise<typeof import('ws')> | undefined;

const DEFAULTS = { backoff: { baseMs: 500, maxMs: 30_000 } as Backoff, silenceMs: 10_000, pingEveryMs: 5_000 };

/** The fills of an order add up to what Kraken says filled, and the order has ended. */
export function finalWithFills(o: OrderState): boolean {
  if (o.status === 'open') return false;
  return o.trades.reduce((s, t: ExchangeTrade) => s.plus(t.quantity), new Decimal(0)).eq(o.filledQuantity);
}

export class KrakenExecutionsStream {
  readonly book = new ExecutionsBook();
  readonly #opts: ExecutionsStreamOptions;
  readonly #listeners = new Set<ExecutionsListener>();
  readonly #changeWaiters = new Set<() => void>();
  #ws: WebSocket | undefined;
  #started = false;
  #stopped = false;
  #subscribedWithSnapshot = false;
  #attempt = 0;
  #refusalReported = false;
  /** Bumped by stop(): a connection begun before it never opens a socket after it. */
  #generation = 0;
  #lastMessage = 0;
  #reqId = 0;
  #timer: NodeJS.Timeout | undefined;
  #watch: NodeJS.Timeout | undefined;
  /** The last reason the link is down or was refused, for health reports. */
  lastProblem: string | undefined;

  constructor(opts: ExecutionsStreamOptions) {
    this.#opts = opts;
  }

  get #silenceMs(): number {
    return this.#opts.silenceMs ?? DEFAULTS.silenceMs;
  }

  /** Subscribed, the snapshot read, and a message heard within the silence limit. */
  get healthy(): boolean {
    return this.#subscribedWithSnapshot && this.#ws?.readyState === OPEN && performance.now() - this.#lastMessage < this.#silenceMs;
  }

  listen(listener: ExecutionsListener): () => void {
    this.#listeners.add(listener);
    this.start();
    return () => this.#listeners.delete(listener);
  }

  get listeners(): number {
    return this.#listeners.size;
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#stopped = false;
    void this.#connect();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#started = false;
    this.#generation += 1;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#watch) clearInterval(this.#watch);
    this.#timer = undefined;
    this.#watch = undefined;
    const ws = this.#ws;
    this.#ws = undefined;
    this.#subscribedWithSnapshot = false;
    if (!ws || ws.readyState === CLOSED) return;
    await new Promise<void>((resolve) => {
      const done = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 1_000);
      ws.once('close', () => {
        clearTimeout(done);
        resolve();
      });
      ws.close();
    });
  }

  /**
   * An order's read-back from the channel: as soon as it has ended with every fill seen; after `ms`,
   * what the channel has shown of it so far (its other fills follow as events). Undefined when the
   * channel has shown nothing of it by then, or the link is not healthy: then the caller asks REST.
   */
  async readBack(orderId: string, ms: number): Promise<OrderState | undefined> {
    const now = this.book.get(orderId);
    if (now && finalWithFills(now)) return now;
    if (!this.healthy) return undefined;
    return new Promise((resolve) => {
      const check = () => {
        const o = this.book.get(orderId);
        if (o && finalWithFills(o)) finish(o);
        else if (!this.healthy) finish(undefined);
      };
      const finish = (o: OrderState | undefined) => {
        clearTimeout(timer);
        this.#changeWaiters.delete(check);
        resolve(o);
      };
      const timer = setTimeout(() => finish(this.healthy ? this.book.get(orderId) : undefined), ms);
      this.#changeWaiters.add(check);
    });
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return;
    const generation = this.#generation;
    let token: string;
    try {
      token = await this.#opts.token();
    } catch (err) {
      if (generation !== this.#generation) return;
      this.#down(`could not get a WebSocket token from Kraken (GetWebSocketsToken): ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    wsModule ??= import('ws');
    const { default: WebSocketClass } = await wsModule;
    if (this.#stopped || generation !== this.#generation) return;
    const ws = new WebSocketClass(this.#opts.url, { handshakeTimeout: 10_000, maxPayload: 16 * 1024 * 1024 });
    this.#ws = ws;
    this.#lastMessage = performance.now();
    ws.on('open', () => {
      ws.send(JSON.stringify({ method: 'subscribe', params: { channel: 'executions', token, snap_orders: true, snap_trades: true }, req_id: ++this.#reqId }));
    });
    ws.on('message', (data, isBinary) => {
      if (this.#ws !== ws) return;
      this.#lastMessage = performance.now();
      this.#onMessage(ws, isBinary ? '' : data.toString());
    });
    ws.on('error', (err) => {
      if (this.#ws === ws) this.lastProblem = `WebSocket error: ${err.message}`;
    });
    ws.on('close', (code) => {
      if (this.#ws !== ws) return;
      this.#ws = undefined;
      this.#down(this.lastProblem ?? `the executions link closed (code ${code})`);
    });
    this.#watch ??= setInterval(() => this.#keepAlive(), Math.min(this.#opts.pingEveryMs ?? DEFAULTS.pingEveryMs, this.#silenceMs / 2));
  }

  #onMessage(ws: WebSocket, text: string): void {
    const msg = parseWsMessage(text);
    const log = this.#opts.logger;
    switch (msg.kind) {
      case 'executions': {
        for (const reason of msg.unreadable) log.warn({ channel: 'executions', reason }, 'unreadable Kraken executions entry ignored; REST polling books it');
        const { changed, skipped } = this.book.apply(msg.entries);
        for (const reason of skipped) log.warn({ channel: 'executions', reason }, 'Kraken execution not booked from the WebSocket; REST polling books it');
        if (msg.type === 'snapshot') {
          const wasDown = this.lastProblem !== undefined;
          this.#subscribedWithSnapshot = true;
          this.#attempt = 0;
          this.#refusalReported = false;
          this.lastProblem = undefined;
          log.info({ orders: changed.length, afterReconnect: wasDown }, 'Kraken executions channel subscribed; snapshot read');
        }
        if (changed.length > 0) for (const l of this.#listeners) this.#tell(l, changed, msg.type === 'snapshot');
        for (const w of [...this.#changeWaiters]) w();
        return;
      }
      case 'refused': {
        this.lastProblem = `Kraken refused the executions ${msg.method}: ${msg.error}`;
        // One error line per outage (it pages through the log alerts); repeats while it lasts are warnings.
        const level = this.#refusalReported ? 'warn' : 'error';
        this.#refusalReported = true;
        log[level]({ channel: 'executions', error: msg.error }, `${this.lastProblem}; fills are followed by REST polling until the link is back`);
        ws.close();
        return;
      }
      case 'unreadable':
        log.warn({ channel: 'executions', reason: msg.reason }, 'unreadable Kraken WebSocket message ignored');
        return;
      default:
        return;
    }
  }

  #tell(listener: ExecutionsListener, orders: OrderState[], snapshot: boolean): void {
    try {
      listener(orders, { snapshot });
    } catch (err) {
      this.#opts.logger.error({ err }, 'an executions listener failed; REST polling books what it missed');
    }
  }

  #keepAlive(): void {
    const ws = this.#ws;
    if (!ws || ws.readyState !== OPEN) return;
    if (performance.now() - this.#lastMessage >= this.#silenceMs) {
      this.lastProblem = `no message from Kraken's executions channel for ${Math.round(this.#silenceMs / 1000)} s`;
      ws.terminate();
      return;
    }
    ws.send(JSON.stringify({ method: 'ping', req_id: ++this.#reqId }));
  }

  #down(reason: string): void {
    this.#subscribedWithSnapshot = false;
    this.lastProblem = reason;
    for (const w of [...this.#changeWaiters]) w();
    if (this.#stopped) return;
    this.#attempt += 1;
    // Jittered, so many bots cut off at once do not all come back in the same instant.
    const wait = backoffDelay(this.#opts.backoff ?? DEFAULTS.backoff, this.#attempt) * (0.8 + Math.random() * 0.4);
    this.#opts.logger.warn({ channel: 'executions', reason, retryInMs: Math.round(wait), attempt: this.#attempt }, 'Kraken executions link down; REST polling follows fills meanwhile');
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#connect();
    }, wait);
  }
}
