// An exit order that fills only partly (Kraken cancels what it could not fill) must leave the rest of
// the position open in the engine's portfolio and tell the operators, not silently forget it.
import { ALONE_BY_CONSTRUCTION } from '../../src/engine/ledger/intent-lease.js';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { trades } from '../../src/db/schema/index.js';
import { writeIntent } from '../../src/engine/ledger/intents.js';
import { recordOrder } from '../../src/engine/order-executor.js';
import { Portfolio } from '../../src/engine/portfolio.js';
import type { OrderState } from '../../src/exchange/types.js';
import { dec } from '../../src/money.js';
import { updateBotState } from '../../src/services/bot-state.js';
import { ENGINE_TABLES, usePostgresTestDb } from '../support/db.js';
import { engineContext } from '../support/engine.js';

const at = new Date('2026-01-05T10:00:00Z');

function order(clientOrderId: string, side: 'buy' | 'sell', quantity: string, filled: string, price: string, id: string): OrderState {
  return {
    exchangeOrderId: `O-${id}`, clientOrderId, symbol: 'BTC/USD', side, status: filled === quantity ? 'closed' : 'canceled', quantity, filledQuantity: filled, averagePrice: price,
    trades: [{ id, orderId: `O-${id}`, clientOrderId, symbol: 'BTC/USD', side, quantity: filled, price, fee: '0', feeCurrency: 'USD', timestamp: at }],
  };
}

describe('partial exit in the engine', () => {
  const database = usePostgresTestDb({ truncate: ENGINE_TABLES });

  it('keeps the unfilled rest as an open position and raises a warning alert', async () => {
    const t = await engineContext(database());
    try {
      await updateBotState(database().db, { now: () => at }, {});
      const portfolio = new Portfolio();
      portfolio.setCash(dec('10000'));
      const write = (purpose: 'entry' | 'exit', side: 'buy' | 'sell', quantity: string, tradeId?: number) =>
        writeIntent(database().db, { mode: 'paper', feed: 'replay', strategy: 's', symbol: 'BTC/USD', side, purpose, type: 'market', quantity, ...(tradeId ? { tradeId } : {}), at }, { lease: ALONE_BY_CONSTRUCTION, armed: false });
      const entry = (await write('entry', 'buy', '0.3'))!;
      const opened = await recordOrder({ ctx: t.ctx, portfolio }, entry, order(entry.clientOrderId, 'buy', '0.3', '0.3', '10000', 'E1'));
      expect(portfolio.cash.toFixed()).toBe('7000');
      const exit = (await write('exit', 'sell', '0.3', opened.trade!.id))!;
      const outcome = await recordOrder({ ctx: t.ctx, portfolio }, exit, order(exit.clientOrderId, 'sell', '0.3', '0.1', '11000', 'X1'));

      expect(outcome.partialExit?.remaining.toFixed()).toBe('0.2');
      const position = portfolio.positions.get(opened.trade!.id);
      expect(position?.quantity.toFixed()).toBe('0.2');
      expect(portfolio.cash.toFixed()).toBe('8100');
      expect((await database().db.select().from(trades).where(eq(trades.id, opened.trade!.id)))[0]?.status).toBe('open');
      const alert = t.alerts.raised.find((a) => a.fingerprint === 'partial_exit:BTC/USD');
      expect(alert).toMatchObject({ source: 'trade_failure', severity: 'warning' });
      expect(alert?.title).toContain('0.2 stays open');
    } finally {
      await t.ctx.close();
    }
  });
});
