// Owns AddOrder: Kraken's checks in Kraken's words (system status, pair, trading counter, arguments,
// order minimums, funds including what open orders hold), then the order — market, or limit that
// rests or crosses — with cl_ord_id / userref, `deadline` (refused once past: never placed late),
// and `validate` that checks without placing.
import { freeOf, marketPrice } from './account.js';
import { pairOf, type PairInfo } from './catalogue.js';
import type { SimContext } from './context.js';
import { d, decimalsOf, Decimal, fixed, positiveDecimal, unixTime } from './format.js';
import { krakenId } from './ids.js';
import { crossesNow, takeSlice } from './matcher.js';
import { fail, isOpen, ok, type KrakenAnswer, type SimOrder } from './types.js';

// Kraken takes a UUID (with or without hyphens) or up to 18 printable ASCII characters.
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const isClOrdId = (id: string) => UUID.test(id) || /^[\x21-\x7e]{1,18}$/.test(id);

export function describeOrder(o: Pick<SimOrder, 'type' | 'vol' | 'pair' | 'ordertype' | 'price'>): string {
  const vol = fixed(o.vol, 8);
  return o.ordertype === 'market' ? `${o.type} ${vol} ${o.pair} @ market` : `${o.type} ${vol} ${o.pair} @ limit ${o.price}`;
}

function statusProblem(ctx: SimContext, ordertype: string, oflags: string): string | undefined {
  switch (ctx.state.systemStatus) {
    case 'maintenance':
      return 'EService:Unavailable';
    case 'cancel_only':
      return 'EService:Market in cancel_only mode';
    case 'post_only':
      return ordertype === 'limit' && oflags.split(',').includes('post') ? undefined : 'EService:Market in post_only mode';
    default:
      return undefined;
  }
}

interface Parsed {
  pair: PairInfo;
  type: 'buy' | 'sell';
  ordertype: 'market' | 'limit';
  volume: Decimal;
  price?: Decimal;
  priceText?: string;
  clOrdId?: string;
  userref?: number;
  oflags: string;
}

function parse(ctx: SimContext, params: Record<string, string>, pair: PairInfo): Parsed | string {
  const type = params['type'];
  if (type !== 'buy' && type !== 'sell') return 'EGeneral:Invalid arguments:type';
  const ordertype = params['ordertype'];
  if (ordertype !== 'market' && ordertype !== 'limit') return 'EGeneral:Invalid arguments:ordertype';
  const volume = positiveDecimal(params['volume']);
  if (!volume) return 'EGeneral:Invalid arguments:volume';
  if (decimalsOf(params['volume']!.trim()) > pair.lotDecimals && !volume.eq(volume.toDecimalPlaces(pair.lotDecimals))) {
    return `EGeneral:Invalid arguments:volume`;
  }
  let price: Decimal | undefined;
  if (ordertype === 'limit') {
    price = positiveDecimal(params['price']);
    if (!price) return 'EGeneral:Invalid arguments:price';
    if (!price.eq(price.toDecimalPlaces(pair.pairDecimals))) {
      return `EOrder:Invalid price:${pair.altname} price can only be specified up to ${pair.pairDecimals} decimals.`;
    }
  }
  const clOrdId = params['cl_ord_id'];
  if (clOrdId !== undefined && !isClOrdId(clOrdId)) return 'EGeneral:Invalid arguments:cl_ord_id';
  const userrefText = params['userref'];
  if (userrefText !== undefined && !/^-?\d{1,10}$/.test(userrefText)) return 'EGeneral:Invalid arguments:userref';
  if (clOrdId !== undefined && userrefText !== undefined) return 'EGeneral:Invalid arguments:cl_ord_id and userref cannot be used together';
  if (volume.lt(pair.ordermin)) return 'EOrder:Order minimum not met';
  const reference = price ?? marketPrice(ctx, pair.id, type);
  if (volume.mul(reference).lt(pair.costmin)) return 'EOrder:Cost minimum not met';
  if (clOrdId !== undefined && [...ctx.state.orders.values()].some((o) => isOpen(o) && o.cl_ord_id === clOrdId)) {
    return 'EOrder:Duplicate order';
  }
  return {
    pair, type, ordertype, volume, oflags: params['oflags'] ?? '',
    ...(price ? { price, priceText: fixed(price, pair.pairDecimals) } : {}),
    ...(clOrdId !== undefined ? { clOrdId } : {}),
    ...(userrefText !== undefined ? { userref: Number(userrefText) } : {}),
  };
}

