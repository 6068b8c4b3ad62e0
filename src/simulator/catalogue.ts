// Owns what the simulator lists: its assets and spot pairs in Kraken's ids and precisions, and the
// lookups between a pair id (XXBTZUSD), its altname (XBTUSD), its symbol (BTC/USD) and asset names.
export interface PairInfo {
  id: string;
  altname: string;
  wsname: string;
  symbol: string;
  base: string;
  quote: string;
  ordermin: string;
  costmin: string;
  tick: string;
  pairDecimals: number;
  lotDecimals: number;
  /** Price used when the replay file has no candles for the pair. */
  defaultPrice: string;
}

export interface AssetInfo {
  id: string;
  altname: string;
  decimals: number;
  displayDecimals: number;
}

export const ASSETS: Record<string, AssetInfo> = {
  XXBT: { id: 'XXBT', altname: 'XBT', decimals: 10, displayDecimals: 5 },
  XETH: { id: 'XETH', altname: 'ETH', decimals: 10, displayDecimals: 5 },
  ZUSD: { id: 'ZUSD', altname: 'USD', decimals: 4, displayDecimals: 2 },
};

export const PAIRS: Record<string, PairInfo> = {
  XXBTZUSD: {
    id: 'XXBTZUSD', altname: 'XBTUSD', wsname: 'XBT/USD', symbol: 'BTC/USD', base: 'XXBT', quote: 'ZUSD',
    ordermin: '0.00005', costmin: '0.5', tick: '0.1', pairDecimals: 1, lotDecimals: 8, defaultPrice: '50000.0',
  },
  XETHZUSD: {
    id: 'XETHZUSD', altname: 'ETHUSD', wsname: 'ETH/USD', symbol: 'ETH/USD', base: 'XETH', quote: 'ZUSD',
    ordermin: '0.002', costmin: '0.5', tick: '0.01', pairDecimals: 2, lotDecimals: 8, defaultPrice: '3000.00',
  },
};

/** Common names people type (USD, BTC) → Kraken asset ids. */
const ASSET_ALIASES: Record<string, string> = { USD: 'ZUSD', BTC: 'XXBT', XBT: 'XXBT', ETH: 'XETH' };

export function assetIdOf(name: string): string | undefined {
  const upper = name.toUpperCase();
  if (ASSETS[upper]) return upper;
  return ASSET_ALIASES[upper];
}

/** A pair by id (XXBTZUSD), altname (XBTUSD), wsname (XBT/USD) or symbol (BTC/USD). */
export function pairOf(name: string | undefined): PairInfo | undefined {
  if (!name) return undefined;
  const upper = name.toUpperCase();
  return Object.values(PAIRS).find((p) => p.id === upper || p.altname === upper || p.wsname === upper || p.symbol === upper);
}

/** A pair by its symbol in a replay file (BTC/USD). */
export function pairOfSymbol(symbol: string): PairInfo | undefined {
  return Object.values(PAIRS).find((p) => p.symbol === symbol.toUpperCase());
}

export function assetsAnswer(): Record<string, unknown> {
  return Object.fromEntries(Object.values(ASSETS).map((a) => [a.id, {
    aclass: 'currency', altname: a.altname, decimals: a.decimals, display_decimals: a.displayDecimals, status: 'enabled',
  }]));
}

export function assetPairsAnswer(fees: { taker: string; maker: string }): Record<string, unknown> {
  return Object.fromEntries(Object.values(PAIRS).map((p) => [p.id, {
    altname: p.altname, wsname: p.wsname, aclass_base: 'currency', base: p.base, aclass_quote: 'currency', quote: p.quote,
    lot: 'unit', cost_decimals: 5, pair_decimals: p.pairDecimals, lot_decimals: p.lotDecimals, lot_multiplier: 1,
    leverage_buy: [], leverage_sell: [], fees: [[0, Number(fees.taker)]], fees_maker: [[0, Number(fees.maker)]],
    fee_volume_currency: 'ZUSD', margin_call: 80, margin_stop: 40, ordermin: p.ordermin, costmin: p.costmin, tick_size: p.tick, status: 'online',
  }]));
}
