// Owns the Exchange port: everything the engine, audit and kill switch may ask of an exchange.
// Implementations: KrakenExchange (ccxt, src/exchange/kraken) and PaperExchange (simulated fills).
// Quantities, prices and fees cross this port as decimal strings; never binary floats.

export type Side = 'buy' | 'sell';
export type Venue = 'paper' | 'kraken';

export interface Market {
  symbol: string; // BTC/USD
  base: string;
  quote: string;
  /** Kraken's own pair id (XXBTZUSD), when known. */
  exchangeId?: string;
  minQuantity: string;
  quantityStep: string;
  priceStep: string;
}

export interface Ticker {
  symbol: string;
  bid: string;
  ask: string;
  last: string;
  /** 24h traded volume in the base asset, and its quote-currency value. */
  baseVolume24h: string;
  quoteVolume24h: string;
  at: Date;
}

export interface Candle {
  symbol: string;
  openTime: Date;
  open: number;
  high: number;
  low: number;
  close: number;
  /** Base-asset volume in this candle. */
  volume: number;
}

export interface Balance {
  asset: string;
  free: string;
  used: string;
  total: string;
}

export interface OrderRequest {
  clientOrderId: string;
  symbol: string;
  side: Side;
  type: 'market' | 'limit';
  quantity: string;
  limitPrice?: string;
  /**
   * Told the venue's order id as soon as the venue has accepted the order, before the order is read
   * back (which may wait on rate limits): from then on the order is no longer "on its way".
   */
  onAccepted?: (exchangeOrderId: string) => Promise<void>;
  /**
   * The moment (ms of this host's monotonic clock, performance.now(), fixed when the order was
   * decided; no step of the wall clock moves it) after which the venue must
   * no longer place the order (Kraken's AddOrder `deadline`): its matching engine refuses it instead
   * of placing it late. Absolute, so the adapter's own waits cannot extend it; the adapter moves it
   * onto the venue's clock and does not send with too little of it left (send-by.ts). Unset: none.
   */
  sendByMono?: number;
}

export interface ExchangeTrade {
  id: string;
  orderId: string;
  clientOrderId?: string;
  symbol: string;
  side: Side;
  quantity: string;
  price: string;
  /** The fee in the quote currency (what the ledger books). */
  fee: string;
  feeCurrency: string;
  /** The fee as the exchange charged it, in the currency it charged, when that is known. */
  chargedFee?: string;
  chargedFeeCurrency?: string;
  timestamp: Date;
}

export interface OrderState {
  exchangeOrderId: string;
  clientOrderId: string;
  symbol: string;
  side: Side;
  status: 'open' | 'closed' | 'canceled' | 'rejected';
  quantity: string;
  filledQuantity: string;
  averagePrice: string | null;
  /** Total fee of what filled, in the quote currency, when the exchange reports it with the order. */
  feeQuote?: string;
  /**
   * The fills the exchange listed for this order when it answered. They may lag its filledQuantity
   * (Kraken fills first, lists the trades after): the ledger calls an order filled only when the
   * listed fills add up to filledQuantity.
   */
  trades: ExchangeTrade[];
  /** How the venue told it: its stream of order events (Kraken's executions channel), or an answer to a poll. */
  via?: 'stream' | 'poll';
}

export interface OrderRef {
  exchangeOrderId: string;
  symbol: string;
}

export interface TradePage {
  trades: ExchangeTrade[];
  /** Pass back to get the next (older) page; undefined when there is none. */
  next?: string;
  /** Total count the exchange reports, when it does (Kraken does). */
  total?: number;
}

export interface ApiKeyRights {
  canQuery: boolean;
  canTrade: boolean;
  canCancel: boolean;
  canWithdraw: boolean;
  /** Where the answer came from: GetApiKeyInfo, or a withdraw-info probe. */
  source: 'key_info' | 'withdraw_probe' | 'paper';
  /** Rights the source could not establish (a withdraw probe cannot see Trade rights); reported as false. */
  unknown?: Array<'canTrade' | 'canCancel'>;
  /**
   * GetApiKeyInfo named permissions the bot does not know: the key may hold rights it cannot see,
   * so withdrawal was read from the withdraw-info probe instead (`withdrawSource`), never assumed.
   */
  unrecognisedPermissions?: string[];
  /** Where canWithdraw came from when it is not `source` (the probe, after unknown names). */
  withdrawSource?: 'withdraw_probe';
}

