// Owns the words for the open live positions left on Kraken while the engine trades paper (after an
// operator's /mode paper, or the live approval an unarmed engine withdrew): the paper engine neither
// loads nor sells them (services/exits/request-exit.ts says the same of an exit), so the views and the
// withdrawal's alert name them and the ways out — sell them by hand on Kraken or with `ctb kill --flatten` (armed), or
// trade live again. Pure.

import { dec } from '../money.js';

/**
 * The alert group of live orders or positions left unchecked on Kraken while the engine trades paper
 * (the self-heal watchdog of an engine that cannot ask Kraken pages it: services/self-heal/self-heal.ts).
 */
export const LIVE_LEFT_FINGERPRINT = 'self-heal:live_left:failed';

/** One position as the views list it: "#12 BTC/USD 0.5" (the quantity without trailing zeros). */
export function livePositionText(t: { id: number; symbol: string; quantity: string }): string {
  return `#${t.id} ${t.symbol} ${dec(t.quantity).toFixed()}`;
}

/** The open live positions as the status read lists them: how many, and the first few. */
export interface LiveLeftOpen {
  count: number;
  /** Up to five, oldest first: "#12 BTC/USD 0.5". */
  positions: string[];
}

/** Null when no live position is open. */
export function liveLeftOpenOf(count: number, positions: readonly string[]): LiveLeftOpen | null {
  return count > 0 ? { count, positions: [...positions] } : null;
}

/** "2 open live positions left on Kraken (#12 BTC/USD 0.5, #14 ETH/USD 2): … Ways out: …". */
export function liveLeftOpenPhrase(l: LiveLeftOpen): string {
  const more = l.count > l.positions.length ? ` and ${l.count - l.positions.length} more` : '';
  const n = l.count === 1 ? '1 open live position' : `${l.count} open live positions`;
  return `${n} left on Kraken (${l.positions.join(', ')}${more}): the paper engine neither loads nor sells them. `
    + 'Ways out: sell them by hand on Kraken, or with `ctb kill --flatten` once the engine runs armed (IS_LIVE=true with its Kraken keys: an unarmed engine sells nothing live; it also halts trading), '
    + 'or trade live again (the engine armed with IS_LIVE=true, then /mode live and two approvals).';
}
