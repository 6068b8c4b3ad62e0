// Kraken WebSocket v2 messages on the authenticated endpoint, in the documented format
// (docs.kraken.com, Spot WebSocket v2: executions, heartbeat, ping, subscribe): numbers as Kraken
// sends them, RFC 3339 times, exec_id = the trade id REST answers with, trade_id its number.
// Values follow Kraken's published examples (order OK4GJX-KSTLS-7DZZO5, trade TGBB7L-HT5LX-J3BZ4A).
export const subscribed = {
  method: 'subscribe', req_id: 1,
  result: { channel: 'executions', maxratecount: 180, snapshot: true, warnings: ['cancel_reason is deprecated, use reason'] },
  success: true, time_in: '2023-09-22T10:33:05.709950Z', time_out: '2023-09-22T10:33:05.710050Z',
};

export const refused = {
  method: 'subscribe', req_id: 2, error: 'ESession:Invalid session', success: false,
  time_in: '2023-09-22T10:33:05.709950Z', time_out: '2023-09-22T10:33:05.710050Z',
};

export const heartbeat = { channel: 'heartbeat' };
export const pong = { method: 'pong', req_id: 3, time_in: '2023-09-22T10:33:06.000000Z', time_out: '2023-09-22T10:33:06.000100Z' };
export const status = { channel: 'status', type: 'update', data: [{ api_version: 'v2', connection_id: 862861, system: 'online', version: '2.0.0' }] };

const ORDER = 'OK4GJX-KSTLS-7DZZO5';
const CLIENT = '7a1c3a55-5e0c-4f43-9b3a-2f1e4a0b9c11';

/** After (re)connecting: one resting limit order, and the last trades (two fills of an order that has ended). */
export const snapshot = {
  channel: 'executions', type: 'snapshot', sequence: 1,
  data: [
    {
      order_id: 'OGTT3Y-C6I3P-XRI6HX', order_userref: 0, symbol: 'BTC/USD', order_qty: 0.005, cum_cost: 0, time_in_force: 'GTC',
      exec_type: 'new', side: 'sell', order_type: 'limit', limit_price_type: 'static', limit_price: 26500.0, stop_price: 0.0,
      order_status: 'new', fee_usd_equiv: 0.0, fee_ccy_pref: 'fciq', timestamp: '2023-09-22T10:33:05.709950Z',
    },
    {
      order_id: 'O6HAYG-QFBRK-EAVXT4', cl_ord_id: 'c3a1f0b2-9d57-4a51-8b1e-0e7a3d2c5f11', exec_id: 'TKH2SE-M7IF5-CFI7LT', exec_type: 'trade', trade_id: 62887560,
      symbol: 'BTC/USD', side: 'buy', last_qty: 0.003, last_price: 26590.1, liquidity_ind: 't', cost: 79.7703, order_userref: 0,
      order_type: 'market', fee_usd_equiv: 0.3191, fees: [{ asset: 'USD', qty: 0.3191 }], timestamp: '2023-09-22T10:30:01.100000Z',
    },
    {
      order_id: 'O6HAYG-QFBRK-EAVXT4', cl_ord_id: 'c3a1f0b2-9d57-4a51-8b1e-0e7a3d2c5f11', exec_id: 'TAB1CD-EF2GH-IJ3KLM', exec_type: 'trade', trade_id: 62887561,
      symbol: 'BTC/USD', side: 'buy', last_qty: 0.002, last_price: 26591.0, liquidity_ind: 't', cost: 53.182, order_userref: 0,
      order_type: 'market', fee_usd_equiv: 0.2127, fees: [{ asset: 'USD', qty: 0.2127 }], timestamp: '2023-09-22T10:30:01.200000Z',
    },
  ],
};

const orderFields = { order_id: ORDER, cl_ord_id: CLIENT, order_userref: 0, symbol: 'BTC/USD', side: 'sell', order_type: 'market', order_qty: 0.01 };

export const pendingNew = {
  channel: 'executions', type: 'update', sequence: 2,
  data: [{ ...orderFields, exec_type: 'pending_new', order_status: 'pending_new', timestamp: '2023-09-22T10:33:05.709950Z' }],
};

