// Owns what a market feed is: a source of closed candles per pair, paced (replay) or polled
// (Kraken's public API). The engine pulls batches; the paper exchange reads the latest prices.
import type { Candle, PriceSource } from '../exchange/types.js';

export type FeedKind = 'kraken' | 'replay';

export interface MarketTick {
  candle: Candle;
  /** 24h traded value in the quote currency, when the feed knows it (Kraken's ticker does). */
  quoteVolume24h?: number;
  /** History loaded at start to warm the strategies up: never traded on. */
  warmup?: boolean;
}

export interface MarketFeed {
  readonly kind: FeedKind;
  /** How often a polling feed asks its source: the engine alerts when it stays silent for several. */
  readonly pollIntervalMs?: number;
  /**
   * The next batch of closed candles (oldest first). Waits for the feed's pace; resolves to null when
   * the feed has nothing more to give (a replay file played to its end). Rejects with an AppError
   * of kind 'retryable' on transient trouble, which the engine backs off from.
   */
  next(signal: AbortSignal): Promise<MarketTick[] | null>;
}

/** The latest candle per pair, shared by the engine and the paper exchange. */
export interface PriceBoardReader extends PriceSource {
  quoteVolume24h(symbol: string): number | undefined;
}
