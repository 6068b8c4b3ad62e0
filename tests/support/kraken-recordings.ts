// Kraken REST answers in the documented formats (docs.kraken.com/api), for nock. Shapes and
// values follow Kraken's published examples; trade pages are built by tradesPage().
export const BASE = 'https://kraken.test';

export const assets = {
  error: [],
  result: {
    XXBT: { aclass: 'currency', altname: 'XBT', decimals: 10, display_decimals: 5, collateral_value: 1, status: 'enabled' },
    XETH: { aclass: 'currency', altname: 'ETH', decimals: 10, display_decimals: 5, collateral_value: 1, status: 'enabled' },
    ZUSD: { aclass: 'currency', altname: 'USD', decimals: 4, display_decimals: 2, status: 'enabled' },
  },
};

const pair = (altname: string, wsname: string, base: string, quote: string, ordermin: string, tick: string, pairDecimals: number) => ({
  altname, wsname, aclass_base: 'currency', base, aclass_quote: 'currency', quote, lot: 'unit', cost_decimals: 5,
  pair_decimals: pairDecimals, lot_decimals: 8, lot_multiplier: 1, leverage_buy: [2, 3], leverage_sell: [2, 3],
  fees: [[0, 0.4], [10000, 0.35]], fees_maker: [[0, 0.25], [10000, 0.2]], fee_volume_currency: 'ZUSD',
  margin_call: 80, margin_stop: 40, ordermin, costmin: '0.5', tick_size: tick, status: 'online',
});

export const assetPairs = {
  error: [],
  result: {
    XXBTZUSD: pair('XBTUSD', 'XBT/USD', 'XXBT', 'ZUSD', '0.00005', '0.1', 1),
    XETHZUSD: pair('ETHUSD', 'ETH/USD', 'XETH', 'ZUSD', '0.002', '0.01', 2),
  },
};

export const ticker = {
  error: [],
  result: {
    XXBTZUSD: {
      a: ['30300.10000', '1', '1.000'], b: ['30300.00000', '1', '1.000'], c: ['30303.20000', '0.00067643'],
      v: ['4083.67001100', '4412.73601799'], p: ['30706.77771', '30689.13205'], t: [34619, 38907],
      l: ['29868.30000', '29868.30000'], h: ['31631.00000', '31631.00000'], o: '30502.80000',
    },
  },
};

export const balanceEx = {
  error: [],
  result: {
    ZUSD: { balance: '25435.21', hold_trade: '8249.76' },
    XXBT: { balance: '1.2435', hold_trade: '0.8423' },
  },
};

export const apiKeyInfo = (permissions: string[]) => ({
  error: [],
  result: {
    apiKeyName: 'my-api-key', apiKey: 'redacted-in-recording', nonce: '1772627060997', nonceWindow: 0, permissions,
    iban: 'AA88 N84G WOAK NMOI', validUntil: '0', queryFrom: '0', queryTo: '0', createdTime: '1772542900',
    modifiedTime: '1772543095', ipAllowlist: [], lastUsed: '1772627061',
  },
});

export const krakenError = (...error: string[]) => ({ error });

export interface RecordedTrade {
  txid: string;
  ordertxid: string;
  pair: string;
  time: number;
  type: 'buy' | 'sell';
  price: string;
  vol: string;
  fee: string;
}

/** One TradesHistory page as Kraken answers it: `trades` keyed by txid, and the total `count`. */
export function tradesPage(trades: RecordedTrade[], count: number) {
  return {
    error: [],
    result: {
      trades: Object.fromEntries(trades.map((t) => [t.txid, {
        ordertxid: t.ordertxid, postxid: 'TKH2SE-M7IF5-CFI7LT', pair: t.pair, time: t.time, type: t.type, ordertype: 'limit',
        price: t.price, cost: (Number(t.price) * Number(t.vol)).toFixed(5), fee: t.fee, vol: t.vol, margin: '0.00000',
        leverage: '0', misc: '', trade_id: 93748276, maker: true,
      }])),
      count,
    },
  };
}

