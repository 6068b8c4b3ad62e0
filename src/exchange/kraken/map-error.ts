// Owns the one translation of ccxt's errors (as Kraken answers become them) into the project's
// kinds, so every caller decides from the kind alone: retryable → back off and retry;
// rejected → give up this request; auth → halt and page; halt → stop trading now.
// Our own AppErrors (not armed, fund-moving refused, bad response) pass through untouched.
//
// For an endpoint that places, changes or cancels orders, only a definite refusal from Kraken (an
// error string such as EOrder:Insufficient funds or EGeneral:Invalid arguments) is `rejected`:
// an answer the bot cannot read (truncated or empty body, HTML, a shape the schema refuses, ccxt's
// BadResponse/NullResponse, a crash inside ccxt) or Kraken's own trouble (EService:*, EDatabase:*,
// internal errors) leaves the outcome unknown — the order may exist — so it is `retryable` with
// code `outcome_unknown`, and the caller resolves it by cl_ord_id instead of giving it up.
// Three of Kraken's service errors and its two rate limits are documented refusals of a new order, not
// trouble: answered by Kraken itself (HTTP 200) to AddOrder they mean no order was placed (NOT_PLACED below).
import { AppError } from '../../errors.js';
import { ExchangeError, type ExchangeErrorKind } from '../errors.js';
import { ORDER_PLACING_ENDPOINTS } from './ccxt-client.js';

interface Rule {
  kind: ExchangeErrorKind;
  code: string;
  hint?: string;
}

// Most specific class first: the first ccxt class found on the error's prototype chain wins.
const RULES: Record<string, Rule> = {
  InvalidNonce: {
    kind: 'retryable', code: 'invalid_nonce',
    hint: 'Kraken nonces must increase per key, and another process using this API key (the bot, its web or worker, an operator\'s ctb, a second bot) ' +
      'sent a higher one first. Set a nonce window on the key at Kraken (Settings → API → the key), or give each process its own key; '
      + 'refused again and again: this host\'s clock behind, the key shared with another host, or a key used before with larger nonces (then create a new API key).',
  },
  RateLimitExceeded: { kind: 'retryable', code: 'rate_limited', hint: 'Kraken rate limit reached: back off before the next call.' },
  DDoSProtection: { kind: 'retryable', code: 'rate_limited', hint: 'Kraken rate limit reached: back off before the next call.' },
  OnMaintenance: { kind: 'retryable', code: 'exchange_maintenance', hint: 'Kraken is in maintenance (cancel-only or post-only): wait for its system status to return to online.' },
  ExchangeNotAvailable: { kind: 'retryable', code: 'exchange_unavailable', hint: 'Kraken is unavailable: retry with backoff.' },
  RequestTimeout: { kind: 'retryable', code: 'timeout', hint: 'Kraken did not answer in time: retry with backoff, and check for a duplicate before resending an order.' },
  NetworkError: { kind: 'retryable', code: 'network', hint: 'The connection to Kraken failed: retry with backoff.' },
  AccountSuspended: { kind: 'halt', code: 'account_suspended', hint: 'Kraken reports the account locked: stop trading and contact Kraken support.' },
  PermissionDenied: { kind: 'auth', code: 'permission_denied', hint: 'The API key lacks a permission this call needs: check its rights on Kraken (Query and Trade).' },
  AuthenticationError: { kind: 'auth', code: 'invalid_key', hint: 'Check KRAKEN_API_KEY and KRAKEN_API_SECRET: the key is unknown, revoked or mistyped.' },
  InsufficientFunds: { kind: 'rejected', code: 'insufficient_funds' },
  OrderNotFound: { kind: 'rejected', code: 'order_not_found' },
  InvalidOrder: { kind: 'rejected', code: 'invalid_order' },
  BadSymbol: { kind: 'rejected', code: 'bad_symbol' },
  BadRequest: { kind: 'rejected', code: 'bad_request' },
  CancelPending: { kind: 'retryable', code: 'cancel_pending' },
  // Kraken answered, but not in a form ccxt could read: what happened is unknown.
  BadResponse: { kind: 'retryable', code: 'unreadable_response', hint: 'Kraken answered something that could not be read: ask again.' },
  ExchangeError: { kind: 'rejected', code: 'exchange_error' },
};

