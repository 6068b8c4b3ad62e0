// Owns the paper venue: an Exchange that fills orders on real prices (the feed's latest candle) with
// Kraken's fees and modelled slippage, and keeps its account and orders in the database so a restart
// resumes the same simulated account. Market orders fill at once; limit orders fill at once when
// marketable (taker) or rest until a later candle trades through them (maker).
import { hash } from 'node:crypto';
import type { Clock } from '../../clock.js';
import type { Db } from '../../db/client.js';
import type { PaperOrder } from '../../db/schema/index.js';
import { Decimal, ZERO, dec, parseDecimal, str } from '../../money.js';
import { ExchangeError } from '../errors.js';
import type {
  ApiKeyRights, Balance, Candle, Exchange, ExchangeTrade, Market, OrderRequest, OrderState, PriceSource, Ticker, TradePage,
} from '../types.js';
import { feeFor, marketFillPrice, type PaperPricing } from './pricing.js';
import * as store from '../../db/queries/exchange-paper.js';

export interface PaperExchangeDeps {
  db: Db;
  clock: Clock;
  prices: PriceSource & { quoteVolume24h?(symbol: string): number | undefined };
  pricing: PaperPricing;
  quoteCurrency: string;
  startingBalance: string;
  /** Pairs the venue lists (TRADING_PAIRS). */
  symbols: string[];
}

const PAGE = 50;

/** Deterministic venue ids: the same client order id always maps to the same order and trade. */
export function paperIds(clientOrderId: string): { orderId: string; tradeId: string } {
  const h = hash('sha256', clientOrderId, 'hex').toUpperCase();
  return { orderId: `PO${h.slice(0, 5)}-${h.slice(5, 10)}-${h.slice(10, 16)}`, tradeId: `PT${h.slice(16, 21)}-${h.slice(21, 26)}-${h.slice(26, 32)}` };
}

function splitSymbol(symbol: string): { base: string; quote: string } {
  const [base, quote] = symbol.split('/');
  return { base: base ?? symbol, quote: quote ?? '' };
}

export class PaperExchange implements Exchange {
  readonly venue = 'paper' as const;
  #balances: Map<string, Decimal> | undefined;
  #serial: Promise<unknown> = Promise.resolve();
  #open: PaperOrder[] | undefined;

  constructor(private readonly deps: PaperExchangeDeps) {}

