// Owns which of Kraken's AssetPairs count as markets the bot can trade, as ccxt names them: spot
// pairs whose AssetPairs entry carries the sizes an order needs. The keyed adapter's market index
// (kraken-exchange.ts) and the key-less listing (public-market.ts) read AssetPairs through this one
// rule, so the engine's start and the go-live audit judge TRADING_PAIRS alike.
import type { Exchange as CcxtExchange } from 'ccxt';
import { Decimal } from '../../money.js';
import type { Market } from '../types.js';
import * as S from './schemas.js';

/** A listed market with the names Kraken itself uses for it (its id and altname). */
export interface ListedMarket extends Market {
  altname: string;
}

/** The tradeable spot markets of a ccxt Kraken client whose markets are loaded (loadMarkets). */
export function listedMarkets(client: Pick<CcxtExchange, 'markets'>): ListedMarket[] {
  const listed: ListedMarket[] = [];
  for (const m of Object.values(client.markets ?? {})) {
    if (!m || m.spot === false) continue;
    const info = S.assetPairInfo.safeParse(m.info);
    if (!info.success) continue;
    listed.push({
      symbol: m.symbol,
      base: m.base,
      quote: m.quote,
      exchangeId: m.id,
      minQuantity: info.data.ordermin ?? '0',
      quantityStep: new Decimal(10).pow(-info.data.lot_decimals).toFixed(),
      priceStep: info.data.tick_size ?? new Decimal(10).pow(-info.data.pair_decimals).toFixed(),
      altname: info.data.altname,
    });
  }
  return listed;
}
