// Owns the account's money: balances per Kraken asset and what open orders hold (hold_trade). A buy
// holds quote for its remaining volume at its price plus the taker fee; a sell holds the base.
import { PAIRS, pairOf } from './catalogue.js';
import type { SimContext } from './context.js';
import { d, Decimal, fixed, toStep } from './format.js';
import { ASSETS } from './catalogue.js';
import { isOpen, type SimOrder } from './types.js';

export function balanceOf(ctx: SimContext, asset: string): Decimal {
  return d(ctx.state.balances[asset] ?? '0');
}

export function setBalance(ctx: SimContext, asset: string, amount: Decimal): void {
  ctx.state.balances[asset] = fixed(amount, ASSETS[asset]?.decimals ?? 10);
}

export function remainingOf(o: SimOrder): Decimal {
  return Decimal.max(0, d(o.vol).minus(o.vol_exec));
}

/** The price a market order fills at now: the last price moved by the slippage, on the pair's tick. */
export function marketPrice(ctx: SimContext, pairId: string, side: 'buy' | 'sell'): Decimal {
  const pair = PAIRS[pairId]!;
  const last = ctx.path.price(pairId);
  const moved = side === 'buy' ? last.mul(d(1).plus(ctx.fills.slippage)) : last.mul(d(1).minus(ctx.fills.slippage));
  const step = d(pair.tick);
  const ticks = moved.div(step);
  return (side === 'buy' ? ticks.ceil() : ticks.floor()).mul(step);
}

/** What one open order holds: [asset, amount]. */
export function holdOf(ctx: SimContext, o: SimOrder): [string, Decimal] | undefined {
  const pair = pairOf(o.pair);
  if (!pair || !isOpen(o)) return undefined;
  const remaining = remainingOf(o);
  if (o.type === 'sell') return [pair.base, remaining];
  const price = o.ordertype === 'limit' && o.price ? d(o.price) : marketPrice(ctx, pair.id, 'buy');
  const fee = d(1).plus(ctx.fills.takerFeePct.div(100));
  return [pair.quote, toStep(remaining.mul(price).mul(fee), '0.0001')];
}

/** Amount held per asset by open orders, leaving out `except`. */
export function holds(ctx: SimContext, except?: SimOrder): Map<string, Decimal> {
  const out = new Map<string, Decimal>();
  for (const o of ctx.state.orders.values()) {
    if (o === except) continue;
    const h = holdOf(ctx, o);
    if (h) out.set(h[0], (out.get(h[0]) ?? d(0)).plus(h[1]));
  }
  return out;
}

/** Balance minus what other open orders hold. */
export function freeOf(ctx: SimContext, asset: string, except?: SimOrder): Decimal {
  return balanceOf(ctx, asset).minus(holds(ctx, except).get(asset) ?? 0);
}
