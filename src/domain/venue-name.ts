// Owns what outputs call the venue an exchange call went to. The `kraken` venue is Kraken only when
// KRAKEN_API_URL is Kraken's own: pointed elsewhere (`ctb simulate-kraken` in a rehearsal, a staging
// fake) it is that server, named by its origin (never a userinfo part), so a rehearsal's logs, alerts
// and replies never say Kraken confirmed or holds what only a stand-in did. The `paper` venue is the
// bot's own simulated book: it proves nothing about Kraken.
import type { Venue } from '../exchange/types.js';

/** The paper venue, as outputs name it. */
export const PAPER_VENUE_NAME = 'the paper simulator';

/** `Kraken`, or `the exchange at <origin> (KRAKEN_API_URL, not Kraken)`. */
export function krakenVenueName(apiUrl: string | undefined): string {
  if (!apiUrl) return 'Kraken';
  try {
    const url = new URL(apiUrl);
    return url.hostname === 'api.kraken.com' ? 'Kraken' : `the exchange at ${url.origin} (KRAKEN_API_URL, not Kraken)`;
  } catch {
    return 'the exchange at KRAKEN_API_URL (not Kraken)';
  }
}

export function venueName(venue: Venue, config: { KRAKEN_API_URL: string | undefined }): string {
  return venue === 'paper' ? PAPER_VENUE_NAME : krakenVenueName(config.KRAKEN_API_URL);
}

/** A venue name at the start of a sentence or a heading: `The exchange at …`. */
export const upperFirst = (name: string): string => name.charAt(0).toUpperCase() + name.slice(1);
