// Owns the one translation of ccxt's errors (as Kraken answers become them) into the project's
// kinds, so every caller decides from the kind alone: retryable → back off and retry;
// rejected → give up this request; auth → halt and page; halt → stop trading now.
// Our own AppErrors (not armed, fund-moving refused, bad response) pass through untouched.
import { AppError } from '../../errors.js';
import { ExchangeError, type ExchangeErrorKind } from '../errors.js';

interface Rule {
  kind: ExchangeErrorKind;
  code: string;
  hint?: string;
}

// Most specific class first: the first ccxt class found on the error's prototype chain wins.
const RULES: Record<string, Rule> = {
  InvalidNonce: {
    kind: 'retryable', code: 'invalid_nonce',
    hint: 'Kraken nonces must increase per key: make sure no other process (or a second bot) uses this API key.',
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

export function mapKrakenError(err: unknown, endpoint: string): AppError {
  if (err instanceof AppError) return err;
  if (!(err instanceof Error)) {
    return new ExchangeError('rejected', 'exchange_error', `Kraken ${endpoint} failed: ${String(err)}`, { cause: err });
  }
  const rule = classChain(err).map((name) => RULES[name]).find((r): r is Rule => r !== undefined);
  const exchangeCode = krakenErrorCode(err.message);
  if (!rule) {
    // Not a ccxt error: a bug or an unexpected failure inside the client. Not safe to retry blindly.
    return new ExchangeError('rejected', 'unexpected', `Kraken ${endpoint} failed unexpectedly: ${err.message}`, { cause: err });
  }
  const what = exchangeCode ?? err.name;
  return new ExchangeError(rule.kind, rule.code, `Kraken ${endpoint} failed: ${what}.`, {
    cause: err,
    ...(rule.hint ? { hint: rule.hint } : {}),
    ...(exchangeCode ? { exchangeCode } : {}),
  });
}
