// Owns KrakenExchange: the Exchange port over ccxt's Kraken client, speaking Kraken's raw REST
// endpoints (ccxt signs, paces and classifies errors; we parse answers with zod and keep amounts
// as decimal strings). Order-changing endpoints are refused by ccxt-client's fetch unless armed.
import { Decimal } from '../../money.js';
import type { Exchange as CcxtExchange } from 'ccxt';
import type { z } from 'zod';
import { systemClock, type Clock } from '../../clock.js';
import type { Config } from '../../config/env.js';
import type { Logger } from '../../logger.js';
import { ExchangeError, type ExchangeErrorKind } from '../errors.js';
import { NOT_SENT_LATE, notSentBy, SEND_MIN_LEFT_MS } from '../send-by.js';
import type {
  ApiKeyRights, Balance, Candle, Exchange, ExchangeTrade, ExecutionsListener, ExecutionsWatch, Market, OrderRef, OrderRequest, OrderState,
  SystemStatus, Ticker, TradePage,
} from '../types.js';
import {
  NONCE_RETRY_WAITS_MS, nonceStillRefused, RATE_LIMIT_RETRIES, rateLimited, rateLimitWaitMs, refusedNonce, stillRateLimited, type RateLimitWait,
} from './call-retry.js';
import { createCcxtKraken, httpStatusOf, type KrakenClientOptions } from './ccxt-client.js';
import { changesOrders, mapKrakenError, unexpectedFormat, unreadableAnswer } from './map-error.js';
import { listedMarkets } from './listed-markets.js';
import { KrakenTime, type KrakenReading } from './kraken-time.js';
import type { TimeAnswer } from './kraken-time-answer.js';
import { keyRightsFromPermissions, KRAKEN_PAGE_SIZE, orderStateOf, tradeIdsOf, tradeOf, validateClientOrderId } from './parse.js';
import * as S from './schemas.js';
import type { KrakenOrder, KrakenTrade } from './schemas.js';
import { KrakenExecutionsStream, type ExecutionsStreamOptions } from './ws-executions.js';
import { webSocketsTokenResult } from './ws-schemas.js';

