// Builds the paper exchange from the configuration: fees, slippage, starting balance and pairs.
import type { Clock } from '../../clock.js';
import type { Config } from '../../config/env.js';
import type { Db } from '../../db/client.js';
import type { Logger } from '../../logger.js';
import type { PriceBoardReader } from '../../market/types.js';
import { PaperExchange } from './paper-exchange.js';

export interface PaperExchangeWiring {
  config: Config;
  db: Db;
  clock: Clock;
  logger: Logger;
  prices: PriceBoardReader;
}

export function createPaperExchange(w: PaperExchangeWiring): PaperExchange {
  return new PaperExchange({
    db: w.db,
    clock: w.clock,
    prices: w.prices,
    pricing: {
      takerFeePct: w.config.PAPER_TAKER_FEE_PCT,
      makerFeePct: w.config.PAPER_MAKER_FEE_PCT,
      slippageBps: w.config.PAPER_SLIPPAGE_BPS,
      impactBps: w.config.PAPER_IMPACT_BPS,
    },
    quoteCurrency: w.config.QUOTE_CURRENCY,
    startingBalance: String(w.config.PAPER_STARTING_BALANCE),
    symbols: w.config.TRADING_PAIRS,
  });
}
