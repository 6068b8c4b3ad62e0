// Owns matching orders against the price path. A market order fills at the last price moved by the
// slippage; with fillSlices > 1 it fills a slice at once and the rest over the next ticks (partial
// fills). A limit order that crosses the market fills like a taker at the better price; otherwise it
// rests and fills whole at its limit (maker fee) once the path trades through it.
import { marketPrice, remainingOf } from './account.js';
import { PAIRS, pairOf } from './catalogue.js';
import type { SimContext } from './context.js';
import { fill } from './fills.js';
import { d, Decimal } from './format.js';
import type { PathMove } from './price-path.js';
import { isOpen, type SimOrder } from './types.js';

/** The price a taker slice of `o` fills at now, or undefined when a limit no longer crosses. */
function takerPrice(ctx: SimContext, o: SimOrder, pairId: string): Decimal | undefined {
  const market = marketPrice(ctx, pairId, o.type);
  if (o.ordertype === 'market') return market;
  const limit = d(o.price!);
  if (o.type === 'buy') return market.lte(limit) ? market : undefined;
  return market.gte(limit) ? market : undefined;
}

/** Fills the next taker slice of `o`; a limit that no longer crosses starts resting instead. */
export function takeSlice(ctx: SimContext, o: SimOrder): void {
  const pair = pairOf(o.pair);
  if (!pair || !isOpen(o) || !o.takerSlicesLeft) return;
  const price = takerPrice(ctx, o, pair.id);
  if (!price) {
    o.takerSlicesLeft = 0;
    return;
  }
  const slices = o.takerSlicesLeft;
  const remaining = remainingOf(o);
  const volume = slices <= 1 ? remaining : remaining.div(slices).toDecimalPlaces(pair.lotDecimals, Decimal.ROUND_DOWN);
  o.takerSlicesLeft = slices - 1;
  fill(ctx, o, volume.gt(0) ? volume : remaining, price, false);
  if (isOpen(o) && o.takerSlicesLeft === 0 && o.ordertype === 'market' && remainingOf(o).gt(0)) o.takerSlicesLeft = 1;
}

/** Whether a new limit order crosses the market now (and so takes liquidity). */
export function crossesNow(ctx: SimContext, o: SimOrder): boolean {
  const pair = pairOf(o.pair);
  return pair !== undefined && o.ordertype === 'limit' && takerPrice(ctx, o, pair.id) !== undefined;
}

/**
 * After the market moved: resting limits the move traded through fill; on a candle step (not a price
 * set by hand) taker orders fill their next slice.
 */
export function onMove(ctx: SimContext, moves: PathMove[], step = true): void {
  const byPair = new Map(moves.map((m) => [m.pairId, m]));
  const open = [...ctx.state.orders.values()].filter(isOpen).sort((a, b) => a.opentm - b.opentm);
  for (const o of open) {
    const pair = pairOf(o.pair);
    const move = pair ? byPair.get(pair.id) : undefined;
    if (!pair || !move || !PAIRS[pair.id]) continue;
    if (o.takerSlicesLeft) {
      if (step) takeSlice(ctx, o);
      continue;
    }
    if (o.ordertype !== 'limit' || !o.price) continue;
    const limit = d(o.price);
    const crossed = o.type === 'buy' ? move.low.lte(limit) : move.high.gte(limit);
    if (crossed) fill(ctx, o, remainingOf(o), limit, true);
  }
}