export interface KrakenExchangeOptions {
  logger: Logger;
  armed: boolean;
  clock?: Clock;
  /** Our pacing inside Kraken's rate limits: on in production, off against local fakes. */
  enableRateLimit?: boolean;
  rateTier?: KrakenClientOptions['rateTier'];
  timeoutMs?: number;
  onRequest?: KrakenClientOptions['onRequest'];
  /** Gives up every REST call still waiting for Kraken's answer, and refuses any after (ccxt-client.ts). */
  abandon?: AbortSignal;
  /** The executions link's timings (tests shorten them). */
  executions?: Pick<ExecutionsStreamOptions, 'backoff' | 'silenceMs' | 'pingEveryMs'>;
  /**
   * After AddOrder, how long the executions channel (when healthy) is given to report the order
   * ended with all its fills before what it has shown is taken; it replaces the REST read-back.
   */
  wsReadBackMs?: number;
  /**
   * Set by the operator's shell: a read refused with `EAPI:Rate limit exceeded` waits for the key's
   * counter to fall and is asked again (call-retry.ts), and this is told before each wait.
   */
  onRateLimitedRead?: (wait: RateLimitWait) => void;
  /**
   * Told of every private call Kraken refused for the key's rate limit, before anything else is done
   * with it: the key's counter is full, for every process using the key (the shared rate record).
   */
  onRateLimited?: (endpoint: string, err: ExchangeError) => void;
  /** The waits between retries (tests drive them). */
  sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const WS_READ_BACK_MS = 500;

const INTERVAL_MINUTES = { '1m': 1, '5m': 5, '15m': 15, '1h': 60 } as const;
/** Kraken's limits per call: QueryOrders takes up to 50 txids, QueryTrades up to 20. */
const QUERY_ORDERS_MAX = 50;
const QUERY_TRADES_MAX = 20;

interface MarketIndex {
  bySymbol: Map<string, Market>;
  /** Kraken pair id (XXBTZUSD) and altname (XBTUSD) → market. */
  byKrakenName: Map<string, Market>;
}

/**
 * AddOrder's `deadline` for an order Kraken must have by `sendByMono` (this host's monotonic clock),
 * on Kraken's clock as `reading` last read it (kraken-time.ts): Kraken's time then plus the monotonic
 * time since; null: this host's wall clock now plus the monotonic time left. Written as Kraken's
 * reference writes it (RFC 3339, e.g. 2021-04-01T00:18:45Z): whole seconds, rounded down — never later
 * than meant. `leftMs`: what that deadline leaves at `monoNow` on the same estimate of Kraken's clock,
 * the figure the send is judged on (send-by.ts).
 */
export function krakenDeadline(
  sendByMono: number, reading: KrakenReading | null, monoNow: number = performance.now(), wallNow: number = Date.now(),
): { deadline: string; leftMs: number } {
  // Kraken's clock (estimated) = the monotonic clock + base.
  const base = reading ? reading.krakenMs - reading.monoMs : wallNow - monoNow;
  const at = Math.floor((sendByMono + base) / 1000) * 1000;
  return { deadline: new Date(at).toISOString().replace('.000Z', 'Z'), leftMs: Math.round(at - (monoNow + base)) };
}

/** Kraken refused AddOrder's deadline: past when it arrived, or outside now + 2 s … 60 s on its clock. */
function deadlineRefused(err: unknown): boolean {
  return err instanceof Error && /Deadline elapsed|Invalid arguments:deadline/i.test(err.message);
}

/** A failed load of Kraken's markets, said as such: the next call that needs them loads them again (ccxt-client.ts). */
function marketsNotLoaded(err: unknown): Error {
  const mapped = mapKrakenError(err, 'AssetPairs');
  if (!(mapped instanceof ExchangeError)) return mapped;
  return new ExchangeError(mapped.kind as ExchangeErrorKind, mapped.code, `Kraken's markets (Assets, AssetPairs) could not be loaded, and are loaded again on the next call: ${mapped.message}`, {
    cause: err, ...(mapped.hint ? { hint: mapped.hint } : {}), ...(mapped.exchangeCode ? { exchangeCode: mapped.exchangeCode } : {}),
  });
}

export class KrakenExchange implements Exchange {
  readonly venue = 'kraken' as const;
  readonly #config: Config;
  readonly #opts: KrakenExchangeOptions;
  readonly #clock: Clock;
  #client: Promise<CcxtExchange> | undefined;
  /** The client once built: a call then reaches ccxt in the same tick (no await before the request). */
  #ready: CcxtExchange | undefined;
  #markets: Promise<MarketIndex> | undefined;
  #stream: KrakenExecutionsStream | undefined;
  #wsProblemLogged = false;
  /** Kraken's clock against this host's, for AddOrder's deadline. */
  readonly #krakenTime: KrakenTime;

