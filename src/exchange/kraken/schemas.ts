// Owns the shapes of Kraken's REST answers (docs.kraken.com/api), parsed with zod at the edge so
// nothing loosely typed from ccxt travels further. Amounts stay decimal strings, as Kraken sends them.
import { z } from 'zod';

/** A decimal as Kraken writes it: a string ("42000.1") — numbers are accepted and kept exact as text. */
export const dec = z.union([z.string().regex(/^-?\d+(\.\d+)?(e-?\d+)?$/i, 'expected a decimal string'), z.number().finite()]).transform(String);
const unixTime = z.union([z.number(), z.string().regex(/^\d+(\.\d+)?$/)]).transform(Number);

export const tickerEntry = z.object({
  a: z.tuple([dec]).rest(z.unknown()),
  b: z.tuple([dec]).rest(z.unknown()),
  c: z.tuple([dec]).rest(z.unknown()),
  v: z.tuple([dec, dec]),
  p: z.tuple([dec, dec]),
});
export const tickerResult = z.record(z.string(), tickerEntry);

export const ohlcRow = z.tuple([unixTime, dec, dec, dec, dec, dec, dec]).rest(z.unknown());
export const ohlcResult = z.record(z.string(), z.union([z.array(ohlcRow), z.number()]));

export const balanceExResult = z.record(z.string(), z.object({ balance: dec, hold_trade: dec.optional() }).loose());

export const orderInfo = z
  .object({
    status: z.enum(['pending', 'open', 'closed', 'canceled', 'expired']),
    userref: z.union([z.number(), z.string()]).nullish(),
    cl_ord_id: z.string().nullish(),
    opentm: unixTime.optional(),
    descr: z.object({ pair: z.string(), type: z.enum(['buy', 'sell']), ordertype: z.string(), price: dec.optional() }).loose(),
    vol: dec,
    vol_exec: dec,
    cost: dec.optional(),
    fee: dec.optional(),
    price: dec.optional(),
    /** Order flags: fcib / fciq say in which currency Kraken charged the fee. */
    oflags: z.string().optional(),
    /** The order's trade ids: present when asked with trades=true and the order has fills. */
    trades: z.array(z.string()).optional(),
  })
  .loose();
export type KrakenOrder = z.infer<typeof orderInfo>;

export const openOrdersResult = z.object({ open: z.record(z.string(), orderInfo) });
export const closedOrdersResult = z.object({ closed: z.record(z.string(), orderInfo), count: z.number().optional() });
export const queryOrdersResult = z.record(z.string(), orderInfo);

export const tradeInfo = z
  .object({
    ordertxid: z.string(),
    pair: z.string(),
    time: unixTime,
    type: z.enum(['buy', 'sell']),
    price: dec,
    fee: dec,
    vol: dec,
  })
  .loose();
export type KrakenTrade = z.infer<typeof tradeInfo>;

/** QueryTrades: trade id → trade, for the ids asked (at most 20 a call). */
export const queryTradesResult = z.record(z.string(), tradeInfo);

export const tradesHistoryResult = z.object({ trades: z.record(z.string(), tradeInfo), count: z.number().int().nonnegative() });

export const addOrderResult = z.object({ txid: z.array(z.string()).min(1), descr: z.object({ order: z.string() }).loose().optional() });
export const countResult = z.object({ count: z.number().int().nonnegative() }).loose();
/** Public SystemStatus: only `online` takes new orders normally. */
/** Public Time: Kraken's clock, in whole seconds. Its fields are judged by kraken-time-answer.ts, which says what is wrong. */
export const timeResult = z.object({ unixtime: z.unknown().optional(), rfc1123: z.unknown().optional() }).loose();

export const systemStatusResult = z.object({ status: z.enum(['online', 'maintenance', 'cancel_only', 'post_only']), timestamp: z.string() }).loose();

export const cancelAfterResult = z.object({ currentTime: z.string(), triggerTime: z.string() }).loose();

/** GetApiKeyInfo: the key's permissions ("query-funds", "modify-trades", "withdraw-funds", …). */
export const apiKeyInfoResult = z.object({ permissions: z.array(z.string()) }).loose();

/** What ccxt keeps of AssetPairs in market.info. */
export const assetPairInfo = z
  .object({
    altname: z.string(),
    ordermin: dec.optional(),
    lot_decimals: z.number().int(),
    pair_decimals: z.number().int(),
    tick_size: dec.optional(),
  })
  .loose();

/** WithdrawMethods answers a list; we only care whether it answers at all. */
export const withdrawMethodsResult = z.array(z.unknown());
