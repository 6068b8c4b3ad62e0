// What reconciliation cannot explain, decided by a pure function: each kind of difference, and each
// way an order or fill is explained (txid, client order id, trade id, order id of a fill recorded
// before its trade id was known).
import { describe, expect, it } from 'vitest';
import type { ExchangeTrade, OrderState } from '../../../src/exchange/types.js';
import type { LedgerFill } from '../../../src/services/reconcile/match.js';
import { compareWithKraken, type IntentView } from '../../../src/services/reconcile/start/differences.js';

const open = (over: Partial<OrderState> = {}): OrderState => ({
  exchangeOrderId: 'O1', clientOrderId: '', symbol: 'BTC/USD', side: 'buy', status: 'open', quantity: '0.01', filledQuantity: '0', averagePrice: null, trades: [], ...over,
});
const trade = (over: Partial<ExchangeTrade> = {}): ExchangeTrade => ({
  id: 'T1', orderId: 'O1', symbol: 'BTC/USD', side: 'buy', quantity: '0.01', price: '50000', fee: '1.3', feeCurrency: 'USD', timestamp: new Date('2026-01-05T12:00:00Z'), ...over,
});
const intent = (over: Partial<IntentView> = {}): IntentView => ({
  id: 1, clientOrderId: 'c1', exchangeOrderId: 'O1', status: 'open', symbol: 'BTC/USD', side: 'buy', purpose: 'entry', ...over,
});
const fill = (over: Partial<LedgerFill> = {}): LedgerFill => ({
  id: 10, clientOrderId: 'c1', exchangeTradeId: 'T1', exchangeOrderId: 'O1', symbol: 'BTC/USD', side: 'buy', quantity: '0.01', price: '50000', fee: '1.3',
  filledAtMs: Date.parse('2026-01-05T12:00:00Z'), ...over,
});
const kinds = (input: Parameters<typeof compareWithKraken>[0]) => compareWithKraken(input).map((d) => `${d.kind} ${d.id}`);

describe('what reconciliation cannot explain', () => {
  it('explains an open order by its txid or by its client order id, and a fill by its trade id or its order id', () => {
    expect(kinds({ openOrders: [open()], trades: [], intents: [intent()], fills: [] })).toEqual([]);
    expect(kinds({ openOrders: [open({ clientOrderId: 'c1' })], trades: [], intents: [intent({ exchangeOrderId: null, status: 'pending' })], fills: [] })).toEqual([]);
    expect(kinds({ openOrders: [], trades: [trade()], intents: [], fills: [fill()] })).toEqual([]);
    expect(kinds({ openOrders: [], trades: [trade()], intents: [], fills: [fill({ exchangeTradeId: 'provisional' })] })).toEqual([]);
  });

  it('names an open order no intent knows, and one the ledger says ended', () => {
    expect(kinds({ openOrders: [open({ exchangeOrderId: 'OX' })], trades: [], intents: [intent()], fills: [] })).toEqual(['unknown_order OX']);
    const closed = compareWithKraken({ openOrders: [open()], trades: [], intents: [intent({ status: 'canceled' })], fills: [] });
    expect(closed).toMatchObject([{ kind: 'order_closed_in_ledger', id: 'O1', intentId: 1, intentStatus: 'canceled' }]);
    expect(closed[0]!.summary).toContain("the bot's intent #1 says it is canceled");
  });

  it("tells a fill of nobody's order from a fill of the bot's own order that the ledger lacks", () => {
    expect(kinds({ openOrders: [], trades: [trade({ id: 'TX', orderId: 'OX' })], intents: [], fills: [] })).toEqual(['unknown_fill TX']);
    expect(compareWithKraken({ openOrders: [], trades: [trade({ id: 'T2' })], intents: [intent({ status: 'filled' })], fills: [] }))
      .toMatchObject([{ kind: 'unrecorded_fill', id: 'T2', orderId: 'O1', intentId: 1 }]);
  });

  it('names a ledger fill that disagrees with its Kraken trade, and one Kraken does not have', () => {
    expect(compareWithKraken({ openOrders: [], trades: [trade()], intents: [], fills: [fill({ price: '51000' })] }))
      .toMatchObject([{ kind: 'fill_mismatch', id: 'T1', fillId: 10, fields: ['price'] }]);
    expect(kinds({ openOrders: [], trades: [], intents: [], fills: [fill({ exchangeTradeId: 'TGONE', exchangeOrderId: 'OGONE' })] })).toEqual(['fill_not_on_kraken TGONE']);
  });
});
