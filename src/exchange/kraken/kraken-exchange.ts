// Owns KrakenExchange: the Exchange port over ccxt's Kraken client, speaking Kraken's raw REST
// endpoints (ccxt signs, paces and classifies errors; we parse answers with zod and keep amounts
// as decimal strings). Order-changing endpoints are refused by ccxt-client's fetch unless armed.
import { Dec as Decimal } from '../../decimal.js';
import type { Exchange as CcxtExchange } from 'ccxt';
import type { z } from 'zod';
import { systemClock, type Clock } from '../../clock.js';
import type { Config } from '../../config/env.js';
import type { Logger } from '../../logger.js';
import { ExchangeError } from '../errors.js';
import type {
  ApiKeyRights, Balance, Candle, Exchange, ExchangeTrade, Market, OrderRequest, OrderState, SystemStatus, Ticker, TradePage,
} from '../types.js';
import { createCcxtKraken, type KrakenClientOptions } from './ccxt-client.js';
import { mapKrakenError } from './map-error.js';
import { keyRightsFromPermissions, KRAKEN_PAGE_SIZE, orderStateOf, tradeOf, validateClientOrderId } from './parse.js';
import * as S from './schemas.js';

export interface KrakenExchangeOptions {
  logger: Logger;
  armed: boolean;
  clock?: Clock;
  /** Our pacing inside Kraken's rate limits: on in production, off against local fakes. */
  enableRateLimit?: boolean;
  rateTier?: KrakenClientOptions['rateTier'];
  timeoutMs?: number;
  onRequest?: KrakenClientOptions['onRequest'];
}

const INTERVAL_MINUTES = { '1m': 1, '5m': 5, '15m': 15, '1h': 60 } as const;

interface MarketIndex {
  bySymbol: Map<string, Market>;
  /** Kraken pair id (XXBTZUSD) and altname (XBTUSD) → market. */
  byKrakenName: Map<string, Market>;
}

export class KrakenExchange implements Exchange {
  readonly venue = 'kraken' as const;
  readonly #config: Config;
  readonly #opts: KrakenExchangeOptions;
  readonly #clock: Clock;
  #client: Promise<CcxtExchange> | undefined;
  #markets: Promise<MarketIndex> | undefined;

  constructor(config: Config, opts: KrakenExchangeOptions) {
    this.#config = config;
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
  }

  #ccxt(): Promise<CcxtExchange> {
    this.#client ??= createCcxtKraken(this.#config, {
      armed: this.#opts.armed,
      withKeys: true,
      enableRateLimit: this.#opts.enableRateLimit ?? true,
      ...(this.#opts.rateTier ? { rateTier: this.#opts.rateTier } : {}),
      ...(this.#opts.timeoutMs !== undefined ? { timeoutMs: this.#opts.timeoutMs } : {}),
      ...(this.#opts.onRequest ? { onRequest: this.#opts.onRequest } : {}),
    });
    return this.#client;
  }

  /**
   * Loads ccxt and builds the client now (at start), so the first kill pays neither; the market
   * index follows in the background (its failure is retried by the first call that needs it).
   */
  async warm(): Promise<void> {
    await this.#ccxt();
    this.#index().catch((err: unknown) => this.#opts.logger.warn({ err }, 'could not load Kraken markets at start; retried on first use'));
  }

  /** One Kraken REST call: ccxt's implicit method, errors mapped once, the result parsed by `schema`. */
  async #call<T extends z.ZodType>(api: 'public' | 'private', endpoint: string, params: Record<string, unknown>, schema: T): Promise<z.output<T>> {
    const client = await this.#ccxt();
    const method = `${api === 'public' ? 'publicGet' : 'privatePost'}${endpoint}`;
    let raw: unknown;
    try {
      raw = await (client as unknown as Record<string, (p: Record<string, unknown>) => Promise<unknown>>)[method]!(params);
    } catch (err) {
      throw mapKrakenError(err, endpoint);
    }
    const result = (raw as { result?: unknown } | null)?.result;
    const parsed = schema.safeParse(result);
    if (!parsed.success) {
      const where = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(result)'}: ${i.message}`).join('; ');
      throw new ExchangeError('rejected', 'unexpected_response', `Kraken ${endpoint} answered in an unexpected format (${where}).`, {
        hint: 'Kraken may have changed its API: check docs.kraken.com and update src/exchange/kraken/schemas.ts.',
      });
    }
    return parsed.data;
  }

  #index(): Promise<MarketIndex> {
    this.#markets ??= (async () => {
      const client = await this.#ccxt();
      try {
        await client.loadMarkets();
      } catch (err) {
        this.#markets = undefined;
        throw mapKrakenError(err, 'AssetPairs');
      }
      const index: MarketIndex = { bySymbol: new Map(), byKrakenName: new Map() };
      for (const m of Object.values(client.markets ?? {})) {
        if (!m || m.spot === false) continue;
        const info = S.assetPairInfo.safeParse(m.info);
        if (!info.success) continue;
        const market: Market = {
          symbol: m.symbol,
          base: m.base,
          quote: m.quote,
          exchangeId: m.id,
          minQuantity: info.data.ordermin ?? '0',
          quantityStep: new Decimal(10).pow(-info.data.lot_decimals).toFixed(),
          priceStep: info.data.tick_size ?? new Decimal(10).pow(-info.data.pair_decimals).toFixed(),
        };
        index.bySymbol.set(market.symbol, market);
        index.byKrakenName.set(m.id, market);
        index.byKrakenName.set(info.data.altname, market);
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

  async createOrder(order: OrderRequest): Promise<OrderState> {
    validateClientOrderId(order.clientOrderId);
    const market = await this.#market(order.symbol);
    const params: Record<string, unknown> = {
      pair: market.exchangeId, type: order.side, ordertype: order.type, volume: order.quantity, cl_ord_id: order.clientOrderId,
    };
    if (order.type === 'limit') {
      if (!order.limitPrice) throw new ExchangeError('rejected', 'invalid_order', 'A limit order needs limitPrice.');
      params['price'] = order.limitPrice;
    }
    const added = await this.#call('private', 'AddOrder', params, S.addOrderResult);
    const txid = added.txid[0]!;
    try {
      const found = await this.#call('private', 'QueryOrders', { txid }, S.queryOrdersResult);
      const info = found[txid];
      if (info) return orderStateOf(txid, info, order.symbol);
    } catch (err) {
      // The order is placed; failing to read it back must not look like a failed order.
      this.#opts.logger.warn({ err, txid }, 'Kraken QueryOrders after AddOrder failed; reporting the order as open');
    }
    return {
      exchangeOrderId: txid, clientOrderId: order.clientOrderId, symbol: order.symbol, side: order.side,
      status: 'open', quantity: order.quantity, filledQuantity: '0', averagePrice: null, trades: [],
    };
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
    const { open } = await this.#call('private', 'OpenOrders', { cl_ord_id: clientOrderId }, S.openOrdersResult);
    const openHit = Object.entries(open).find(([, o]) => o.cl_ord_id === clientOrderId);
    if (openHit) return orderStateOf(openHit[0], openHit[1], symbol);
    const { closed } = await this.#call('private', 'ClosedOrders', { cl_ord_id: clientOrderId }, S.closedOrdersResult);
    const closedHit = Object.entries(closed).find(([, o]) => o.cl_ord_id === clientOrderId);
    return closedHit ? orderStateOf(closedHit[0], closedHit[1], symbol) : null;
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
      if (!(err instanceof ExchangeError) || err.code === 'invalid_key' || (err.kind === 'retryable' && !/404/.test(String((err.cause as Error)?.message)))) throw err;
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