  /** Orders change balances: run them one at a time within the process. */
  #serialised<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#serial.then(fn, fn);
    this.#serial = run.catch(() => undefined);
    return run;
  }

  async #loadBalances(): Promise<Map<string, Decimal>> {
    if (!this.#balances) {
      await store.seedPaperAccount(this.deps.db, { asset: this.deps.quoteCurrency, amount: this.deps.startingBalance, at: this.deps.clock.now() });
      const rows = await store.readPaperBalances(this.deps.db);
      this.#balances = new Map(rows.map((r) => [r.asset, dec(r.total)]));
    }
    return this.#balances;
  }

  #apply(rows: store.BalanceRow[]): void {
    for (const r of rows) this.#balances?.set(r.asset, dec(r.total));
  }

  #candle(symbol: string): Candle {
    const candle = this.deps.prices.lastCandle(symbol);
    if (!candle) {
      throw new ExchangeError('retryable', 'no_price', `The paper exchange has no price for ${symbol} yet.`, {
        hint: 'Paper fills price against the market feed; wait for its first candle.',
      });
    }
    return candle;
  }

  async loadMarkets(): Promise<Market[]> {
    return this.deps.symbols.map((symbol) => ({
      symbol, ...splitSymbol(symbol), minQuantity: '0.00001', quantityStep: '0.00000001', priceStep: '0.00000001',
    }));
  }

  async fetchTicker(symbol: string): Promise<Ticker> {
    const candle = this.#candle(symbol);
    const half = dec(this.deps.pricing.slippageBps).div(20_000);
    const close = dec(candle.close);
    const quoteVolume = this.deps.prices.quoteVolume24h?.(symbol) ?? 0;
    return {
      symbol, bid: str(close.times(dec(1).minus(half))), ask: str(close.times(dec(1).plus(half))), last: str(close),
      baseVolume24h: str(candle.close > 0 ? dec(quoteVolume).div(candle.close) : ZERO), quoteVolume24h: str(dec(quoteVolume)),
      at: candle.openTime,
    };
  }

  async fetchCandles(symbol: string): Promise<Candle[]> {
    const candle = this.deps.prices.lastCandle(symbol);
    return candle ? [candle] : [];
  }

  async fetchBalances(): Promise<Balance[]> {
    const balances = await this.#serialised(async () => {
      await this.#matchResting();
      // Read from the database, not this instance's copy: another process (a flatten) may have traded on the account.
      this.#apply(await store.readPaperBalances(this.deps.db));
      return this.#loadBalances();
    });
    const reserved = this.#reserved(await store.openPaperOrders(this.deps.db));
    return [...balances.entries()].map(([asset, total]) => {
      const used = reserved.get(asset) ?? ZERO;
      return { asset, total: str(total), used: str(used), free: str(total.minus(used)) };
    });
  }

  /** What open limit orders hold: quote (with the maker fee) for buys, base for sells. */
  #reserved(open: PaperOrder[]): Map<string, Decimal> {
    const out = new Map<string, Decimal>();
    for (const o of open) {
      const { base, quote } = splitSymbol(o.symbol);
      const qty = dec(o.quantity);
      if (o.side === 'buy') {
        const price = dec(o.limitPrice ?? '0');
        const hold = qty.times(price).plus(feeFor(this.deps.pricing, 'maker', qty, price));
        out.set(quote, (out.get(quote) ?? ZERO).plus(hold));
      } else {
        out.set(base, (out.get(base) ?? ZERO).plus(qty));
      }
    }
    return out;
  }

  createOrder(order: OrderRequest): Promise<OrderState> {
    return this.#serialised(() => this.#createOrder(order));
  }

  /**
   * Whether `exchange` is this venue itself (not wrapped: a proxy reaches no private field), so an
   * order may be placed with placeWithin — tests that wrap the venue to fake a network edge keep
   * going through createOrder, as every order to a remote venue does.
   */
  static isVenue(exchange: Exchange): exchange is PaperExchange {
    return typeof exchange === 'object' && exchange !== null && #serial in exchange;
  }

  /**
   * A market order placed as part of the caller's own statement, so that it commits together with
   * what the caller writes beside it (the engine's intent and ledger rows: paper-order.ts). `write`
   * gets the venue's answer and what its part of the statement writes: the order row and balance
   * changes, as the CTEs `o` (the order) and `b` (the balances) write them (store.orderAndBalancesCtes,
   * only when the guard holds). It runs the statement and returns the balances it changed
   * (`returning asset, total` of `b`), or null when it wrote nothing; the venue's own state follows
   * only what was written.
   * A refusal (bad quantity, unknown pair, insufficient funds) is thrown as createOrder throws it,
   * before anything is written.
   */
  placeWithin<T>(
    order: OrderRequest,
    write: (venue: { state: OrderState; row: store.NewPaperOrder; deltas: store.BalanceDelta[] }) => Promise<{ balances: store.BalanceRow[] | null; result: T }>,
  ): Promise<T> {
    return this.#serialised(async () => {
      if (order.type !== 'market') throw new Error('placeWithin places market orders only');
      const plan = await this.#plan(order);
      if ('shortBy' in plan) throw new ExchangeError('rejected', 'insufficient_funds', `Insufficient funds on the paper account: ${plan.shortBy}.`);
      const { row, deltas } = plan;
      const { balances, result } = await write({ state: toOrderState({ id: 0, ...row }), row, deltas });
      if (balances) this.#apply(balances);
      return result;
    });
  }

  /** Prices an order against the latest candle and the free balances; nothing is written. */
  async #plan(order: OrderRequest): Promise<{ row: store.NewPaperOrder; deltas: store.BalanceDelta[] } | { shortBy: string }> {
    const qty = parseDecimal(order.quantity);
    if (!qty || qty.lte(0)) throw new ExchangeError('rejected', 'invalid_quantity', `Order quantity must be a positive decimal, got "${order.quantity}".`);
    if (!this.deps.symbols.includes(order.symbol)) {
      throw new ExchangeError('rejected', 'unknown_pair', `The paper exchange does not list ${order.symbol}; it lists ${this.deps.symbols.join(', ')}.`);
    }
    const limit = order.type === 'limit' ? parseDecimal(order.limitPrice) : undefined;
    if (order.type === 'limit' && (!limit || limit.lte(0))) {
      throw new ExchangeError('rejected', 'invalid_price', `A limit order needs a positive limit price, got "${order.limitPrice ?? ''}".`);
    }
    const candle = this.#candle(order.symbol);
    const balances = await this.#loadBalances();
    const reserved = this.#reserved(await this.#openOrders());
    const { base, quote } = splitSymbol(order.symbol);
    const free = (asset: string) => (balances.get(asset) ?? ZERO).minus(reserved.get(asset) ?? ZERO);
    const now = this.deps.clock.now();
    const ids = paperIds(order.clientOrderId);

    let price = marketFillPrice(this.deps.pricing, order.side, qty, candle);
    let fill = true;
    if (limit) {
      const marketable = order.side === 'buy' ? limit.gte(price) : limit.lte(price);
      if (!marketable) {
        fill = false;
        price = limit;
      }
    }
    const fee = feeFor(this.deps.pricing, fill ? 'taker' : 'maker', qty, price);
    const cost = qty.times(price);
    const shortBy = order.side === 'buy'
      ? (free(quote).lt(cost.plus(fee)) ? `need ${str(cost.plus(fee))} ${quote}, have ${str(free(quote))} free` : null)
      : (free(base).lt(qty) ? `need ${str(qty)} ${base}, have ${str(free(base))} free` : null);
    if (shortBy) return { shortBy };
    const row: store.NewPaperOrder = {
      exchangeOrderId: ids.orderId, clientOrderId: order.clientOrderId, symbol: order.symbol, side: order.side, type: order.type,
      status: fill ? 'closed' : 'open', quantity: str(qty), limitPrice: limit ? str(limit) : null,
      exchangeTradeId: fill ? ids.tradeId : null, price: fill ? str(price) : null, fee: fill ? str(fee) : null,
      feeCurrency: fill ? quote : null, liquidity: fill ? 'taker' : null, createdAt: now, filledAt: fill ? now : null,
    };
    return { row, deltas: fill ? fillDeltas(order.side, base, quote, qty, cost, fee) : [] };
  }

  async #createOrder(order: OrderRequest): Promise<OrderState> {
    const plan = await this.#plan(order);
    if ('shortBy' in plan) {
      // A retried send of an order the venue already took is answered, not refused.
      const existing = await store.findPaperOrderByClientId(this.deps.db, order.clientOrderId);
      if (existing) return toOrderState(existing);
      throw new ExchangeError('rejected', 'insufficient_funds', `Insufficient funds on the paper account: ${plan.shortBy}.`);
    }
    const { row, deltas } = plan;
    const changed = await store.insertOrderWithBalances(this.deps.db, { order: row, deltas, at: row.createdAt });
    if (!changed) {
      const existing = await store.findPaperOrderByClientId(this.deps.db, order.clientOrderId);
      return toOrderState(existing!);
    }
    this.#apply(changed);
    const saved: PaperOrder = { id: 0, ...row };
    if (row.status === 'open') this.#open?.push(saved);
    return toOrderState(saved);
  }

  /** Open orders: read once, then kept by this instance (other processes only ever cancel them). */
  async #openOrders(): Promise<PaperOrder[]> {
    this.#open ??= await store.openPaperOrders(this.deps.db);
    return this.#open;
  }

  /** Fills resting limit orders that the latest candle traded through (at their limit, maker fee). */
  async #matchResting(): Promise<void> {
    const open = await store.openPaperOrders(this.deps.db);
    this.#open = open;
    if (open.length === 0) return;
    await this.#loadBalances();
    for (const o of open) {
      const candle = this.deps.prices.lastCandle(o.symbol);
      if (!candle || candle.openTime.getTime() < o.createdAt.getTime()) continue;
      const limit = dec(o.limitPrice ?? '0');
      const crossed = o.side === 'buy' ? dec(candle.low).lte(limit) : dec(candle.high).gte(limit);
      if (!crossed) continue;
      const { base, quote } = splitSymbol(o.symbol);
      const qty = dec(o.quantity);
      const fee = feeFor(this.deps.pricing, 'maker', qty, limit);
      const changed = await store.fillRestingOrder(this.deps.db, {
        id: o.id, exchangeTradeId: paperIds(o.clientOrderId).tradeId, price: str(limit), fee: str(fee), feeCurrency: quote,
        filledAt: this.deps.clock.now(), deltas: fillDeltas(o.side, base, quote, qty, qty.times(limit), fee),
      });
      if (changed) this.#apply(changed);
    }
    this.#open = await store.openPaperOrders(this.deps.db);
  }

  async cancelOrder(exchangeOrderId: string): Promise<void> {
    const outcome = await store.cancelPaperOrder(this.deps.db, { exchangeOrderId });
    this.#open = undefined;
    if (outcome === 'unknown') throw new ExchangeError('rejected', 'unknown_order', `The paper exchange has no order ${exchangeOrderId}.`);
    if (outcome === 'not_open') throw new ExchangeError('rejected', 'order_not_open', `Paper order ${exchangeOrderId} is no longer open.`);
  }

  async cancelAllOrders(): Promise<{ canceled: number }> {
    const canceled = await store.cancelAllPaperOrders(this.deps.db);
    this.#open = undefined;
    return { canceled };
  }

  async fetchOpenOrders(symbol?: string): Promise<OrderState[]> {
    await this.#serialised(() => this.#matchResting());
    return (await store.openPaperOrders(this.deps.db, symbol)).map(toOrderState);
  }

  async fetchMyTrades(params: { since?: Date; cursor?: string }): Promise<TradePage> {
    const beforeId = params.cursor === undefined ? undefined : Number(params.cursor);
    if (beforeId !== undefined && !Number.isInteger(beforeId)) {
      throw new ExchangeError('rejected', 'bad_cursor', `Not a paper trade-history cursor: "${params.cursor}".`);
    }
    const rows = await store.filledPaperOrders(this.deps.db, { ...(params.since ? { since: params.since } : {}), ...(beforeId !== undefined ? { beforeId } : {}), limit: PAGE });
    const trades = rows.flatMap((r) => toOrderState(r).trades);
    const last = rows[rows.length - 1];
    return { trades, ...(rows.length === PAGE && last ? { next: String(last.id) } : {}) };
  }

  async fetchOrderByClientId(clientOrderId: string, _symbol?: string): Promise<OrderState | null> {
    await this.#serialised(() => this.#matchResting());
    const row = await store.findPaperOrderByClientId(this.deps.db, clientOrderId);
    return row ? toOrderState(row) : null;
  }

  async cancelAllOrdersAfter(): Promise<void> {
    // Nothing rests on the paper venue unattended for long; the dead man's switch has nothing to guard.
  }

  async fetchKeyRights(): Promise<ApiKeyRights> {
    return { canQuery: true, canTrade: true, canCancel: true, canWithdraw: false, source: 'paper' };
  }
}

