// Owns the audit's shared Kraken answers: each is asked once per run (memo) and reused by every
// check that needs it, so an audit costs Kraken's rate limit as little as possible.
import { KRAKEN_UNREACHABLE_CHECK } from '../../../exchange/errors.js';
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

export const NO_KEYS_FIX = 'Set KRAKEN_API_KEY and KRAKEN_API_SECRET to a Trade-only Kraken key (environment or .env, mode 0600).';

/** For a check that got no answer from Kraken at all (no network, DNS, a timeout). */
export const UNREACHABLE_FIX = `${KRAKEN_UNREACHABLE_CHECK}, then run the audit again.`;