/** Kraken's SystemStatus: only 'online' accepts new orders normally. */
export type SystemStatus = 'online' | 'maintenance' | 'cancel_only' | 'post_only';

/** A subscription to the venue's own stream of order events (Kraken: WebSocket v2 executions). */
export interface ExecutionsWatch {
  /** Subscribed, the snapshot read and the venue heard from lately: fills arrive here first. */
  readonly healthy: boolean;
  /** Why it is not healthy, when known (refused token, link down, …). */
  readonly problem: string | undefined;
  stop(): void;
}

/**
 * Told every order an event changed, in the port's shape with the fills seen for it. `snapshot`:
 * the state listed after a (re)connect, which includes what happened while the link was down.
 */
export type ExecutionsListener = (orders: OrderState[], meta: { snapshot: boolean }) => void;

export interface Exchange {
  readonly venue: Venue;
  loadMarkets(): Promise<Market[]>;
  fetchTicker(symbol: string): Promise<Ticker>;
  fetchCandles(symbol: string, timeframe: '1m' | '5m' | '15m' | '1h', since?: Date): Promise<Candle[]>;
  fetchBalances(): Promise<Balance[]>;
  createOrder(order: OrderRequest): Promise<OrderState>;
  cancelOrder(exchangeOrderId: string, symbol?: string): Promise<void>;
  /**
   * Cancel every open order on the account. Returns how many the exchange says it cancelled;
   * `earlierAnswerLost` when this answer is a second sending of the same cancel whose first answer was
   * lost (a kill's early CancelAll: services/kill/early-cancel.ts): what that first one cancelled is not counted.
   */
  cancelAllOrders(): Promise<{ canceled: number; earlierAnswerLost?: boolean }>;
  fetchOpenOrders(symbol?: string): Promise<OrderState[]>;
  /** Our own trade history, newest first, one page per call. */
  fetchMyTrades(params: { since?: Date; cursor?: string }): Promise<TradePage>;
  /** Looks an order up by our client order id, with its fills: how an unknown outcome is resolved. */
  fetchOrderByClientId(clientOrderId: string, symbol: string): Promise<OrderState | null>;
  /**
   * Orders by the exchange's ids, with their fills, in as few calls as the venue allows (Kraken:
   * one QueryOrders for up to 50, one QueryTrades per 20 trades). Unknown ids are left out.
   * Optional: without it, callers look each order up by client order id.
   */
  fetchOrders?(refs: OrderRef[]): Promise<OrderState[]>;
  /** Dead man's switch: the exchange cancels everything unless renewed within timeoutMs (0 disarms). */
  cancelAllOrdersAfter(timeoutMs: number): Promise<void>;
  fetchKeyRights(): Promise<ApiKeyRights>;
  /** The venue's trading status (Kraken SystemStatus). Optional: a venue without one is always online. */
  fetchSystemStatus?(): Promise<SystemStatus>;
  /**
   * Order events as the venue streams them (Kraken's executions channel), or null when the venue has
   * none or it is switched off. Optional: without it, fills are learnt by asking (fetchOrders).
   */
  watchExecutions?(listener: ExecutionsListener): ExecutionsWatch | null;
  /** Loads what the first call would otherwise load (Kraken: ccxt and its client), so a kill never pays it. */
  warm?(): Promise<void>;
  /**
   * A live engine starts: reads ahead what its first order would otherwise wait for (Kraken: its clock,
   * for AddOrder's deadline). Not waited for by the engine; resolves when done and never rejects.
   */
  prepareOrders?(): Promise<void>;
}

/** Where prices come from for paper fills and the engine (a feed, or the exchange's public API). */
export interface PriceSource {
  lastCandle(symbol: string): Candle | undefined;
}
