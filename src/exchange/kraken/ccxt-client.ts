// Owns the construction of ccxt's Kraken client — the only place the project builds one.
// Every request goes through our fetch wrapper, which (1) lets nock and KRAKEN_API_URL fakes see
// it (ccxt otherwise uses its own bundled undici, invisible to nock), and (2) is the last line of
// the paper-mode invariant: an endpoint that places or amends orders is refused unless the process
// is armed (IS_LIVE=true), and an endpoint that moves funds is refused always. Cancelling and
// reading are never refused for being unarmed: removing risk needs no arming.
// Pacing is ours, not ccxt's (see rate-limiter.ts), nonces come from one process-wide source, and
// private calls are signed with node:crypto.
import { createHash, createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { Exchange as CcxtExchange } from 'ccxt';
import type { Config } from '../../config/env.js';
import { AppError } from '../../errors.js';
import { LiveTradingNotArmedError } from '../errors.js';
import { nextNonce } from './nonce.js';
import { callCost, privateCounterFor, publicCounterOfProcess, type KrakenTier } from './rate-limiter.js';

/** Private endpoints that place or amend orders: callable only when armed. */
export const ORDER_PLACING_ENDPOINTS = new Set(['AddOrder', 'AddOrderBatch', 'AmendOrder', 'EditOrder']);

/** Private endpoints that move funds: never callable from this bot. */
export const FUND_MOVING_ENDPOINTS = new Set(['Withdraw', 'WithdrawCancel', 'WalletTransfer', 'Stake', 'Unstake']);

export function privateEndpointOf(url: string): string | undefined {
  const match = /\/0\/private\/([A-Za-z]+)/.exec(url);
  return match?.[1];
}

export interface KrakenClientOptions {
  /** Whether order-placing endpoints may be called (config.IS_LIVE). */
  armed: boolean;
  /** Attach the API key (private endpoints). Public market data needs none. */
  withKeys: boolean;
  /** Pace calls inside Kraken's rate limits (KRAKEN_RATE_LIMIT): on in production, off against local fakes. */
  enableRateLimit?: boolean;
  /** Kraken's verification tier of the account (KRAKEN_RATE_TIER): how fast its counter decays. */
  rateTier?: KrakenTier;
  /** How long one call is waited for; unset: KRAKEN_REQUEST_TIMEOUT. */
  timeoutMs?: number;
  /** Seen by tests and metrics: every endpoint called. */
  onRequest?: (info: { url: string; method: string; endpoint: string | undefined }) => void;
  /**
   * Once aborted, every request of this client still waiting for Kraken's answer is given up and
   * none is sent after it: a `ctb kill` that has answered no longer waits for the calls its deadlines
   * gave up on, and nothing of them may keep the process from exiting (ccxt's own timeout would).
   */
  abandon?: AbortSignal;
}

/**
 * The HTTP status Kraken answered a failed call with, when it answered (undefined: no answer, e.g. a
 * timeout). ccxt raises the same error for `{"error":["EService:Unavailable"]}` in a 200 as in a 503,
 * and Kraken documents only a 200 as an answer from Kraken itself (docs.kraken.com, REST "Error
 * Details": "Status codes other than 200 indicate that there was an issue with the request reaching
 * our servers"). The status is put on the error where ccxt reads the answer (see noteHttpStatus).
 */
export function httpStatusOf(err: unknown): number | undefined {
  const status = typeof err === 'object' && err !== null ? (err as { [HTTP_STATUS]?: unknown })[HTTP_STATUS] : undefined;
  return typeof status === 'number' ? status : undefined;
}

const HTTP_STATUS = Symbol('ctb.krakenHttpStatus');

/**
 * Every error ccxt raises once Kraken's answer is in (its handleErrors and HTTP-status checks) carries
 * that answer's status. Not an AsyncLocalStorage around each call: on Node 20 the first `run` turns on
 * promise hooks for the whole process for good, which doubled the cost of every promise measured here
 * (Slack's acks, the database, the engine), from the bot's first Kraken call on.
 */
function noteHttpStatus(client: CcxtExchange): void {
  const handle = client.handleRestResponse.bind(client);
  client.handleRestResponse = (response: { status: number }, ...rest: unknown[]) =>
    (handle as (response: unknown, ...rest: unknown[]) => Promise<unknown>)(response, ...rest).catch((err: unknown) => {
      if (typeof err === 'object' && err !== null) (err as { [HTTP_STATUS]?: number })[HTTP_STATUS] = response.status;
      throw err;
    });
}

const MARKETS_LOAD = Symbol('ctb.krakenMarketsLoad');

/** Whether `err` is a failed load of Kraken's markets (its Assets and AssetPairs), which the next call loads again. */
export function failedMarketsLoad(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { [MARKETS_LOAD]?: boolean })[MARKETS_LOAD] === true;
}

