// Owns the live market feed: polls Kraken's public OHLC per pair every MARKET_POLL_INTERVAL and
// hands the engine each newly closed 1-minute candle. The first poll's history warms the strategies
// up (never traded on). The candle still forming is never handed out. The 24h volume (the ticker, a
// filter input that moves slowly) is asked at most once a minute per pair: asked on every poll it
// spent half of Kraken's one-public-call-a-second allowance, so a poll every second (a rehearsal's
// `--pace 1`) could only run every two and handed the candles over in pairs.
import type { Candle } from '../exchange/types.js';
import type { KrakenPublicMarket } from '../exchange/kraken/public-market.js';
import { sleep } from './sleep.js';
import type { MarketFeed, MarketTick } from './types.js';

/** How long a pair's 24h volume from the ticker is used before it is asked again. */
export const VOLUME_REFRESH_MS = 60_000;

export class KrakenFeed implements MarketFeed {
  readonly kind = 'kraken' as const;
  readonly #last = new Map<string, number>();
  /** Per pair, when the ticker's 24h volume was last asked (performance.now()). */
  readonly #volumeAskedAt = new Map<string, number>();
  #first = true;

  constructor(private readonly market: KrakenPublicMarket, private readonly pairs: string[], private readonly pollMs: number) {}

  get pollIntervalMs(): number {
    return this.pollMs;
  }

  async next(signal: AbortSignal): Promise<MarketTick[] | null> {
    if (!this.#first) await sleep(this.pollMs, signal);
    if (signal.aborted) return [];
    const warmup = this.#first;
    const out: MarketTick[] = [];
    for (const symbol of this.pairs) {
      const since = this.#last.get(symbol);
      const candles = await this.market.fetchCandles(symbol, since === undefined ? undefined : new Date(since));
      const closed = candles.slice(0, -1).filter((c: Candle) => since === undefined || c.openTime.getTime() > since);
      if (closed.length === 0) continue;
      const volume = await this.#volume(symbol);
      for (const candle of closed) out.push({ candle, ...(volume !== undefined ? { quoteVolume24h: volume } : {}), ...(warmup ? { warmup } : {}) });
      this.#last.set(symbol, closed[closed.length - 1]!.openTime.getTime());
    }
    this.#first = false;
    out.sort((a, b) => a.candle.openTime.getTime() - b.candle.openTime.getTime());
    return out;
  }

  /** The ticker's 24h volume when it is due again; undefined meanwhile (the price board keeps the last one). */
  async #volume(symbol: string): Promise<number | undefined> {
    const asked = this.#volumeAskedAt.get(symbol);
    if (asked !== undefined && performance.now() - asked < VOLUME_REFRESH_MS) return undefined;
    const volume = await this.market.fetchQuoteVolume24h(symbol);
    // Unknown (no figure in the answer): asked again on the next poll, as before.
    if (volume !== undefined) this.#volumeAskedAt.set(symbol, performance.now());
    return volume;
  }
}
