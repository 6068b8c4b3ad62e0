// Kraken's WebSocket v2 executions channel read from recorded messages in the documented format:
// what is parsed, what each order looks like to the ledger (fills by Kraken trade id, fees in the
// currency charged and in the quote), when an order counts as ended with all its fills, and that a
// message the bot cannot read is reported and changes nothing.
import { describe, expect, it } from 'vitest';
import { summarise, fillsComplete } from '../../src/engine/ledger/record-execution.js';
import { ExecutionsBook } from '../../src/exchange/kraken/executions-book.js';
import { finalWithFills } from '../../src/exchange/kraken/ws-executions.js';
import { parseWsMessage, type WsMessage } from '../../src/exchange/kraken/ws-schemas.js';
import * as R from '../support/kraken-ws-recordings.js';

function entriesOf(message: unknown) {
  const parsed = parseWsMessage(JSON.stringify(message));
  if (parsed.kind !== 'executions') throw new Error(`expected an executions message, got ${parsed.kind}`);
  expect(parsed.unreadable).toEqual([]);
  return parsed.entries;
}

function feed(book: ExecutionsBook, ...messages: unknown[]) {
  return messages.map((m) => book.apply(entriesOf(m)));
}

describe('parsing the authenticated socket', () => {
  it('reads the subscribe answer, a refusal with its error, heartbeat, pong and status', () => {
    expect(parseWsMessage(JSON.stringify(R.subscribed))).toEqual({ kind: 'subscribed', channel: 'executions', reqId: 1 });
    expect(parseWsMessage(JSON.stringify(R.refused))).toEqual({ kind: 'refused', method: 'subscribe', error: 'ESession:Invalid session', reqId: 2 });
    expect(parseWsMessage(JSON.stringify(R.heartbeat)).kind).toBe('heartbeat');
    expect(parseWsMessage(JSON.stringify(R.pong))).toEqual({ kind: 'pong', reqId: 3 });
    expect(parseWsMessage(JSON.stringify(R.status)).kind).toBe('status');
  });

  it('keeps Kraken amounts as exact decimal text and times as dates', () => {
    const [trade] = entriesOf(R.firstFill);
    expect(trade).toMatchObject({ exec_id: 'TGBB7L-HT5LX-J3BZ4A', trade_id: 62887576, last_qty: '0.005', last_price: '26599.9', cum_qty: '0.005', fees: [{ asset: 'USD', qty: '0.3458' }] });
    expect(trade!.timestamp.toISOString()).toBe('2023-09-22T10:33:05.709Z');
  });

  it.each<[string, string, RegExp]>([
    ['not JSON', '{"channel":"executions","token":"s3cr3t-token","type":"upd', /not JSON/],
    ['an unknown shape', JSON.stringify({ hello: 'world', token: 's3cr3t-token' }), /not a message of the executions/],
    ['an executions message without data', JSON.stringify({ channel: 'executions', type: 'update', token: 's3cr3t-token' }), /executions message: data/],
    ['an executions message of an unknown type', JSON.stringify({ channel: 'executions', type: 's3cr3t-token', data: [] }), /executions message: type/],
  ])('reports %s as unreadable, with why and without its text', (_name, text, reason) => {
    const parsed = parseWsMessage(text) as Extract<WsMessage, { kind: 'unreadable' }>;
    expect(parsed.kind).toBe('unreadable');
    expect(parsed.reason).toMatch(reason);
    expect(parsed.reason).not.toContain('s3cr3t');
  });

  it('keeps the readable entries of a message and lists each entry it cannot read', () => {
    const garbled = { ...R.firstFill, data: [{ ...R.firstFill.data[0], order_id: undefined }, { ...R.firstFill.data[0], last_price: 'lots' }, R.placed.data[0]] };
    const parsed = parseWsMessage(JSON.stringify(garbled));
    expect(parsed.kind).toBe('executions');
    if (parsed.kind !== 'executions') return;
    expect(parsed.entries).toHaveLength(1);
    expect(parsed.unreadable).toEqual([expect.stringMatching(/^data\[0\]: order_id/), expect.stringMatching(/^data\[1\]: last_price/)]);
  });
});

