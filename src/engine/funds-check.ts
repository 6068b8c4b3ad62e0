// Owns the pre-trade funds check of a live entry: the exchange's free quote balance (Kraken BalanceEx:
// balance less what open orders hold), less what entries in flight still need, must cover the order's
// notional at its reference price plus the cost allowance (fees, slippage). An order the account
// cannot pay for is refused before it is sent — Kraken would refuse it, or fill what it can.
import type { Config } from '../config/env.js';
import type { OrderIntent } from '../db/schema/index.js';
import { isAppError } from '../errors.js';
import type { Exchange } from '../exchange/types.js';
import type { PriceBoard } from '../market/price-board.js';
import { dec, type Decimal } from '../money.js';
import { ENTRY_COST_ALLOWANCE_PCT } from './in-flight.js';
import type { Portfolio } from './portfolio.js';

export type FundsVerdict = { ok: true } | { ok: false; reason: string };

/** What the check reads: the quote currency and the last prices (what orders in flight hold). */
export interface FundsCheckDeps {
  config: Pick<Config, 'QUOTE_CURRENCY'>;
  prices: PriceBoard;
}

const money = (d: Decimal) => d.toFixed(2);

export async function checkFunds(p: {
  ctx: FundsCheckDeps;
  exchange: Exchange;
  portfolio: Portfolio;
  intent: OrderIntent;
  referencePrice?: Decimal | undefined;
}): Promise<FundsVerdict> {
  const { ctx, intent } = p;
  const quote = ctx.config.QUOTE_CURRENCY;
  const close = ctx.prices.lastCandle(intent.symbol)?.close;
  const price = p.referencePrice ?? (close !== undefined && close > 0 ? dec(close) : undefined);
  if (!price) return { ok: false, reason: `no price for ${intent.symbol} to check the order's cost against the balance` };
  const held = p.portfolio.reservedForOrders(ctx.prices);
  if (held === null) return { ok: false, reason: 'an order in flight cannot be priced yet, so the free balance is not known' };
  let free: Decimal;
  try {
    const balances = await p.exchange.fetchBalances();
    free = dec(balances.find((b) => b.asset === quote)?.free ?? '0');
  } catch (err) {
    const why = isAppError(err) ? err.message : 'the balance request failed';
    return { ok: false, reason: `the free ${quote} balance could not be read (${why}), so the order was not sent` };
  }
  const need = dec(intent.quantity).times(price).times(dec(1).plus(dec(ENTRY_COST_ALLOWANCE_PCT).div(100)));
  const available = free.minus(held);
  if (available.gte(need)) return { ok: true };
  const inFlight = held.gt(0) ? `, of which ${money(held)} is held for orders in flight` : '';
  return {
    ok: false,
    reason: `insufficient funds: ${intent.quantity} ${intent.symbol} at ${price.toFixed()} needs ${money(need)} ${quote} with fees; `
      + `the exchange's free balance is ${money(free)} ${quote}${inFlight}`,
  };
}
