// Owns the start-time market-feed rule: a process armed for live (IS_LIVE=true) in a bot whose
// bot_state says live must trade on a real market feed. Started on a replay it refuses to start,
// rather than price live orders from replayed history (the engine also refuses to place them).
import type { Config } from '../config/env.js';
import type { Db } from '../db/client.js';
import { AppError } from '../errors.js';
import type { FeedKind } from '../market/types.js';
import { getBotState } from '../services/bot-state.js';

/** What the rule reads: whether this process is armed, and bot_state. */
export interface LiveFeedDeps {
  config: Pick<Config, 'IS_LIVE'>;
  db: Db;
}

export async function assertLiveFeed(ctx: LiveFeedDeps, feed: FeedKind): Promise<void> {
  if (!ctx.config.IS_LIVE || feed === 'kraken') return;
  const state = await getBotState(ctx.db);
  // Halted or not: a resume would make it trade live on this feed.
  if (state.mode !== 'live') return;
  throw new AppError('config', 'live_needs_market_feed',
    `This process is armed (IS_LIVE=true) and the bot is in live mode, but it was started on the ${feed} feed: live orders would be priced from replayed history.`, {
      hint: 'Start it on the Kraken feed (ctb start --feed kraken, or MARKET_FEED=kraken), or go back to paper first (ctb mode paper).',
    });
}