export const placed = {
  channel: 'executions', type: 'update', sequence: 3,
  data: [{ ...orderFields, exec_type: 'new', order_status: 'new', cum_qty: 0, cum_cost: 0, avg_price: 0, timestamp: '2023-09-22T10:33:05.709960Z' }],
};

/** Kraken's documented trade entry: half the order filled. */
export const firstFill = {
  channel: 'executions', type: 'update', sequence: 4,
  data: [{
    ...orderFields, exec_id: 'TGBB7L-HT5LX-J3BZ4A', exec_type: 'trade', trade_id: 62887576, last_qty: 0.005, last_price: 26599.9,
    liquidity_ind: 't', cost: 132.9995, timestamp: '2023-09-22T10:33:05.709993Z', order_status: 'partially_filled',
    cum_qty: 0.005, cum_cost: 132.9995, avg_price: 26599.9, fee_usd_equiv: 0.3458, fees: [{ asset: 'USD', qty: 0.3458 }],
  }],
};

/** The rest: Kraken may still say partially_filled on the trade that completes the order. */
export const secondFill = {
  channel: 'executions', type: 'update', sequence: 5,
  data: [{
    ...orderFields, exec_id: 'TQY3BE-JS2Q7-XH3JSE', exec_type: 'trade', trade_id: 62887577, last_qty: 0.005, last_price: 26599.7,
    liquidity_ind: 't', cost: 132.9985, timestamp: '2023-09-22T10:33:05.710093Z', order_status: 'partially_filled',
    cum_qty: 0.01, cum_cost: 265.998, avg_price: 26599.8, fee_usd_equiv: 0.3458, fees: [{ asset: 'USD', qty: 0.3458 }],
  }],
};

/** The separate completion update. */
export const filled = {
  channel: 'executions', type: 'update', sequence: 6,
  data: [{
    ...orderFields, exec_type: 'filled', order_status: 'filled', cum_qty: 0.01, cum_cost: 265.998, avg_price: 26599.8, fee_usd_equiv: 0.6916,
    timestamp: '2023-09-22T10:33:05.710100Z',
  }],
};

const LIMIT = 'OLQCVY-B27XU-MBPCL5';
const limitFields = { order_id: LIMIT, cl_ord_id: 'limit-7', order_userref: 0, symbol: 'ETH/USD', side: 'buy', order_type: 'limit', order_qty: 2, limit_price: 1590.5 };

export const limitPartFill = {
  channel: 'executions', type: 'update', sequence: 7,
  data: [{
    ...limitFields, exec_id: 'TZX2WP-XSEOP-FP7WYR', exec_type: 'trade', trade_id: 101, last_qty: 0.5, last_price: 1590.5, liquidity_ind: 'm', cost: 795.25,
    order_status: 'partially_filled', cum_qty: 0.5, cum_cost: 795.25, avg_price: 1590.5, fees: [{ asset: 'USD', qty: 1.9881 }], timestamp: '2023-09-22T11:00:00.000000Z',
  }],
};

export const limitCanceled = {
  channel: 'executions', type: 'update', sequence: 8,
  data: [{ ...limitFields, exec_type: 'canceled', order_status: 'canceled', cum_qty: 0.5, cum_cost: 795.25, avg_price: 1590.5, reason: 'User requested', timestamp: '2023-09-22T11:01:00.000000Z' }],
};

/** An order whose fee Kraken charged in the base asset (fee_ccy_pref fcib). */
export const baseFeeFill = {
  channel: 'executions', type: 'update', sequence: 9,
  data: [{
    order_id: 'OBASEF-EE123-ABCDEF', cl_ord_id: 'fcib-1', symbol: 'BTC/USD', side: 'buy', order_type: 'market', order_qty: 0.01, fee_ccy_pref: 'fcib',
    exec_id: 'TBASEF-EE123-ABCDEF', exec_type: 'trade', trade_id: 102, last_qty: 0.01, last_price: 25000, liquidity_ind: 't', cost: 250,
    order_status: 'filled', cum_qty: 0.01, cum_cost: 250, avg_price: 25000, fees: [{ asset: 'BTC', qty: 0.00004 }], timestamp: '2023-09-22T12:00:00.000000Z',
  }],
};
