// Owns the mark price of an open position for /trades and /balance: the engine's own latest candle
// when this process runs the engine (its feed, replay included), else — for trades made on Kraken's
// market — Kraken's public ticker (no key needed). A replay trade outside the engine's process has
// no mark here: its prices exist only in the replay (snapshot-marks.ts reads them from the book's
// equity snapshot). Each mark says where it came from and when.
import type { Clock } from '../../clock.js';
import type { Config } from '../../config/env.js';
import type { Logger } from '../../logger.js';
import type { PriceBoard } from '../../market/price-board.js';
import { createKrakenPublicMarket, type KrakenPublicMarket } from '../../exchange/kraken/public-market.js';
import type { FeedKind } from '../../market/types.js';
import { isAppError } from '../../errors.js';

export interface Mark {
  price: string;
  at: Date;
  /** snapshot: the book's latest equity snapshot (snapshot-marks.ts), the marks stats uses. */
  source: 'engine' | 'kraken' | 'snapshot';
}

/** One line, never a stack: a missing mark is shown as such beside the figures. */
const reason = (err: unknown) => (isAppError(err) ? err.userMessage : err instanceof Error ? err.message : String(err)).split('\n')[0]!;

export type MarkFor = (symbol: string, feed: FeedKind) => Mark | null;

/** What looking up marks needs: this process's latest candles, and Kraken's public ticker (config) for the rest. */
export interface MarksDeps {
  prices: PriceBoard;
  config: Config;
  clock: Clock;
  logger: Logger;
}

/** Looks up the marks of the given positions once (one ticker call per pair at most). */
export async function loadMarks(
  ctx: MarksDeps,
  positions: Array<{ symbol: string; feed: FeedKind }>,
  opts: { publicMarket?: () => Promise<Pick<KrakenPublicMarket, 'fetchLastPrice'>> } = {},
): Promise<MarkFor> {
  const fromEngine = (symbol: string): Mark | null => {
    const candle = ctx.prices.lastCandle(symbol);
    return candle ? { price: String(candle.close), at: new Date(candle.openTime.getTime() + 60_000), source: 'engine' } : null;
  };
  const wanted = [...new Set(positions.filter((p) => p.feed === 'kraken' && !fromEngine(p.symbol)).map((p) => p.symbol))];
  const fromKraken = new Map<string, Mark>();
  if (wanted.length > 0) {
    try {
      const market = await (opts.publicMarket ?? (() => createKrakenPublicMarket(ctx.config, { enableRateLimit: false, timeoutMs: 5_000 })))();
      await Promise.all(wanted.map(async (symbol) => {
        try {
          const price = await market.fetchLastPrice(symbol);
          if (price) fromKraken.set(symbol, { price, at: ctx.clock.now(), source: 'kraken' });
        } catch (err) {
          ctx.logger.warn({ symbol }, `no mark price from Kraken for ${symbol}: ${reason(err)}`);
        }
      }));
    } catch (err) {
      ctx.logger.warn(`could not reach Kraken's public API for mark prices: ${reason(err)}`);
    }
  }
  return (symbol, feed) => fromEngine(symbol) ?? (feed === 'kraken' ? fromKraken.get(symbol) ?? null : null);
}
