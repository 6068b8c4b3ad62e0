// Builds the Kraken adapter for the ExchangeProvider (which calls it only when keys are configured).
import type { Clock } from '../../clock.js';
import type { Config } from '../../config/env.js';
import type { Logger } from '../../logger.js';
import type { Exchange } from '../types.js';
import { KrakenExchange, type KrakenExchangeOptions } from './kraken-exchange.js';

export function createKrakenExchange(
  config: Config,
  opts: { logger: Logger; armed: boolean; clock?: Clock } & Pick<KrakenExchangeOptions, 'onRateLimitedRead' | 'onRateLimited' | 'abandon'>,
): Exchange {
  return new KrakenExchange(config, {
    logger: opts.logger,
    armed: opts.armed,
    enableRateLimit: config.KRAKEN_RATE_LIMIT,
    rateTier: config.KRAKEN_RATE_TIER,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.onRateLimitedRead ? { onRateLimitedRead: opts.onRateLimitedRead } : {}),
    ...(opts.onRateLimited ? { onRateLimited: opts.onRateLimited } : {}),
    ...(opts.abandon ? { abandon: opts.abandon } : {}),
  });
}
