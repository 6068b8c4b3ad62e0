// Owns Kraken's public endpoints as the simulator serves them: Time, SystemStatus, Assets,
// AssetPairs (both are what ccxt's loadMarkets reads), Ticker and OHLC from the price path.
import { marketPrice } from './account.js';
import { assetPairsAnswer, assetsAnswer, pairOf } from './catalogue.js';
import type { SimContext } from './context.js';
import { fixed, isoSeconds } from './format.js';
import { fail, ok, type KrakenAnswer } from './types.js';

const OHLC_INTERVALS = new Set([1, 5, 15, 30, 60, 240, 1440, 10080, 21600]);

function pairsParam(text: string | undefined): string[] {
  return (text ?? 'XXBTZUSD').split(',').map((p) => p.trim()).filter(Boolean);
}

function ticker(ctx: SimContext, pairId: string): Record<string, unknown> {
  const pair = pairOf(pairId)!;
  const dp = pair.pairDecimals;
  const last = fixed(ctx.path.price(pair.id), dp);
  const day = ctx.path.daily(pair.id);
  const vol = fixed(day.volume, 8);
  const vwap = fixed(day.vwap, dp);
  return {
    a: [fixed(marketPrice(ctx, pair.id, 'buy'), dp), '1', '1.000'], b: [fixed(marketPrice(ctx, pair.id, 'sell'), dp), '1', '1.000'],
    c: [last, '0.01000000'], v: [vol, vol], p: [vwap, vwap], t: [day.trades, day.trades],
    l: [fixed(day.low, dp), fixed(day.low, dp)], h: [fixed(day.high, dp), fixed(day.high, dp)], o: fixed(day.open, dp),
  };
}

/** The public endpoints the simulator serves (the names faults and calls use). */
export const PUBLIC_ENDPOINTS = ['Time', 'SystemStatus', 'Assets', 'AssetPairs', 'Ticker', 'OHLC'] as const;

export function publicAnswer(ctx: SimContext, endpoint: string, params: Record<string, string>): KrakenAnswer {
  switch (endpoint) {
    case 'Time': {
      const now = ctx.now();
      return ok({ unixtime: Math.floor(now / 1000), rfc1123: new Date(Math.floor(now / 1000) * 1000).toUTCString() });
    }
    case 'SystemStatus':
      return ok({ status: ctx.state.systemStatus, timestamp: isoSeconds(ctx.now()) });
    case 'Assets':
      return ok(assetsAnswer());
    case 'AssetPairs':
      return ok(assetPairsAnswer({ taker: ctx.fills.takerFeePct.toFixed(), maker: ctx.fills.makerFeePct.toFixed() }));
    case 'Ticker': {
      const pairs = pairsParam(params['pair']).map((p) => pairOf(p));
      if (pairs.some((p) => !p)) return fail('EQuery:Unknown asset pair');
      return ok(Object.fromEntries(pairs.map((p) => [p!.id, ticker(ctx, p!.id)])));
    }
    case 'OHLC': {
      const pair = pairOf(params['pair']);
      if (!pair) return fail('EQuery:Unknown asset pair');
      const interval = Number(params['interval'] ?? 1);
      if (!OHLC_INTERVALS.has(interval)) return fail('EGeneral:Invalid arguments:interval');
      const since = params['since'] !== undefined && /^\d+$/.test(params['since']) ? Number(params['since']) : undefined;
      const { rows, last } = ctx.path.ohlc(pair.id, interval, since);
      return ok({ [pair.id]: rows, last });
    }
    default:
      return fail('EGeneral:Unknown method');
  }
}
