// Owns how orders and trades are written in answers: the fields and formats of Kraken's
// QueryOrders / OpenOrders / ClosedOrders order info and TradesHistory / QueryTrades trade info.
import { PAIRS, pairOf } from './catalogue.js';
import type { SimContext } from './context.js';
import { d, fixed } from './format.js';
import { describeOrder } from './add-order.js';
import type { SimOrder, SimTrade } from './types.js';

export function orderJson(ctx: SimContext, o: SimOrder, withTrades: boolean): Record<string, unknown> {
  const executed = d(o.vol_exec);
  const pair = pairOf(o.pair);
  let avg = '0.00000';
  if (executed.gt(0)) {
    avg = o.cost !== undefined && d(o.cost).gt(0)
      ? fixed(d(o.cost).div(executed), 5)
      : fixed(o.price ?? (pair ? ctx.state.tickers[pair.id] ?? '0' : '0'), 5);
  }
  const ended = o.status === 'closed' || o.status === 'canceled' || o.status === 'expired';
  return {
    refid: null, userref: o.userref ?? 0, cl_ord_id: o.cl_ord_id ?? null, status: o.status,
    ...(ended ? { reason: o.reason ?? null } : {}),
    opentm: o.opentm, starttm: 0, expiretm: 0,
    ...(ended ? { closetm: o.closetm ?? o.opentm } : {}),
    descr: {
      pair: o.pair, type: o.type, ordertype: o.ordertype, price: o.price ?? '0', price2: '0', leverage: 'none',
      order: describeOrder(o), close: '',
    },
    vol: fixed(o.vol, 8), vol_exec: fixed(o.vol_exec, 8), cost: fixed(o.cost ?? '0', 5), fee: fixed(o.fee ?? '0', 5), price: avg,
    stopprice: '0.00000', limitprice: '0.00000', misc: '', oflags: o.oflags ?? 'fciq',
    ...(withTrades && o.trades && o.trades.length > 0 ? { trades: [...o.trades] } : {}),
  };
}

export function tradeJson(t: SimTrade): Record<string, unknown> {
  const pair = PAIRS[t.pair] ?? pairOf(t.pair);
  return {
    ordertxid: t.ordertxid, postxid: t.postxid ?? 'TKH2SE-M7IF5-CFI7LT', pair: pair?.id ?? t.pair, time: t.time, type: t.type,
    ordertype: t.ordertype ?? 'market', price: t.price, cost: t.cost ?? fixed(d(t.price).mul(t.vol), 5), fee: t.fee, vol: t.vol,
    margin: '0.00000', leverage: '0', misc: '', trade_id: t.trade_id ?? 1, maker: t.maker ?? false,
  };
}