  constructor(config: Config, opts: KrakenExchangeOptions) {
    this.#config = config;
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#krakenTime = new KrakenTime({
      logger: opts.logger, ready: () => this.#ccxt(), read: () => this.#timeAnswer(),
    });
  }

  /**
   * Kraken's Time answer for kraken-time.ts to judge. ccxt turns an answer with Kraken's errors into a
   * thrown error: given back as those errors, so it is said as Kraken's answer, not as a failed call —
   * only in an HTTP 200. The same JSON in another status came from something in between
   * (ccxt-client.ts httpStatusOf): a failed call, said with its status.
   */
  async #timeAnswer(): Promise<TimeAnswer> {
    try {
      return { error: [], result: await this.#call('public', 'Time', {}, S.timeResult) };
    } catch (err) {
      if (!(err instanceof ExchangeError) || err.exchangeCode === undefined) throw err;
      const status = httpStatusOf(err.cause);
      if (status === 200) return { error: [err.exchangeCode], result: null };
      throw new Error(`HTTP ${status ?? 'status unknown'}, not Kraken's own answer; its body said ${err.exchangeCode}`, { cause: err });
    }
  }

  #ccxt(): Promise<CcxtExchange> {
    this.#client ??= createCcxtKraken(this.#config, {
      armed: this.#opts.armed,
      withKeys: true,
      enableRateLimit: this.#opts.enableRateLimit ?? true,
      ...(this.#opts.rateTier ? { rateTier: this.#opts.rateTier } : {}),
      ...(this.#opts.timeoutMs !== undefined ? { timeoutMs: this.#opts.timeoutMs } : {}),
      onRequest: (info) => {
        // The round trip of a Time reading starts here, after our rate limiter's wait (kraken-time.ts).
        if (/\/public\/Time(\?|$)/.test(info.url)) this.#krakenTime.left();
        this.#opts.onRequest?.(info);
      },
      ...(this.#opts.abandon ? { abandon: this.#opts.abandon } : {}),
    }).then((client) => (this.#ready = client));
    return this.#client;
  }

  /**
   * Loads ccxt and builds the client now (at start), so the first kill pays neither; the market
   * index follows in the background (its failure is retried by the first call that needs it).
   */
  async warm(): Promise<void> {
    await this.#ccxt();
    this.#index().catch((err: unknown) => {
      // Given up by this process (a kill that has answered): not a failure of Kraken's, and no call follows.
      if (this.#opts.abandon?.aborted) this.#opts.logger.debug({ err }, 'Kraken markets not loaded: this process has given up its Kraken calls');
      else this.#opts.logger.warn({ err }, 'could not load Kraken markets at start; retried on first use');
    });
  }

  /** A live engine starts: Kraken's clock is read now, so its first order finds it read (kraken-time.ts). */
  prepareOrders(): Promise<void> {
    return this.#krakenTime.prime();
  }

  /** One Kraken REST call: ccxt's implicit method, errors mapped once, the result parsed by `schema`. */
  async #call<T extends z.ZodType>(api: 'public' | 'private', endpoint: string, params: Record<string, unknown>, schema: T): Promise<z.output<T>> {
    const client = this.#ready ?? (await this.#ccxt());
    const method = `${api === 'public' ? 'publicGet' : 'privatePost'}${endpoint}`;
    const send = (client as unknown as Record<string, (p: Record<string, unknown>) => Promise<unknown>>)[method]!.bind(client);
    let raw: unknown;
    let nonceRetries = 0;
    let rateRetries = 0;
    let waitedMs = 0;
    for (;;) {
      try {
        raw = await send(params);
        break;
      } catch (err) {
        const httpStatus = httpStatusOf(err);
        const mapped = mapKrakenError(err, endpoint, { httpStatus });
        if (api === 'private' && rateLimited(mapped)) this.#opts.onRateLimited?.(endpoint, mapped as ExchangeError);
        // Sent again (signed again: a fresh nonce) only when Kraken refused the request outright: call-retry.ts.
        if (api === 'private' && refusedNonce(mapped, httpStatus)) {
          if (nonceRetries >= NONCE_RETRY_WAITS_MS.length) throw nonceStillRefused(mapped as ExchangeError, endpoint, nonceRetries + 1);
          this.#opts.logger.warn({ endpoint, retry: nonceRetries + 1 }, 'Kraken refused the nonce (another process using this key sent a higher one first); sending again with a fresh nonce');
          await this.#sleep(NONCE_RETRY_WAITS_MS[nonceRetries++]!);
          continue;
        }
        const onWait = this.#opts.onRateLimitedRead;
        if (api === 'private' && onWait && rateLimited(mapped) && !changesOrders(endpoint)) {
          if (rateRetries >= RATE_LIMIT_RETRIES) throw stillRateLimited(mapped as ExchangeError, endpoint, waitedMs);
          const waitMs = rateLimitWaitMs(this.#opts.rateTier ?? 'starter', endpoint, ++rateRetries);
          onWait({ endpoint, waitMs, retry: rateRetries, of: RATE_LIMIT_RETRIES });
          await this.#sleep(waitMs);
          waitedMs += waitMs;
          continue;
        }
        throw mapped;
      }
    }
    // ccxt hands back the body text when it is not JSON (truncated, empty, HTML): never a result.
    if (typeof raw !== 'object' || raw === null || !('result' in raw)) throw unreadableAnswer(endpoint, raw);
    const parsed = schema.safeParse((raw as { result: unknown }).result);
    if (!parsed.success) {
      throw unexpectedFormat(endpoint, parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(result)'}: ${i.message}`).join('; '));
    }
    return parsed.data;
  }

  #sleep(ms: number): Promise<void> {
    return (this.#opts.sleep ?? realSleep)(ms);
  }

  #index(): Promise<MarketIndex> {
    this.#markets ??= (async () => {
      const client = await this.#ccxt();
      try {
        await client.loadMarkets();
      } catch (err) {
        this.#markets = undefined;
        throw marketsNotLoaded(err);
      }
      const index: MarketIndex = { bySymbol: new Map(), byKrakenName: new Map() };
      for (const { altname, ...market } of listedMarkets(client)) {
        index.bySymbol.set(market.symbol, market);
        index.byKrakenName.set(market.exchangeId!, market);
        index.byKrakenName.set(altname, market);
      }
      return index;
    })();
    return this.#markets;
  }

  async #market(symbol: string): Promise<Market> {
    const market = (await this.#index()).bySymbol.get(symbol);
    if (!market) throw new ExchangeError('rejected', 'bad_symbol', `Kraken has no spot market ${symbol}.`, { hint: 'Use pairs such as BTC/USD that Kraken lists.' });
    return market;
  }

  async #symbolOf(krakenPair: string): Promise<string> {
    return (await this.#index()).byKrakenName.get(krakenPair)?.symbol ?? krakenPair;
  }

  async loadMarkets(): Promise<Market[]> {
    return [...(await this.#index()).bySymbol.values()];
  }

  async fetchTicker(symbol: string): Promise<Ticker> {
    const market = await this.#market(symbol);
    const result = await this.#call('public', 'Ticker', { pair: market.exchangeId }, S.tickerResult);
    const entry = result[market.exchangeId!] ?? Object.values(result)[0];
    if (!entry) throw new ExchangeError('rejected', 'unexpected_response', `Kraken Ticker had no entry for ${symbol}.`);
    const vwap24h = new Decimal(entry.p[1]);
    const baseVolume = new Decimal(entry.v[1]);
    return {
      symbol, bid: entry.b[0], ask: entry.a[0], last: entry.c[0],
      baseVolume24h: baseVolume.toFixed(), quoteVolume24h: baseVolume.mul(vwap24h).toFixed(), at: this.#clock.now(),
    };
  }

  async fetchCandles(symbol: string, timeframe: '1m' | '5m' | '15m' | '1h', since?: Date): Promise<Candle[]> {
    const market = await this.#market(symbol);
    const params: Record<string, unknown> = { pair: market.exchangeId, interval: INTERVAL_MINUTES[timeframe] };
    if (since) params['since'] = Math.floor(since.getTime() / 1000);
    const result = await this.#call('public', 'OHLC', params, S.ohlcResult);
    const rows = Object.entries(result).find(([k, v]) => k !== 'last' && Array.isArray(v))?.[1];
    if (!Array.isArray(rows)) return [];
    return rows.map(([time, open, high, low, close, , volume]) => ({
      symbol, openTime: new Date(time * 1000), open: Number(open), high: Number(high), low: Number(low), close: Number(close), volume: Number(volume),
    }));
  }

  async fetchBalances(): Promise<Balance[]> {
    const client = await this.#ccxt();
    await this.#index(); // asset names (XXBT → BTC) come from the loaded currencies
    const result = await this.#call('private', 'BalanceEx', {}, S.balanceExResult);
    const totals = new Map<string, { total: InstanceType<typeof Decimal>; used: InstanceType<typeof Decimal> }>();
    for (const [id, b] of Object.entries(result)) {
      const asset = String(client.safeCurrencyCode(id));
      const prev = totals.get(asset) ?? { total: new Decimal(0), used: new Decimal(0) };
      totals.set(asset, { total: prev.total.plus(b.balance), used: prev.used.plus(b.hold_trade ?? '0') });
    }
    return [...totals].map(([asset, { total, used }]) => ({ asset, total: total.toFixed(), used: used.toFixed(), free: total.minus(used).toFixed() }));
  }

  /**
   * AddOrder, then the order read back with its fills (QueryOrders trades=true, QueryTrades). Fees
   * are asked in the quote currency (oflags fciq) so a sale never needs base asset beyond the
   * position. Once AddOrder answered, nothing after it may look like a failed order: a read-back
   * that fails reports the order open with no fills listed, and the engine follows it up.
   */
  async createOrder(order: OrderRequest): Promise<OrderState> {
    validateClientOrderId(order.clientOrderId);
    // Kraken's clock is read beside the market load, never holding an order longer than a short bound.
    const [market, reading] = await Promise.all([this.#market(order.symbol), order.sendByMono !== undefined ? this.#krakenTime.reading() : null]);
    const params: Record<string, unknown> = {
      pair: market.exchangeId, type: order.side, ordertype: order.type, volume: order.quantity, cl_ord_id: order.clientOrderId, oflags: 'fciq',
      // Self-trade prevention, stated rather than left to Kraken's default (REST `stptype`; `stp_type` on WebSocket v2).
      stptype: this.#config.RISK_SELF_TRADE_PREVENTION,
    };
    if (order.sendByMono !== undefined) {
      // Judged here, right before the request leaves, on the deadline as written (rounded down).
      const { deadline, leftMs } = krakenDeadline(order.sendByMono, reading);
      if (leftMs < SEND_MIN_LEFT_MS) throw new ExchangeError('rejected', NOT_SENT_LATE, notSentBy(deadline, leftMs));
      params['deadline'] = deadline;
    }
    if (order.type === 'limit') {
      if (!order.limitPrice) throw new ExchangeError('rejected', 'invalid_order', 'A limit order needs limitPrice.');
      params['price'] = order.limitPrice;
    }
    const added = await this.#call('private', 'AddOrder', params, S.addOrderResult).catch((err: unknown) => {
      if (order.sendByMono !== undefined && deadlineRefused(err)) this.#krakenTime.doubt();
      throw err;
    });
    const txid = added.txid[0]!;
    await order.onAccepted?.(txid).catch((err: unknown) => this.#opts.logger.warn({ err, txid }, 'could not record that Kraken accepted the order; it is recorded after the read-back'));
    // The executions channel, when healthy, reports the order and its fills without a REST call.
    const streamed = this.#stream?.healthy ? await this.#stream.readBack(txid, this.#opts.wsReadBackMs ?? WS_READ_BACK_MS) : undefined;
    if (streamed && streamed.symbol === order.symbol) {
      this.#opts.logger.debug({ txid, status: streamed.status, fills: streamed.trades.length }, 'order read back from Kraken executions (no REST read-back)');
      return { ...streamed, clientOrderId: streamed.clientOrderId || order.clientOrderId };
    }
    try {
      const [state] = await this.fetchOrders([{ exchangeOrderId: txid, symbol: order.symbol }]);
      if (state) return state;
    } catch (err) {
      this.#opts.logger.warn({ err, txid }, 'Kraken read-back after AddOrder failed; the order is placed and will be followed up');
    }
    return {
      exchangeOrderId: txid, clientOrderId: order.clientOrderId, symbol: order.symbol, side: order.side,
      status: 'open', quantity: order.quantity, filledQuantity: '0', averagePrice: null, trades: [],
    };
  }

  /**
   * Kraken's executions channel (WebSocket v2), one link per adapter shared by its listeners; null
   * when KRAKEN_WS_EXECUTIONS is off or no WebSocket URL is allowed (the reason is logged once).
   */
  watchExecutions(listener: ExecutionsListener): ExecutionsWatch | null {
    if (!this.#config.KRAKEN_WS_EXECUTIONS) return null;
    const url = this.#config.KRAKEN_WS_URL;
    if (!url) {
      if (!this.#wsProblemLogged) this.#opts.logger.warn({ problem: this.#config.krakenWsProblem }, 'no Kraken executions channel: live fills are followed by REST polling only');
      this.#wsProblemLogged = true;
      return null;
    }
    this.#stream ??= new KrakenExecutionsStream({
      url, logger: this.#opts.logger, ...this.#opts.executions,
      token: async () => (await this.#call('private', 'GetWebSocketsToken', {}, webSocketsTokenResult)).token,
    });
    const stream = this.#stream;
    const off = stream.listen(listener);
    return {
      get healthy() {
        return stream.healthy;
      },
      get problem() {
        return stream.healthy ? undefined : stream.lastProblem;
      },
      stop: () => {
        off();
        if (stream.listeners === 0) void stream.stop();
      },
    };
  }

  /** QueryOrders (trades=true) for up to 50 orders a call, then their fills from QueryTrades. */
  async fetchOrders(refs: OrderRef[]): Promise<OrderState[]> {
    const symbols = new Map(refs.map((r) => [r.exchangeOrderId, r.symbol]));
    const found: Array<[string, KrakenOrder]> = [];
    const ids = [...symbols.keys()];
    for (let i = 0; i < ids.length; i += QUERY_ORDERS_MAX) {
      const chunk = ids.slice(i, i + QUERY_ORDERS_MAX);
      let result: Record<string, KrakenOrder>;
      try {
        result = await this.#call('private', 'QueryOrders', { txid: chunk.join(','), trades: true }, S.queryOrdersResult);
      } catch (err) {
        // Kraken answers EOrder:Invalid order when none of the ids is known to it (yet).
        if (err instanceof ExchangeError && err.kind === 'rejected' && /Invalid order|Unknown order/i.test(err.exchangeCode ?? '')) continue;
        throw err;
      }
      for (const [txid, o] of Object.entries(result)) found.push([txid, o]);
    }
    return this.#withTrades(found, (txid, o) => symbols.get(txid) ?? this.#symbolOf(o.descr.pair));
  }

  /** Orders with the fills Kraken lists for them: one QueryTrades per 20 trade ids. */
  async #withTrades(orders: Array<[string, KrakenOrder]>, symbolOf: (txid: string, o: KrakenOrder) => string | Promise<string>): Promise<OrderState[]> {
    const tradeIds = orders.flatMap(([, o]) => tradeIdsOf(o));
    const listed = new Map<string, KrakenTrade>();
    for (let i = 0; i < tradeIds.length; i += QUERY_TRADES_MAX) {
      const chunk = tradeIds.slice(i, i + QUERY_TRADES_MAX);
      const result = await this.#call('private', 'QueryTrades', { txid: chunk.join(',') }, S.queryTradesResult);
      for (const [id, t] of Object.entries(result)) listed.set(id, t);
    }
    const index = await this.#index();
    return Promise.all(orders.map(async ([txid, o]) => {
      const symbol = await symbolOf(txid, o);
      const quote = index.bySymbol.get(symbol)?.quote;
      const trades = tradeIdsOf(o).flatMap((id) => {
        const t = listed.get(id);
        // A trade of another order under our id would be a Kraken bug; never book it against this one.
        return t && t.ordertxid === txid ? [tradeOf(id, t, symbol, quote, o)] : [];
      });
      return orderStateOf(txid, o, symbol, trades);
    }));
  }

  async cancelOrder(exchangeOrderId: string): Promise<void> {
    await this.#call('private', 'CancelOrder', { txid: exchangeOrderId }, S.countResult);
  }

  async cancelAllOrders(): Promise<{ canceled: number }> {
    const { count } = await this.#call('private', 'CancelAll', {}, S.countResult);
    return { canceled: count };
  }

  async cancelAllOrdersAfter(timeoutMs: number): Promise<void> {
    await this.#call('private', 'CancelAllOrdersAfter', { timeout: Math.ceil(timeoutMs / 1000) }, S.cancelAfterResult);
  }

  async fetchSystemStatus(): Promise<SystemStatus> {
    return (await this.#call('public', 'SystemStatus', {}, S.systemStatusResult)).status;
  }

  async fetchOpenOrders(symbol?: string): Promise<OrderState[]> {
    const { open } = await this.#call('private', 'OpenOrders', {}, S.openOrdersResult);
    const states = await Promise.all(Object.entries(open).map(async ([txid, o]) => orderStateOf(txid, o, await this.#symbolOf(o.descr.pair))));
    return symbol ? states.filter((s) => s.symbol === symbol) : states;
  }

  /** One page of TradesHistory (Kraken: newest first, 50 a page); `cursor` is Kraken's `ofs`. */
  async fetchMyTrades(params: { since?: Date; cursor?: string }): Promise<TradePage> {
    const ofs = params.cursor === undefined ? 0 : Number(params.cursor);
    if (!Number.isInteger(ofs) || ofs < 0) throw new ExchangeError('rejected', 'bad_cursor', `Bad trade-history cursor "${params.cursor}": expected an offset.`);
    const request: Record<string, unknown> = { ofs };
    if (params.since) request['start'] = Math.floor(params.since.getTime() / 1000);
    const { trades, count } = await this.#call('private', 'TradesHistory', request, S.tradesHistoryResult);
    const page: ExchangeTrade[] = [];
    for (const [id, t] of Object.entries(trades)) page.push(tradeOf(id, t, await this.#symbolOf(t.pair), (await this.#index()).byKrakenName.get(t.pair)?.quote));
    page.sort((a, b) => b.timestamp.getTime() - a.timestamp.getTime());
    const nextOfs = ofs + Object.keys(trades).length;
    const more = Object.keys(trades).length > 0 && nextOfs < count;
    return { trades: page, total: count, ...(more ? { next: String(nextOfs) } : {}) };
  }

  async fetchOrderByClientId(clientOrderId: string, symbol: string): Promise<OrderState | null> {
    validateClientOrderId(clientOrderId);
    const { open } = await this.#call('private', 'OpenOrders', { cl_ord_id: clientOrderId, trades: true }, S.openOrdersResult);
    let hit = Object.entries(open).find(([, o]) => o.cl_ord_id === clientOrderId);
    if (!hit) {
      const { closed } = await this.#call('private', 'ClosedOrders', { cl_ord_id: clientOrderId, trades: true }, S.closedOrdersResult);
      hit = Object.entries(closed).find(([, o]) => o.cl_ord_id === clientOrderId);
    }
    if (!hit) return null;
    const [state] = await this.#withTrades([hit], () => symbol);
    return state ?? null;
  }

  /**
   * The key's rights from GetApiKeyInfo; where Kraken does not offer it, from probes: an
   * authenticated read (BalanceEx) and WithdrawMethods, which answers `EGeneral:Permission denied`
   * to a key that cannot withdraw. Withdraw itself is never called (ccxt-client refuses it anyway).
   */
  async fetchKeyRights(): Promise<ApiKeyRights> {
    try {
      const info = await this.#call('private', 'GetApiKeyInfo', {}, S.apiKeyInfoResult);
      const rights = keyRightsFromPermissions(info.permissions);
      if (!rights.unrecognisedPermissions || info.permissions.includes('withdraw-funds')) return rights;
      // Names the bot does not know: whether the key can withdraw is asked of Kraken, not assumed.
      return { ...rights, canWithdraw: await this.#probeWithdraw(rights.unrecognisedPermissions), withdrawSource: 'withdraw_probe' };
    } catch (err) {
      // Only Kraken's own 404 says the endpoint is missing: a "404" in the message may be the URL's
      // port or the timeout (a call that got no answer would be read as one and the probes sent too).
      if (!(err instanceof ExchangeError) || err.code === 'invalid_key' || (err.kind === 'retryable' && httpStatusOf(err.cause) !== 404)) throw err;
      this.#opts.logger.info({ code: err.code }, 'GetApiKeyInfo unavailable; probing key rights instead');
    }
    await this.#call('private', 'BalanceEx', {}, S.balanceExResult);
    const canWithdraw = await this.#probeWithdraw();
    return { canQuery: true, canTrade: false, canCancel: false, canWithdraw, source: 'withdraw_probe', unknown: ['canTrade', 'canCancel'] };
  }

  /** WithdrawMethods answers `EGeneral:Permission denied` to a key that cannot withdraw. */
  async #probeWithdraw(unrecognised?: string[]): Promise<boolean> {
    try {
      await this.#call('private', 'WithdrawMethods', {}, S.withdrawMethodsResult);
      return true;
    } catch (err) {
      if (err instanceof ExchangeError && err.code === 'permission_denied') return false;
      if (!unrecognised) throw err;
      throw new ExchangeError('retryable', 'key_rights_unknown',
        `Kraken's GetApiKeyInfo names permissions this bot does not know (${unrecognised.join(', ')}) and the withdraw probe did not answer (${err instanceof Error ? err.message : String(err)}): cannot tell whether the key can withdraw.`,
        { cause: err });
    }
  }
}

export { KRAKEN_PAGE_SIZE };
