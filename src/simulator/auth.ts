// Owns checking a private request the way Kraken does: the API-Key must be the account's key, the
// API-Sign must be HMAC-SHA512 (key: the base64-decoded secret) of the URI path followed by
// SHA256(nonce + POST body), and the nonce must be greater than the last one this key used.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface KeyPair {
  /** Undefined: any key is accepted and signatures are not checked (a test fake's loose mode). */
  apiKey?: string;
  secret?: string;
}

export function krakenSignature(path: string, nonce: string, body: string, secret: string): string {
  const digest = createHash('sha256').update(nonce + body).digest();
  return createHmac('sha512', Buffer.from(secret, 'base64')).update(Buffer.concat([Buffer.from(path), digest])).digest('base64');
}

export class NonceBook {
  /** API key → last accepted nonce (as text: nonces outgrow 2^53). */
  readonly last = new Map<string, bigint>();

  /** Accepts `nonce` for `key` when it is greater than the last one; remembers it. */
  accept(key: string, nonce: bigint): boolean {
    const last = this.last.get(key);
    if (last !== undefined && nonce <= last) return false;
    this.last.set(key, nonce);
    return true;
  }

  toJSON(): Record<string, string> {
    return Object.fromEntries([...this.last].map(([k, v]) => [k, v.toString()]));
  }

  load(saved: Record<string, string>): void {
    for (const [k, v] of Object.entries(saved)) if (/^\d+$/.test(v)) this.last.set(k, BigInt(v));
  }
}

/** The Kraken error for a private request that fails authentication, or undefined when it passes. */
export function authProblem(
  keys: KeyPair,
  nonces: NonceBook,
  req: { path: string; body: string; apiKey: string | undefined; apiSign: string | undefined; nonce: string | undefined },
): string | undefined {
  const { apiKey, apiSign } = req;
  if (!apiKey || apiSign === undefined) return 'EAPI:Invalid key';
  if (keys.apiKey !== undefined && apiKey !== keys.apiKey) return 'EAPI:Invalid key';
  if (!req.nonce || !/^\d{1,30}$/.test(req.nonce)) return 'EAPI:Invalid nonce';
  if (keys.secret !== undefined) {
    const expected = Buffer.from(krakenSignature(req.path, req.nonce, req.body, keys.secret));
    const given = Buffer.from(apiSign);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'EAPI:Invalid signature';
  }
  if (!nonces.accept(apiKey, BigInt(req.nonce))) return 'EAPI:Invalid nonce';
  return undefined;
}