/** The names of the error's classes, most derived first (ccxt's classes are named after themselves). */
function classChain(err: object): string[] {
  const names: string[] = [];
  for (let proto = Object.getPrototypeOf(err); proto && proto !== Error.prototype; proto = Object.getPrototypeOf(proto)) {
    const name = (proto.constructor as { name?: string } | undefined)?.name;
    if (name) names.push(name);
  }
  return names;
}

/** Kraken's own error string (`EAPI:Invalid nonce`) inside ccxt's message, when there is one. */
export function krakenErrorCode(message: string): string | undefined {
  return /\b(E[A-Z][A-Za-z]*:[^"\],}]+)/.exec(message)?.[1]?.trim();
}

/** Whether a Kraken error string refuses the request outright (nothing was done), as opposed to Kraken's own trouble. */
export function isDefiniteRefusal(exchangeCode: string | undefined): boolean {
  if (exchangeCode === undefined) return false;
  return !/^E(Service|Database):/.test(exchangeCode) && !/internal error/i.test(exchangeCode);
}

/** Endpoints that change orders at Kraken: when their answer cannot be read, what they did is unknown. */
const ORDER_CHANGING_ENDPOINTS = new Set([...ORDER_PLACING_ENDPOINTS, 'CancelOrder', 'CancelOrderBatch', 'CancelAll', 'CancelAllOrdersAfter']);

export function changesOrders(endpoint: string): boolean {
  return ORDER_CHANGING_ENDPOINTS.has(endpoint);
}

/**
 * Kraken's answers to a new order that say it was not placed, from its documented errors
 * (docs.kraken.com REST "Error Details"; support "API error messages"): `EService:Unavailable` "the
 * matching engine or API is offline"; `EService:Market in cancel_only mode` and `… post_only mode`
 * "request can't be made at this time (see SystemStatus)" — in cancel_only "new orders cannot be
 * placed", in post_only only post-only limit orders can (SystemStatus); `EAPI:Rate limit exceeded`
 * (the key's REST call counter) and `EOrder:Rate limit exceeded` (the pair's trading counter, "user/tier
 * order rate limit exceeded"): Kraken counts the call against the limit and refuses it before it runs.
 * Not here, so still unknown: `EService:Busy`, `EService:Deadline elapsed` (a timeout), `EDatabase:*`,
 * internal errors.
 */
const NOT_PLACED: Record<string, { code: string; hint: string }> = {
  'EService:Unavailable': { code: 'exchange_unavailable', hint: 'Kraken\'s matching engine or API is offline: nothing was placed; check its system status before trading again.' },
  'EService:Market in cancel_only mode': { code: 'exchange_maintenance', hint: 'Kraken takes cancels only: nothing was placed; new orders wait for its system status to return to online.' },
  'EService:Market in post_only mode': { code: 'exchange_maintenance', hint: 'Kraken takes post-only limit orders only: nothing was placed; new orders wait for its system status to return to online.' },
  'EAPI:Rate limit exceeded': { code: 'rate_limited', hint: 'The API key\'s call counter is full (every process using the key counts on it): nothing was placed; the order waits for the counter to fall.' },
  'EOrder:Rate limit exceeded': { code: 'rate_limited', hint: 'Kraken\'s order rate limit for this pair is reached (orders and cancels count on it): nothing was placed; the order waits for the counter to fall.' },
};

/** The outcome of an order-changing call is unknown: the order may exist; resolve it by cl_ord_id. */
export function outcomeUnknown(endpoint: string, what: string, cause?: unknown): ExchangeError {
  return new ExchangeError('retryable', 'outcome_unknown', `Kraken ${endpoint}: ${what}; whether it took effect is unknown.`, {
    hint: 'The order is looked up by its client order id (cl_ord_id) before anything is sent again.',
    ...(cause !== undefined ? { cause } : {}),
  });
}

/** An answer that is not Kraken's `{error, result}` JSON at all (truncated, empty, HTML). */
export function unreadableAnswer(endpoint: string, raw: unknown): ExchangeError {
  const text = typeof raw === 'string' ? raw : JSON.stringify(raw) ?? String(raw);
  const shown = text.length === 0 ? 'an empty body' : `"${text.slice(0, 60).replace(/\s+/g, ' ')}${text.length > 60 ? '…' : ''}"`;
  if (changesOrders(endpoint)) return outcomeUnknown(endpoint, `the answer could not be read (${shown})`);
  return new ExchangeError('retryable', 'unreadable_response', `Kraken ${endpoint} answered something that could not be read (${shown}).`, {
    hint: 'Usually a transient proxy or network fault: ask again.',
  });
}

/** Valid JSON that the schema refuses: Kraken may have changed its API — or, for an order, placed it anyway. */
export function unexpectedFormat(endpoint: string, where: string): ExchangeError {
  if (changesOrders(endpoint)) return outcomeUnknown(endpoint, `the answer was in an unexpected format (${where})`);
  return new ExchangeError('rejected', 'unexpected_response', `Kraken ${endpoint} answered in an unexpected format (${where}).`, {
    hint: 'Kraken may have changed its API: check docs.kraken.com and update src/exchange/kraken/schemas.ts.',
  });
}

export function mapKrakenError(err: unknown, endpoint: string, answer: { httpStatus?: number | undefined } = {}): AppError {
  if (err instanceof AppError) return err;
  if (!(err instanceof Error)) {
    if (changesOrders(endpoint)) return outcomeUnknown(endpoint, `the call failed (${String(err)})`, err);
    return new ExchangeError('rejected', 'exchange_error', `Kraken ${endpoint} failed: ${String(err)}`, { cause: err });
  }
  const rule = classChain(err).map((name) => RULES[name]).find((r): r is Rule => r !== undefined);
  const exchangeCode = krakenErrorCode(err.message);
  if (!rule) {
    // Not a ccxt error: a bug or an unexpected failure inside the client. Not safe to retry blindly,
    // and for an order not safe to call refused either: the request may have reached Kraken.
    if (changesOrders(endpoint)) return outcomeUnknown(endpoint, `the answer could not be handled (${err.message.slice(0, 120)})`, err);
    return new ExchangeError('rejected', 'unexpected', `Kraken ${endpoint} failed unexpectedly: ${err.message}`, { cause: err });
  }
  if (rule.code === 'unreadable_response' && changesOrders(endpoint)) return outcomeUnknown(endpoint, `the answer could not be read (${err.name})`, err);
  // Only Kraken's own answer (HTTP 200): the same JSON in a 5xx came from something in between.
  const notPlaced = exchangeCode !== undefined && ORDER_PLACING_ENDPOINTS.has(endpoint) && answer.httpStatus === 200 ? NOT_PLACED[exchangeCode] : undefined;
  if (notPlaced) {
    return new ExchangeError('rejected', notPlaced.code, `Kraken ${endpoint} refused: ${exchangeCode}; no order was placed.`, { cause: err, hint: notPlaced.hint, exchangeCode });
  }
  if (rule.kind === 'rejected' && changesOrders(endpoint) && !isDefiniteRefusal(exchangeCode)) {
    return outcomeUnknown(endpoint, exchangeCode ? `Kraken answered ${exchangeCode}` : `the call failed (${err.name})`, err);
  }
  const what = exchangeCode ?? err.name;
  return new ExchangeError(rule.kind, rule.code, `Kraken ${endpoint} failed: ${what}.`, {
    cause: err,
    ...(rule.hint ? { hint: rule.hint } : {}),
    ...(exchangeCode ? { exchangeCode } : {}),
  });
}
