// Owns the audit's shared Kraken answers: each is asked once per run (memo) and reused by every
// check that needs it, so an audit costs Kraken's rate limit as little as possible.
import { KRAKEN_UNREACHABLE_CHECK } from '../../../exchange/errors.js';
import { createKrakenPublicMarket } from '../../../exchange/kraken/public-market.js';
import type { ApiKeyRights, Balance } from '../../../exchange/types.js';
import type { AuditContext } from '../types.js';

export function keyRights(ctx: AuditContext): Promise<ApiKeyRights> | null {
  const kraken = ctx.kraken();
  return kraken ? ctx.memo('kraken.keyRights', () => kraken.fetchKeyRights()) : null;
}

export function exchangeBalances(ctx: AuditContext): Promise<Balance[]> | null {
  const kraken = ctx.kraken();
  return kraken ? ctx.memo('kraken.balances', () => kraken.fetchBalances()) : null;
}

/**
 * The pairs Kraken lists (its AssetPairs, at KRAKEN_API_URL). AssetPairs is a public endpoint: it is
 * read without a key, by a client that has none, so a shell without the key judges the pairs too.
 */
export function listedPairs(ctx: AuditContext): Promise<string[]> {
  const ask = async () => (await createKrakenPublicMarket(ctx.config, { enableRateLimit: ctx.config.KRAKEN_RATE_LIMIT })).listedPairs();
  return ctx.memo('kraken.listedPairs', () => (ctx.krakenReach ? ctx.krakenReach.call(ask) : ask()));
}

export const NO_KEYS_FIX = 'Set KRAKEN_API_KEY and KRAKEN_API_SECRET to a Trade-only Kraken key (environment or .env, mode 0600).';

/** For a check that got no answer from Kraken at all (no network, DNS, a timeout). */
export const UNREACHABLE_FIX = `${KRAKEN_UNREACHABLE_CHECK}, then run the audit again.`;