type LoadMarkets = CcxtExchange['loadMarkets'];

/**
 * ccxt loads Kraken's markets (Assets, then AssetPairs) once per client and keeps that load's promise
 * for the client's life, a rejected one too (4.5.x Exchange.loadMarkets starts a load only while
 * `marketsLoading` is unset): after one failed load — Kraken down or not answering when the bot
 * started or took over the engine — every call that needs the markets (OHLC, the ticker, an order,
 * the balances) failed with that first error without asking Kraken again, until a restart. A failed
 * load is forgotten here, so the next call loads the markets again; calls waiting on the same load
 * share its failure, and a load started meanwhile is left alone.
 */
function forgetFailedMarketsLoads(client: CcxtExchange): void {
  const load = client.loadMarkets.bind(client);
  const state = client as unknown as { marketsLoading: unknown };
  client.loadMarkets = (async (...args: Parameters<LoadMarkets>) => {
    const pending = load(...args);
    const loading = state.marketsLoading;
    try {
      return await pending;
    } catch (err) {
      if (state.marketsLoading === loading) state.marketsLoading = undefined;
      if (typeof err === 'object' && err !== null) (err as { [MARKETS_LOAD]?: boolean })[MARKETS_LOAD] = true;
      throw err;
    }
  }) as LoadMarkets;
}

export function guardedFetch(armed: boolean, onRequest?: KrakenClientOptions['onRequest'], abandon?: AbortSignal) {
  return async (url: string, init: RequestInit): Promise<Response> => {
    const endpoint = privateEndpointOf(url);
    if (endpoint && FUND_MOVING_ENDPOINTS.has(endpoint)) {
      throw new AppError('halt', 'fund_moving_endpoint', `Refused to call Kraken ${endpoint}: this bot never moves funds.`);
    }
    if (endpoint && ORDER_PLACING_ENDPOINTS.has(endpoint) && !armed) throw new LiveTradingNotArmedError();
    if (abandon?.aborted) throw new Error(`Kraken ${endpoint ?? 'request'} not sent: this process has given up its Kraken calls.`);
    onRequest?.({ url, method: init.method ?? 'GET', endpoint });
    // Resolved at call time: nock swaps globalThis.fetch after modules load.
    if (!abandon) return globalThis.fetch(url, init);
    // Aborting closes the request's socket and ends the fetch at once (ccxt's timeout timer with it).
    return globalThis.fetch(url, { ...init, signal: init.signal ? AbortSignal.any([init.signal, abandon]) : abandon });
  };
}

type Fetch2 = (path: unknown, api?: unknown, ...rest: unknown[]) => Promise<unknown>;

/**
 * Puts our limiter in front of ccxt's request path. ccxt signs (takes the nonce) right after this
 * wait with no await in between, so calls leave in the order they were let through and the nonces
 * they carry increase in that order. A call let through at once goes on in the same tick.
 */
function paceRequests(client: CcxtExchange, apiKey: string | undefined, tier: KrakenTier): void {
  const fetch2 = (client as unknown as { fetch2: Fetch2 }).fetch2.bind(client);
  (client as unknown as { fetch2: Fetch2 }).fetch2 = (path, api, ...rest) => {
    const isPrivate = api === 'private';
    const counter = isPrivate && apiKey ? privateCounterFor(apiKey, tier) : publicCounterOfProcess();
    const wait = counter.take(callCost(isPrivate ? 'private' : 'public', String(path)));
    return wait ? wait.then(() => fetch2(path, api, ...rest)) : fetch2(path, api, ...rest);
  };
}

type Sign = (path: string, api?: string, method?: string, params?: Record<string, unknown>, headers?: unknown, body?: unknown) =>
  { url: string; method: string; body: unknown; headers: unknown };

/**
 * Signs private calls with node:crypto instead of ccxt's JavaScript SHA-256/HMAC-SHA512 (several
 * milliseconds on a loaded machine, the most of a kill's time in this process). Kraken's scheme
 * (docs.kraken.com, REST authentication) exactly as ccxt's kraken.sign builds it: the body is the
 * form-encoded (or, for batches and percent triggers, JSON) parameters with the nonce, and
 * API-Sign = base64(HMAC-SHA512(base64-decoded secret, URI path + SHA-256(nonce + body))).
 */
export function krakenSignature(secret: Buffer, uriPath: string, nonce: string, payload: string): string {
  const digest = createHash('sha256').update(nonce + payload).digest();
  return createHmac('sha512', secret).update(Buffer.concat([Buffer.from(uriPath), digest])).digest('base64');
}

