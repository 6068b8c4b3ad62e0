// Builds the market feed the bot was started with: Kraken's public API, or the replay file (the
// bundled sample unless REPLAY_FILE names another) played at REPLAY_INTERVAL per candle.
import type { Config } from '../config/env.js';
import { AppError } from '../errors.js';
import { createKrakenPublicMarket } from '../exchange/kraken/public-market.js';
import { KrakenFeed } from './kraken-feed.js';
import { PacedFeed } from './paced-feed.js';
import { readReplayFile } from './replay-file.js';
import type { FeedKind, MarketFeed } from './types.js';
import { projectPath } from '../paths.js';

export const SAMPLE_REPLAY_FILE = projectPath('samples', 'replay-btc-usd-1m.csv');

export function createReplayFeed(config: Pick<Config, 'REPLAY_FILE' | 'REPLAY_INTERVAL' | 'TRADING_PAIRS'>): PacedFeed {
  const file = config.REPLAY_FILE ?? SAMPLE_REPLAY_FILE;
  const candles = readReplayFile(file);
  const present = new Set(candles.map((c) => c.symbol));
  const missing = config.TRADING_PAIRS.filter((p) => !present.has(p));
  if (missing.length > 0) {
    throw new AppError('config', 'replay_pairs_missing', `The replay file ${file} has no candles for ${missing.join(', ')} (it has ${[...present].join(', ')}).`, {
      hint: 'Set TRADING_PAIRS to pairs the file contains, or point REPLAY_FILE at another file.',
    });
  }
  const wanted = new Set(config.TRADING_PAIRS);
  return new PacedFeed('replay', candles.filter((c) => wanted.has(c.symbol)), config.REPLAY_INTERVAL);
}

export interface MarketFeedOptions {
  /**
   * Pacing of Kraken's public API (one call a second, as Kraken counts them). Unset: KRAKEN_RATE_LIMIT,
   * like every other Kraken call of the process — on in production, off against a local fake, where a
   * feed polled every 100 ms would otherwise still see only one candle batch a second.
   */
  enableRateLimit?: boolean;
}

export async function createMarketFeed(config: Config, kind: FeedKind, opts: MarketFeedOptions = {}): Promise<MarketFeed> {
  if (kind === 'replay') return createReplayFeed(config);
  const market = await createKrakenPublicMarket(config, { enableRateLimit: opts.enableRateLimit ?? config.KRAKEN_RATE_LIMIT });
  return new KrakenFeed(market, config.TRADING_PAIRS, config.MARKET_POLL_INTERVAL);
}
