// Owns Kraken's public market data through ccxt — OHLC candles, the ticker and the listed pairs
// (AssetPairs) — with no API key and no armed client: the market feed's only way to Kraken, and the
// go-live audit's to AssetPairs in a shell without the key. ccxt's errors are translated here.
import type { Config } from '../../config/env.js';
import { ExchangeError } from '../errors.js';
import type { Candle } from '../types.js';
import { createCcxtKraken, failedMarketsLoad, loadCcxt, type KrakenClientOptions } from './ccxt-client.js';
import { listedMarkets } from './listed-markets.js';
import { mapKrakenError } from './map-error.js';

export interface KrakenPublicMarket {
  /** 1-minute candles since `since` (Kraken returns up to 720; the last one is still forming). */
  fetchCandles(symbol: string, since?: Date): Promise<Candle[]>;
  fetchQuoteVolume24h(symbol: string): Promise<number | undefined>;
  /** The ticker's last trade price (a mark for open positions), as a decimal string. */
  fetchLastPrice(symbol: string): Promise<string | undefined>;
  /**
   * The pairs Kraken lists (its AssetPairs), as ccxt names them, by the rule the keyed adapter's
   * markets follow (listed-markets.ts). Fails as the keyed adapter's markets do (map-error.ts): no
   * answer at all is `network` or `timeout`.
   */
  listedPairs(): Promise<string[]>;
}

async function translate<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ExchangeError) throw err;
    const ccxt = await loadCcxt();
    const message = err instanceof Error ? err.message.slice(0, 300) : String(err);
    // ccxt loads the markets before the first OHLC or ticker call: say so, and that the next try loads them again.
    const during = failedMarketsLoad(err) ? ' (loading its markets; loaded again on the next try)' : '';
    if (err instanceof ccxt.NetworkError) {
      throw new ExchangeError('retryable', 'kraken_unreachable', `Kraken's public API did not answer ${what}${during}: ${message}`, { cause: err });
    }
    if (err instanceof ccxt.BadSymbol) {
      throw new ExchangeError('rejected', 'unknown_pair', `Kraken does not list the pair for ${what}: ${message}`, { hint: 'Check TRADING_PAIRS.', cause: err });
    }
    throw new ExchangeError('retryable', 'kraken_public_error', `Kraken's public API failed ${what}${during}: ${message}`, { cause: err });
  }
}

function toCandle(symbol: string, row: unknown): Candle | undefined {
  if (!Array.isArray(row) || row.length < 6) return undefined;
  const [t, open, high, low, close, volume] = row.map(Number) as [number, number, number, number, number, number];
  if (![t, open, high, low, close, volume].every(Number.isFinite) || close <= 0) return undefined;
  return { symbol, openTime: new Date(t), open, high, low, close, volume };
}

export async function createKrakenPublicMarket(
  config: Config,
  opts: Pick<KrakenClientOptions, 'enableRateLimit' | 'onRequest' | 'timeoutMs'> = {},
): Promise<KrakenPublicMarket> {
  const client = await createCcxtKraken(config, { ...opts, armed: false, withKeys: false });
  return {
    fetchCandles: (symbol, since) =>
      translate(`OHLC for ${symbol}`, async () => {
        const rows = await client.fetchOHLCV(symbol, '1m', since?.getTime());
        return rows.map((r) => toCandle(symbol, r)).filter((c): c is Candle => c !== undefined);
      }),
    fetchQuoteVolume24h: (symbol) =>
      translate(`the ticker for ${symbol}`, async () => {
        const t = await client.fetchTicker(symbol);
        const quote = Number(t.quoteVolume ?? (t.baseVolume !== undefined && t.vwap !== undefined ? Number(t.baseVolume) * Number(t.vwap) : NaN));
        return Number.isFinite(quote) ? quote : undefined;
      }),
    fetchLastPrice: (symbol) =>
      translate(`the ticker for ${symbol}`, async () => {
        const last = (await client.fetchTicker(symbol)).last;
        return typeof last === 'number' && Number.isFinite(last) && last > 0 ? String(last) : undefined;
      }),
    async listedPairs() {
      try {
        await client.loadMarkets();
      } catch (err) {
        throw mapKrakenError(err, 'AssetPairs');
      }
      return listedMarkets(client).map((m) => m.symbol);
    },
  };
}
