// Owns executing a fill: the trade record in Kraken's shape, the order's executed volume, cost, fee
// and average, and the money moved — cost plus fee out of quote for a buy, base out and cost minus
// fee into quote for a sell (fees in the quote currency, as Kraken charges by default). A fill the
// account cannot pay for shrinks to what it can, and the rest of the order is cancelled.
import { balanceOf, freeOf, remainingOf, setBalance } from './account.js';
import { pairOf } from './catalogue.js';
import type { SimContext } from './context.js';
import { d, Decimal, fixed, unixTime } from './format.js';
import { krakenId } from './ids.js';
import type { SimOrder, SimTrade } from './types.js';

const QUOTE_STEP = 4; // USD amounts are kept to Kraken's 4 decimals, so balances stay exact

export function closeOrder(ctx: SimContext, o: SimOrder, status: 'closed' | 'canceled' | 'expired', reason: string | null): void {
  o.status = status;
  o.closetm = unixTime(ctx.now());
  o.reason = reason;
  o.takerSlicesLeft = 0;
  ctx.changed();
  ctx.execution({ kind: 'ended', order: o });
}

/** Fills up to `vol` of `o` at `price`; returns the volume filled (0 when nothing could be paid for). */
export function fill(ctx: SimContext, o: SimOrder, vol: Decimal, price: Decimal, maker: boolean): Decimal {
  const pair = pairOf(o.pair)!;
  const feeRate = (maker ? ctx.fills.makerFeePct : ctx.fills.takerFeePct).div(100);
  const wanted = Decimal.min(vol, remainingOf(o)).toDecimalPlaces(pair.lotDecimals, Decimal.ROUND_DOWN);
  let volume = wanted;
  if (o.type === 'buy') {
    const available = freeOf(ctx, pair.quote, o);
    const perUnit = price.mul(d(1).plus(feeRate));
    if (volume.mul(perUnit).gt(available)) volume = Decimal.max(0, available.div(perUnit)).toDecimalPlaces(pair.lotDecimals, Decimal.ROUND_DOWN);
  } else {
    volume = Decimal.min(volume, Decimal.max(0, freeOf(ctx, pair.base, o)));
  }
  if (volume.lte(0)) {
    closeOrder(ctx, o, 'canceled', 'Insufficient funds');
    return d(0);
  }
  const cost = volume.mul(price).toDecimalPlaces(QUOTE_STEP, Decimal.ROUND_HALF_EVEN);
  const fee = cost.mul(feeRate).toDecimalPlaces(QUOTE_STEP, Decimal.ROUND_UP);
  if (o.type === 'buy') {
    setBalance(ctx, pair.quote, balanceOf(ctx, pair.quote).minus(cost).minus(fee));
    setBalance(ctx, pair.base, balanceOf(ctx, pair.base).plus(volume));
  } else {
    setBalance(ctx, pair.base, balanceOf(ctx, pair.base).minus(volume));
    setBalance(ctx, pair.quote, balanceOf(ctx, pair.quote).plus(cost).minus(fee));
  }
  const trade: SimTrade = {
    txid: krakenId('T', ctx.random), ordertxid: o.txid, postxid: krakenId('T', ctx.random), pair: pair.id, time: unixTime(ctx.now()),
    type: o.type, ordertype: o.ordertype, price: fixed(price, 5), cost: fixed(cost, 5), fee: fixed(fee, 5), vol: fixed(volume, 8),
    maker, trade_id: ++ctx.seq.tradeId,
  };
  ctx.state.trades.push(trade);
  const executed = d(o.vol_exec).plus(volume);
  o.vol_exec = fixed(executed, 8);
  o.cost = fixed(d(o.cost ?? 0).plus(cost), 5);
  o.fee = fixed(d(o.fee ?? 0).plus(fee), 5);
  o.trades = [...(o.trades ?? []), trade.txid];
  ctx.execution({ kind: 'trade', order: o, trade });
  if (executed.gte(o.vol)) closeOrder(ctx, o, 'closed', null);
  else if (volume.lt(wanted)) {
    // Paid for only part of what this fill wanted: the account is out of funds for the rest.
    closeOrder(ctx, o, 'canceled', 'Insufficient funds');
  }
  ctx.changed();
  return volume;
}
