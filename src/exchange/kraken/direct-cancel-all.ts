// Owns the one Kraken call a kill from a cold shell sends before ccxt is loaded: CancelAll, signed
// with node:crypto and posted with fetch — importing ccxt's Kraken files costs 0.25 s idle and over
// a second on a loaded machine, all of it before the first cancel could leave. Only this endpoint:
// it takes no parameters, is idempotent and never refused (cancelling needs no arming), so a
// failure of any kind — no answer, an error, an answer it cannot read — is simply sent again
// through the full client (services/kill/early-cancel.ts), whose error mapping names it; except
// Kraken's refusal for the key's rate limit, named here as the full client names it. The nonce
// comes from the process-wide source every client shares, and the request goes through the same
// guarded fetch as ccxt's (so nock and KRAKEN_API_URL fakes see it).
import type { Config } from '../../config/env.js';
import { ExchangeError } from '../errors.js';
import { guardedFetch, krakenSignature } from './ccxt-client.js';
import { isDefiniteRefusal } from './map-error.js';
import { nextNonce } from './nonce.js';

const PATH = '/0/private/CancelAll';
const RATE_LIMITED = 'EAPI:Rate limit exceeded';
/** A CancelAll Kraken refused outright (its own error answer): nothing was cancelled. Any other failure may have cancelled. */
export class CancelAllRefused extends Error {}

/** `abandon`: once aborted, the call is given up (its socket closed), or never sent (ccxt-client.ts guardedFetch). */
export async function cancelAllDirect(config: Config, timeoutMs = 10_000, abandon?: AbortSignal): Promise<{ canceled: number }> {
  const key = config.KRAKEN_API_KEY?.reveal();
  const secret = config.KRAKEN_API_SECRET?.reveal();
  if (!key || !secret) throw new Error('no Kraken key');
  const base = (config.KRAKEN_API_URL ?? 'https://api.kraken.com').replace(/\/+$/, '');
  const nonce = String(nextNonce());
  const body = `nonce=${nonce}`;
  const res = await guardedFetch(false, undefined, abandon)(`${base}${PATH}`, {
    method: 'POST',
    headers: { 'API-Key': key, 'API-Sign': krakenSignature(Buffer.from(secret, 'base64'), PATH, nonce, body), 'Content-Type': 'application/x-www-form-urlencoded' },
    body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const answer = (await res.json().catch(() => null)) as { error?: unknown; result?: { count?: unknown } } | null;
  const count = answer?.result?.count;
  // Kraken's own refusal for the key's call counter, as the full client would name it: the kill's rounds
  // then wait for the counter to make room rather than send the CancelAll again at once.
  if (res.ok && Array.isArray(answer?.error) && answer.error.includes(RATE_LIMITED)) {
    throw new ExchangeError('retryable', 'rate_limited', `Kraken CancelAll failed: ${RATE_LIMITED}.`, {
      hint: 'Kraken rate limit reached: back off before the next call.', exchangeCode: RATE_LIMITED,
    });
  }
  // Kraken's own error answer that refuses the call outright: nothing was cancelled by it.
  if (res.ok && Array.isArray(answer?.error) && answer.error.length > 0 && answer.error.every((e) => typeof e === 'string' && isDefiniteRefusal(e))) {
    throw new CancelAllRefused(`Kraken CancelAll: HTTP ${res.status}, ${answer.error.join(', ')}`);
  }
  if (!res.ok || !Array.isArray(answer?.error) || answer.error.length > 0 || typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
    throw new Error(`Kraken CancelAll: HTTP ${res.status}, ${Array.isArray(answer?.error) && answer.error.length > 0 ? answer.error.join(', ') : 'no count in the answer'}`);
  }
  return { canceled: count };
}
