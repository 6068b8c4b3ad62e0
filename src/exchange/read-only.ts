// Owns the read-only view of an exchange: the audit's dry run and any caller that must only look
// wraps the adapter in it, so an order-changing call throws here before any request leaves —
// whatever mode or IS_LIVE say.
import { AppError } from '../errors.js';
import type { Exchange } from './types.js';

export const ORDER_CHANGING_METHODS = ['createOrder', 'cancelOrder', 'cancelAllOrders', 'cancelAllOrdersAfter'] as const;

export class ReadOnlyExchangeError extends AppError {
  constructor(method: string) {
    super('conflict', 'read_only_exchange', `Refused ${method}: this exchange handle is read-only (dry run).`);
  }
}

export function readOnlyExchange(inner: Exchange): Exchange {
  const refuse = (method: string) => async () => {
    throw new ReadOnlyExchangeError(method);
  };
  return {
    venue: inner.venue,
    loadMarkets: () => inner.loadMarkets(),
    fetchTicker: (symbol) => inner.fetchTicker(symbol),
    fetchCandles: (symbol, timeframe, since) => inner.fetchCandles(symbol, timeframe, since),
    fetchBalances: () => inner.fetchBalances(),
    fetchOpenOrders: (symbol) => inner.fetchOpenOrders(symbol),
    fetchMyTrades: (params) => inner.fetchMyTrades(params),
    fetchOrderByClientId: (clientOrderId, symbol) => inner.fetchOrderByClientId(clientOrderId, symbol),
    ...(inner.fetchOrders ? { fetchOrders: (refs) => inner.fetchOrders!(refs) } : {}),
    fetchKeyRights: () => inner.fetchKeyRights(),
    createOrder: refuse('createOrder'),
    cancelOrder: refuse('cancelOrder'),
    cancelAllOrders: refuse('cancelAllOrders'),
    cancelAllOrdersAfter: refuse('cancelAllOrdersAfter'),
  };
}
