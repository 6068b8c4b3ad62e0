// Owns the start-time pair rule: a process armed for live (IS_LIVE=true) with the Kraken key trades
// TRADING_PAIRS on Kraken, so each must be a market Kraken lists (its AssetPairs, as ccxt names
// them). A pair it does not list would otherwise surface only when its first order fails: the
// process refuses to start, naming the pair and the listed ones closest to it. When Kraken cannot be
// read at start, that is logged and the start goes on (every order is still checked against the markets).
// The go-live audit judges TRADING_PAIRS by the same rule (audit/checks/trading-pairs.ts).
import type { Config } from '../config/env.js';
import { AppError } from '../errors.js';
import type { ExchangeProvider } from '../exchange/provider.js';
import type { Logger } from '../logger.js';
import { didYouMean } from '../suggest-similar.js';

export interface ListedPairsDeps {
  config: Pick<Config, 'IS_LIVE' | 'TRADING_PAIRS'>;
  exchanges: Pick<ExchangeProvider, 'hasKrakenKeys' | 'kraken'>;
  logger: Logger;
}

export async function assertKrakenListsPairs(ctx: ListedPairsDeps): Promise<void> {
  if (!ctx.config.IS_LIVE || !ctx.exchanges.hasKrakenKeys()) return;
  let listed: string[];
  try {
    listed = (await ctx.exchanges.kraken().loadMarkets()).map((m) => m.symbol);
  } catch (err) {
    ctx.logger.warn({ err, pairs: ctx.config.TRADING_PAIRS }, "could not read Kraken's markets at start: TRADING_PAIRS were not checked against them");
    return;
  }
  const unlisted = unlistedPairs(ctx.config.TRADING_PAIRS, listed);
  if (unlisted === null) return;
  throw new AppError('config', 'pair_not_on_kraken',
    `Kraken does not list ${unlisted.what} in TRADING_PAIRS: this process is armed for live (IS_LIVE=true) and would trade ${unlisted.count === 1 ? 'it' : 'them'} on Kraken.`, {
      hint: `${UNLISTED_PAIRS_FIX}, then start again.`,
    });
}

/** What fixes a pair Kraken does not list (the start's refusal and the go-live audit say it alike). */
export const UNLISTED_PAIRS_FIX = 'Set TRADING_PAIRS (and the strategies file\'s pairs) to markets Kraken lists, written as BTC/USD';

/**
 * The pairs of `pairs` that `listed` (Kraken's markets, as ccxt names them) does not hold, in words —
 * "the pair ETH/USDT (Did you mean ETH/USD?)" — with how many; null when every pair is listed.
 */
export function unlistedPairs(pairs: readonly string[], listed: readonly string[]): { what: string; count: number; pairs: string[] } | null {
  const unlisted = pairs.filter((p) => !listed.includes(p));
  if (unlisted.length === 0) return null;
  const named = unlisted.map((p) => `${p}${didYouMean(p, listed)}`).join('; ');
  return { what: `${unlisted.length === 1 ? 'the pair' : 'the pairs'} ${named}`, count: unlisted.length, pairs: unlisted };
}