describe('the orders the channel describes', () => {
  it('a snapshot: the resting order is open with nothing filled; trades of an ended order are listed but it stays open without cum_qty', () => {
    const book = new ExecutionsBook();
    const { changed, skipped } = feed(book, R.snapshot)[0]!;
    expect(skipped).toEqual([]);
    const resting = changed.find((o) => o.exchangeOrderId === 'OGTT3Y-C6I3P-XRI6HX')!;
    expect(resting).toMatchObject({ status: 'open', side: 'sell', symbol: 'BTC/USD', quantity: '0.005', filledQuantity: '0', trades: [] });
    const ended = changed.find((o) => o.exchangeOrderId === 'O6HAYG-QFBRK-EAVXT4')!;
    // Only the last 50 trades are in a snapshot: without Kraken's cum_qty, these may be a part.
    expect(ended.status).toBe('open');
    expect(ended.clientOrderId).toBe('c3a1f0b2-9d57-4a51-8b1e-0e7a3d2c5f11');
    expect(ended.trades.map((t) => [t.id, t.quantity, t.price, t.fee, t.feeCurrency, t.chargedFee, t.chargedFeeCurrency])).toEqual([
      ['TKH2SE-M7IF5-CFI7LT', '0.003', '26590.1', '0.3191', 'USD', '0.3191', 'USD'],
      ['TAB1CD-EF2GH-IJ3KLM', '0.002', '26591', '0.2127', 'USD', '0.2127', 'USD'],
    ]);
    expect(finalWithFills(ended)).toBe(false);
  });

  it('partial fills then the completion: open after each trade, closed with both fills once Kraken says filled', () => {
    const book = new ExecutionsBook();
    const [pending, placed, first, second, done] = feed(book, R.pendingNew, R.placed, R.firstFill, R.secondFill, R.filled);
    expect(pending!.changed[0]).toMatchObject({ status: 'open', filledQuantity: '0', clientOrderId: '7a1c3a55-5e0c-4f43-9b3a-2f1e4a0b9c11' });
    expect(placed!.changed[0]!.trades).toEqual([]);
    expect(first!.changed[0]).toMatchObject({ status: 'open', filledQuantity: '0.005', averagePrice: '26599.9' });
    expect(first!.changed[0]!.trades).toHaveLength(1);
    // partially_filled on the trade that completes the order: still open until the filled update.
    expect(second!.changed[0]).toMatchObject({ status: 'open', filledQuantity: '0.01' });
    const order = done!.changed[0]!;
    expect(order).toMatchObject({ status: 'closed', quantity: '0.01', filledQuantity: '0.01', averagePrice: '26599.8', side: 'sell' });
    expect(order.trades.map((t) => t.id)).toEqual(['TGBB7L-HT5LX-J3BZ4A', 'TQY3BE-JS2Q7-XH3JSE']);
    expect(finalWithFills(order)).toBe(true);
    // What the ledger makes of it: the same numbers as Kraken's.
    const execution = summarise(order.trades, 'USD')!;
    expect([execution.quantity.toFixed(), execution.averagePrice.toFixed(), execution.feeQuote.toFixed()]).toEqual(['0.01', '26599.8', '0.6916']);
    expect(fillsComplete(order, execution)).toBe(true);
  });

  it('a trade seen twice (update, then again in a reconnect snapshot) is one fill', () => {
    const book = new ExecutionsBook();
    feed(book, R.firstFill);
    const again = { channel: 'executions', type: 'snapshot', data: [{ ...R.firstFill.data[0], order_status: undefined, cum_qty: undefined }] };
    const { changed } = feed(book, again)[0]!;
    expect(changed[0]!.trades).toHaveLength(1);
    expect(changed[0]!.filledQuantity).toBe('0.005');
  });

  it('canceled after a partial fill: canceled, with what filled', () => {
    const book = new ExecutionsBook();
    const { changed } = feed(book, R.limitPartFill, R.limitCanceled)[1]!;
    expect(changed[0]).toMatchObject({ status: 'canceled', symbol: 'ETH/USD', side: 'buy', quantity: '2', filledQuantity: '0.5', clientOrderId: 'limit-7' });
    expect(changed[0]!.trades.map((t) => [t.id, t.fee])).toEqual([['TZX2WP-XSEOP-FP7WYR', '1.9881']]);
    expect(finalWithFills(changed[0]!)).toBe(true);
  });

  it('a fee charged in the base asset: booked in the quote at the fill price, kept as charged in BTC', () => {
    const book = new ExecutionsBook();
    const { changed } = feed(book, R.baseFeeFill)[0]!;
    expect(changed[0]!.trades[0]).toMatchObject({ fee: '1', feeCurrency: 'USD', chargedFee: '0.00004', chargedFeeCurrency: 'BTC' });
    expect(changed[0]!.status).toBe('closed');
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['a trade without its trade id', { exec_id: undefined }, /without exec_id/],
    ['a trade without fees', { fees: undefined }, /without fees/],
    ['a fee in a third currency', { fees: [{ asset: 'KFEE', qty: 10 }] }, /fee in KFEE/],
    ['fees in two currencies', { fees: [{ asset: 'USD', qty: 0.1 }, { asset: 'BTC', qty: 0.00001 }] }, /two currencies/],
  ])('never books %s: the entry is skipped with why, and the order does not end on it', (_name, change, reason) => {
    const book = new ExecutionsBook();
    const { changed, skipped } = feed(book, { ...R.baseFeeFill, data: [{ ...R.baseFeeFill.data[0], ...change }] })[0]!;
    expect(skipped).toEqual([expect.stringMatching(reason)]);
    expect(changed[0]!.trades).toEqual([]);
    // Kraken says filled 0.01 but no fill is listed: not final with its fills, so REST books it.
    expect(finalWithFills(changed[0]!)).toBe(false);
  });
});
