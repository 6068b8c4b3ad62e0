// Owns the shapes of the Kraken simulator's account — orders, trades, balances, status — as Kraken
// writes them (amounts as decimal strings, times as unix seconds). Tests read and change this state
// directly (tests/support/fake-kraken.ts), so these fields are a stable interface: add, don't change.

export type SystemStatus = 'online' | 'maintenance' | 'cancel_only' | 'post_only';
export const SYSTEM_STATUSES: readonly SystemStatus[] = ['online', 'maintenance', 'cancel_only', 'post_only'];

export type OrderStatus = 'pending' | 'open' | 'closed' | 'canceled' | 'expired';

export interface SimOrder {
  txid: string;
  cl_ord_id?: string;
  userref?: number;
  /** The pair's altname, as Kraken writes it in descr.pair (XBTUSD). */
  pair: string;
  type: 'buy' | 'sell';
  ordertype: 'market' | 'limit';
  /** Limit price (limit orders only). */
  price?: string;
  vol: string;
  vol_exec: string;
  status: OrderStatus;
  /** Unix seconds, fractional. */
  opentm: number;
  closetm?: number;
  /** Why a closed/cancelled order ended ("User requested", "Insufficient funds", …). */
  reason?: string | null;
  /** Quote spent (buy) or received (sell) so far, before fees. */
  cost?: string;
  fee?: string;
  /** Trade ids of this order's fills, oldest first. */
  trades?: string[];
  oflags?: string;
  /** Taker fills still to come: a market order (or a marketable limit) fills in slices over ticks. */
  takerSlicesLeft?: number;
}

export interface SimTrade {
  txid: string;
  ordertxid: string;
  /** Kraken pair id (XXBTZUSD), as TradesHistory writes it. */
  pair: string;
  /** Unix seconds, fractional. */
  time: number;
  type: 'buy' | 'sell';
  ordertype?: string;
  price: string;
  vol: string;
  fee: string;
  cost?: string;
  maker?: boolean;
  postxid?: string;
  trade_id?: number;
}

/** What the executions channel streams: an order placed, a fill, an order ended (filled, canceled, expired). */
export type SimExecution =
  | { kind: 'new'; order: SimOrder }
  | { kind: 'trade'; order: SimOrder; trade: SimTrade }
  | { kind: 'ended'; order: SimOrder };

export interface DeadMan {
  timeoutSeconds: number;
  /** Epoch milliseconds at which every open order is cancelled; null when disarmed. */
  triggerAt: number | null;
}

export interface SimState {
  permissions: string[] | 'unsupported';
  /** Kraken asset id (ZUSD, XXBT) → balance. Held amounts are derived from open orders. */
  balances: Record<string, string>;
  trades: SimTrade[];
  orders: Map<string, SimOrder>;
  /** Kraken pair id → last price: the price path writes it, the matcher fills at it. */
  tickers: Record<string, string>;
  systemStatus: SystemStatus;
  deadMan: DeadMan;
}

export interface RecordedCall {
  api: 'public' | 'private';
  endpoint: string;
  method: string;
  /** Request parameters without the nonce. */
  params: Record<string, string>;
  at: number;
}

/** A Kraken answer: `{ error: [...], result }`. */
export type KrakenAnswer = { error: string[]; result?: unknown };
export const ok = (result: unknown): KrakenAnswer => ({ error: [], result });
export const fail = (message: string): KrakenAnswer => ({ error: [message] });

export const isOpen = (o: SimOrder): boolean => o.status === 'open' || o.status === 'pending';
