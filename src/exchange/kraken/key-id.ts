// Owns the name under which records about one Kraken API key are kept (the shared rate record): a
// short hash of the key, so the key itself never leaves the exchange adapter.
import { createHash } from 'node:crypto';
import type { Config } from '../../config/env.js';

/** The key's id, or null without a key. */
export function krakenKeyId(config: Pick<Config, 'KRAKEN_API_KEY'>): string | null {
  const key = config.KRAKEN_API_KEY?.reveal();
  return key ? createHash('sha256').update(key).digest('hex').slice(0, 16) : null;
}
