// Owns the construction of ccxt's Kraken client — the only place the project builds one.
// Every request goes through our fetch wrapper, which (1) lets nock and KRAKEN_API_URL fakes see
// it (ccxt otherwise uses its own bundled undici, invisible to nock), and (2) is the last line of
// the paper-mode invariant: an order-changing private endpoint is refused unless the process is
// armed (IS_LIVE=true), and an endpoint that moves funds is refused always.
import type { Exchange as CcxtExchange } from 'ccxt';
import type { Config } from '../../config/env.js';
import { AppError } from '../../errors.js';
import { LiveTradingNotArmedError } from '../errors.js';

/** Private endpoints that place, change or cancel orders: callable only when armed. */
export const ORDER_CHANGING_ENDPOINTS = new Set([
  'AddOrder', 'AddOrderBatch', 'AmendOrder', 'EditOrder', 'CancelOrder', 'CancelOrderBatch', 'CancelAll', 'CancelAllOrdersAfter',
]);

/** Private endpoints that move funds: never callable from this bot. */
export const FUND_MOVING_ENDPOINTS = new Set(['Withdraw', 'WithdrawCancel', 'WalletTransfer', 'Stake', 'Unstake']);

export function privateEndpointOf(url: string): string | undefined {
  const match = /\/0\/private\/([A-Za-z]+)/.exec(url);
  return match?.[1];
}

export interface KrakenClientOptions {
  /** Whether order-changing endpoints may be called (config.IS_LIVE). */
  armed: boolean;
  /** Attach the API key (private endpoints). Public market data needs none. */
  withKeys: boolean;
  /** Kraken's rate limiter: on in production, off in tests (it waits ~1 s per call). */
  enableRateLimit?: boolean;
  timeoutMs?: number;
  /** Seen by tests and metrics: every endpoint called. */
  onRequest?: (info: { url: string; method: string; endpoint: string | undefined }) => void;
}

export function guardedFetch(armed: boolean, onRequest?: KrakenClientOptions['onRequest']) {
  return async (url: string, init: RequestInit): Promise<Response> => {
    const endpoint = privateEndpointOf(url);
    if (endpoint && FUND_MOVING_ENDPOINTS.has(endpoint)) {
      throw new AppError('halt', 'fund_moving_endpoint', `Refused to call Kraken ${endpoint}: this bot never moves funds.`);
    }
    if (endpoint && ORDER_CHANGING_ENDPOINTS.has(endpoint) && !armed) throw new LiveTradingNotArmedError();
    onRequest?.({ url, method: init.method ?? 'GET', endpoint });
    // Resolved at call time: nock swaps globalThis.fetch after modules load.
    return globalThis.fetch(url, init);
  };
}

export async function createCcxtKraken(config: Config, opts: KrakenClientOptions): Promise<CcxtExchange> {
  const ccxt = await import('ccxt');
  const base = (config.KRAKEN_API_URL ?? 'https://api.kraken.com').replace(/\/+$/, '');
  const client = new ccxt.kraken({
    enableRateLimit: opts.enableRateLimit ?? true,
    timeout: opts.timeoutMs ?? 10_000,
    ...(opts.withKeys && config.KRAKEN_API_KEY && config.KRAKEN_API_SECRET
      ? { apiKey: config.KRAKEN_API_KEY.reveal(), secret: config.KRAKEN_API_SECRET.reveal() }
      : {}),
  });
  client.urls['api'] = { ...(client.urls['api'] as Record<string, string>), public: base, private: base };
  client.fetchImplementation = guardedFetch(opts.armed, opts.onRequest);
  return client;
}