export function recordedTrades(n: number, newest = 1_767_614_400): RecordedTrade[] {
  return Array.from({ length: n }, (_, i) => ({
    txid: `TX${String(i).padStart(4, '0')}-ABCDE-FGHIJK`, ordertxid: `OX${String(i).padStart(4, '0')}-ABCDE-FGHIJK`, pair: 'XXBTZUSD',
    time: newest - i * 60, type: i % 2 === 0 ? 'buy' : 'sell', price: (30000 + i).toFixed(1), vol: '0.01000000', fee: '0.78000',
  }));
}

export interface RecordedOrder {
  cl_ord_id?: string;
  status?: string;
  type?: 'buy' | 'sell';
  ordertype?: 'market' | 'limit';
  vol?: string;
  vol_exec?: string;
  price?: string;
  cost?: string;
  fee?: string;
  oflags?: string;
  /** Trade ids, as Kraken lists them when asked with trades=true; absent when it has none (yet). */
  trades?: string[];
}

export const openOrders = (orders: Record<string, RecordedOrder>) => ({
  error: [],
  result: {
    open: Object.fromEntries(Object.entries(orders).map(([txid, o]) => [txid, order(o)])),
  },
});

export const closedOrders = (orders: Record<string, RecordedOrder>) => ({
  error: [],
  result: { closed: Object.fromEntries(Object.entries(orders).map(([txid, o]) => [txid, order({ status: 'closed', ...o })])), count: Object.keys(orders).length },
});

/** QueryOrders as Kraken answers it: txid → order info (with `trades` when asked trades=true). */
export const queryOrders = (orders: Record<string, RecordedOrder>) => ({
  error: [],
  result: Object.fromEntries(Object.entries(orders).map(([txid, o]) => [txid, order(o)])),
});

/** QueryTrades as Kraken answers it (docs.kraken.com: Query Trades Info): trade id → trade info. */
export const queryTrades = (trades: RecordedTrade[]) => ({
  error: [],
  result: Object.fromEntries(trades.map((t) => [t.txid, {
    ordertxid: t.ordertxid, postxid: 'TKH2SE-M7IF5-CFI7LT', pair: t.pair, time: t.time, type: t.type, ordertype: 'market',
    price: t.price, cost: (Number(t.price) * Number(t.vol)).toFixed(5), fee: t.fee, vol: t.vol, margin: '0.00000',
    misc: '', trade_id: 93748276, maker: false,
  }])),
});

function order(o: RecordedOrder) {
  const type = o.type ?? 'buy';
  const ordertype = o.ordertype ?? 'limit';
  const vol = o.vol ?? '1.25000000';
  return {
    refid: null, userref: 0, cl_ord_id: o.cl_ord_id ?? null, status: o.status ?? 'open', opentm: 1688666559.8974,
    starttm: 0, expiretm: 0,
    descr: {
      pair: 'XBTUSD', type, ordertype, price: ordertype === 'market' ? '0' : '30010.0', price2: '0', leverage: 'none',
      order: `${type} ${vol} XBTUSD @ ${ordertype === 'market' ? 'market' : 'limit 30010.0'}`, close: '',
    },
    vol, vol_exec: o.vol_exec ?? '0.37500000', cost: o.cost ?? '11253.7', fee: o.fee ?? '0.00000', price: o.price ?? '30010.0',
    stopprice: '0.00000', limitprice: '0.00000', misc: '', oflags: o.oflags ?? 'fciq',
    ...(o.trades ? { trades: o.trades } : {}),
  };
}

/** Public Time as Kraken documents it (docs.kraken.com, Get Server Time): whole seconds, and the same moment as RFC 1123. */
export const time = { error: [], result: { unixtime: 1688669448, rfc1123: 'Thu, 06 Jul 23 18:50:48 +0000' } };

/** `at` (ms) written as Kraken's Time writes rfc1123: "Thu, 06 Jul 23 18:50:48 +0000" (a two-digit year). */
export function krakenRfc1123(at: number): string {
  return new Date(Math.floor(at / 1000) * 1000).toUTCString().replace(/ \d\d(\d\d) /, ' $1 ').replace(/GMT$/, '+0000');
}