/** Whether the account can pay for the order now (quote for cost plus the taker fee, or the base). */
function fundsProblem(ctx: SimContext, p: Parsed): string | undefined {
  if (p.type === 'sell') return freeOf(ctx, p.pair.base).lt(p.volume) ? 'EOrder:Insufficient funds' : undefined;
  const price = p.price ?? marketPrice(ctx, p.pair.id, 'buy');
  const needed = p.volume.mul(price).mul(d(1).plus(ctx.fills.takerFeePct.div(100)));
  return freeOf(ctx, p.pair.quote).lt(needed) ? 'EOrder:Insufficient funds' : undefined;
}

/** Kraken's answer to an order whose `deadline` passed before it reached the matching engine (assumed text: see deadlineProblem). */
export const DEADLINE_ELAPSED = 'EService:Deadline elapsed';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * AddOrder's `deadline` (RFC 3339; min now + 2 s, max now + 60 s, Kraken's REST reference): one
 * that cannot be read or lies outside that range is an invalid argument; one already past when the
 * request is handled is refused and nothing is placed. Kraken's reference does not give the text of
 * that refusal: `EService:Deadline elapsed` is assumed (an EService error, which a client must treat
 * as "placed or not, unknown" and resolve by asking — the safe reading).
 */
function deadlineProblem(ctx: SimContext, text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const at = RFC3339.test(text.trim()) ? Date.parse(text.trim()) : Number.NaN;
  if (Number.isNaN(at)) return 'EGeneral:Invalid arguments:deadline';
  const now = ctx.now();
  if (at <= now) return DEADLINE_ELAPSED;
  if (at < now + 2_000 || at > now + 60_000) return 'EGeneral:Invalid arguments:deadline';
  return undefined;
}

export function addOrder(ctx: SimContext, params: Record<string, string>): KrakenAnswer {
  const status = statusProblem(ctx, params['ordertype'] ?? '', params['oflags'] ?? '');
  if (status) return fail(status);
  const pair = pairOf(params['pair']);
  if (!pair) return fail('EQuery:Unknown asset pair');
  const late = deadlineProblem(ctx, params['deadline']);
  if (late) return fail(late);
  if (!ctx.rates.chargeAdd(pair.id, ctx.now())) return fail('EOrder:Rate limit exceeded');
  const parsed = parse(ctx, params, pair);
  if (typeof parsed === 'string') return fail(parsed);
  const funds = fundsProblem(ctx, parsed);
  if (funds) return fail(funds);
  const order: SimOrder = {
    txid: krakenId('O', ctx.random), pair: pair.altname, type: parsed.type, ordertype: parsed.ordertype,
    vol: fixed(parsed.volume, 8), vol_exec: fixed(0, 8), status: 'open', opentm: unixTime(ctx.now()),
    cost: fixed(0, 5), fee: fixed(0, 5), trades: [], oflags: parsed.oflags === '' ? 'fciq' : parsed.oflags,
    ...(parsed.priceText ? { price: parsed.priceText } : {}),
    ...(parsed.clOrdId !== undefined ? { cl_ord_id: parsed.clOrdId } : {}),
    ...(parsed.userref !== undefined ? { userref: parsed.userref } : {}),
  };
  const descr = { order: describeOrder(order) };
  if (params['validate'] === 'true' || params['validate'] === '1') return ok({ descr });
  ctx.state.orders.set(order.txid, order);
  ctx.execution({ kind: 'new', order });
  if (order.ordertype === 'market' || crossesNow(ctx, order)) {
    order.takerSlicesLeft = Math.max(1, ctx.fills.fillSlices);
    takeSlice(ctx, order);
  }
  ctx.changed();
  return ok({ descr, txid: [order.txid] });
}