function signWithNodeCrypto(client: CcxtExchange, secretBase64: string): void {
  const c = client as unknown as {
    sign: Sign; version: string; apiKey: string; urls: { api: Record<string, string> };
    nonce(): number; safeString(o: object, k: string): string | undefined; extend(...o: object[]): Record<string, unknown>;
    json(o: object): string; urlencodeNested(o: object): string;
  };
  const original = c.sign.bind(client);
  const secret = Buffer.from(secretBase64, 'base64');
  c.sign = (path, api = 'public', method = 'GET', params = {}, headers, body) => {
    if (api !== 'private') return original(path, api, method, params, headers, body);
    const uriPath = `/${c.version}/private/${path}`;
    const asJson = path === 'CancelOrderBatch' || path === 'AddOrderBatch' || (c.safeString(params, 'price')?.endsWith('%') ?? false);
    const nonce = c.nonce().toString();
    const payload = asJson ? c.json(c.extend({ nonce }, params)) : c.urlencodeNested(c.extend({ nonce }, params));
    const signature = krakenSignature(secret, uriPath, nonce, payload);
    return {
      url: `${c.urls.api['private']}${uriPath}`, method, body: payload,
      headers: { 'API-Key': c.apiKey, 'API-Sign': signature, 'Content-Type': asJson ? 'application/json' : 'application/x-www-form-urlencoded' },
    };
  };
}

/** What this project uses of ccxt: Kraken's client and the error classes tested for. */
export interface CcxtKraken {
  kraken: typeof import('ccxt').kraken;
  NetworkError: typeof import('ccxt').NetworkError;
  BadSymbol: typeof import('ccxt').BadSymbol;
}

/**
 * Kraken's files only (js/src/kraken.js, its base classes, the error classes), not ccxt's index,
 * which imports every exchange it supports: 0.25 s instead of 1.0 s here, most of a kill from a
 * cold shell. They are not in ccxt's "exports", so they are reached by file URL from the package's
 * entry; they are the very modules the index re-exports (one instance, same classes).
 */
export async function importCcxtKrakenOnly(): Promise<CcxtKraken> {
  const entry = pathToFileURL(createRequire(import.meta.url).resolve('ccxt')); // <ccxt>/dist/ccxt.cjs
  const [kraken, errors] = await Promise.all([
    import(new URL('../js/src/kraken.js', entry).href) as Promise<{ default: CcxtKraken['kraken'] }>,
    import(new URL('../js/src/base/errors.js', entry).href) as Promise<Pick<CcxtKraken, 'NetworkError' | 'BadSymbol'>>,
  ]);
  return { kraken: kraken.default, NetworkError: errors.NetworkError, BadSymbol: errors.BadSymbol };
}

let ccxtModule: Promise<CcxtKraken> | undefined;

/** ccxt's Kraken, imported once per process; ccxt's index should a release move Kraken's files. */
export function loadCcxt(): Promise<CcxtKraken> {
  ccxtModule ??= importCcxtKrakenOnly().catch(() => import('ccxt'));
  return ccxtModule;
}

export async function createCcxtKraken(config: Config, opts: KrakenClientOptions): Promise<CcxtExchange> {
  const ccxt = await loadCcxt();
  const base = (config.KRAKEN_API_URL ?? 'https://api.kraken.com').replace(/\/+$/, '');
  const keyed = opts.withKeys && config.KRAKEN_API_KEY && config.KRAKEN_API_SECRET;
  const client = new ccxt.kraken({
    // ccxt's own throttle queues every call behind every other and refills only while one waits.
    enableRateLimit: false,
    timeout: opts.timeoutMs ?? config.KRAKEN_REQUEST_TIMEOUT,
    ...(keyed ? { apiKey: config.KRAKEN_API_KEY!.reveal(), secret: config.KRAKEN_API_SECRET!.reveal() } : {}),
  });
  client.urls['api'] = { ...(client.urls['api'] as Record<string, string>), public: base, private: base };
  client.fetchImplementation = guardedFetch(opts.armed, opts.onRequest, opts.abandon);
  noteHttpStatus(client);
  forgetFailedMarketsLoads(client);
  // Every client of this process shares one strictly increasing nonce.
  client.nonce = nextNonce;
  if (keyed) signWithNodeCrypto(client, config.KRAKEN_API_SECRET!.reveal());
  if (opts.enableRateLimit ?? true) paceRequests(client, keyed ? config.KRAKEN_API_KEY!.reveal() : undefined, opts.rateTier ?? 'starter');
  return client;
}