function fillDeltas(side: 'buy' | 'sell', base: string, quote: string, qty: Decimal, cost: Decimal, fee: Decimal): store.BalanceDelta[] {
  return side === 'buy'
    ? [{ asset: quote, delta: str(cost.plus(fee).neg()) }, { asset: base, delta: str(qty) }]
    : [{ asset: base, delta: str(qty.neg()) }, { asset: quote, delta: str(cost.minus(fee)) }];
}

export function toOrderState(o: PaperOrder): OrderState {
  const filled = o.status === 'closed' && o.exchangeTradeId !== null && o.price !== null;
  const trades: ExchangeTrade[] = filled
    ? [{
        id: o.exchangeTradeId!, orderId: o.exchangeOrderId, clientOrderId: o.clientOrderId, symbol: o.symbol, side: o.side,
        quantity: str(dec(o.quantity)), price: str(dec(o.price!)), fee: str(dec(o.fee ?? '0')), feeCurrency: o.feeCurrency ?? '',
        timestamp: o.filledAt ?? o.createdAt,
      }]
    : [];
  return {
    exchangeOrderId: o.exchangeOrderId, clientOrderId: o.clientOrderId, symbol: o.symbol, side: o.side, status: o.status,
    quantity: str(dec(o.quantity)), filledQuantity: filled ? str(dec(o.quantity)) : '0', averagePrice: filled ? str(dec(o.price!)) : null, trades,
  };
}
