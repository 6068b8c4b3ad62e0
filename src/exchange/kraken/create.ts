// PLACEHOLDER until the Kraken adapter lands (issue 3): replaced by the ccxt-backed KrakenExchange.
import type { Config } from '../../config/env.js';
import { AppError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { Exchange } from '../types.js';

export function createKrakenExchange(_config: Config, _opts: { logger: Logger; armed: boolean }): Exchange {
  throw new AppError('internal', 'not_built', 'The Kraken adapter is not built yet.');
}
