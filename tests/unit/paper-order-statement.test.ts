// A paper order's statement text is rendered once per kind (entry, exit) from the ledger's and the
// venue's pieces; each order then makes only its parameters. Those must be exactly what the pieces
// render, in their order, or an order would be booked with its values in the wrong columns: every
// value below differs from every other it could be swapped with.
import { PgDialect } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client.js';
import { queryOf } from '../../src/db/prepared.js';
import type { OrderIntent } from '../../src/db/schema/index.js';
import { paperOrderSql, paperOrderStatement, statementParams, type PaperOrderStatementInput } from '../../src/engine/paper-order-statement.js';
import { dec } from '../../src/money.js';

const dialect = new PgDialect();

function input(purpose: 'entry' | 'exit', n = 1, holderId: string | null = null): PaperOrderStatementInput {
  const intent: OrderIntent = {
    id: 0, clientOrderId: `client-${n}`, mode: 'paper', feed: 'replay', strategy: `strategy-${n}`, symbol: 'BTC/USD', side: purpose === 'entry' ? 'buy' : 'sell',
    purpose, type: 'market', quantity: `0.01${n}`, limitPrice: null, status: 'filled', exchangeOrderId: null, tradeId: purpose === 'entry' ? null : 40 + n,
    error: null, createdAt: new Date(`2025-01-01T00:0${n}:00.001Z`), updatedAt: new Date(`2025-01-01T00:0${n}:00.002Z`),
  };
  return {
    intent,
    guard: { armed: n % 2 === 0, holderId },
    unsettled: `${n}:sent`,
    state: {
      exchangeOrderId: `order-${n}`, clientOrderId: intent.clientOrderId, symbol: 'BTC/USD', side: intent.side, status: 'closed', quantity: intent.quantity,
      filledQuantity: intent.quantity, averagePrice: `6500${n}.5`,
      trades: [{
        id: `trade-${n}`, orderId: `venue-order-${n}`, symbol: 'BTC/USD', side: intent.side, quantity: `0.01${n}`, price: `6500${n}.25`, fee: `1.${n}5`,
        feeCurrency: 'USD', chargedFee: `2.${n}5`, chargedFeeCurrency: 'EUR', timestamp: new Date(`2025-01-01T00:0${n}:00.003Z`),
      }],
    },
    order: {
      exchangeOrderId: `order-${n}`, clientOrderId: `venue-client-${n}`, symbol: 'ETH/USD', side: intent.side, type: 'market', status: 'closed',
      quantity: `0.02${n}`, limitPrice: `7${n}`, exchangeTradeId: `venue-trade-${n}`, price: `6600${n}`, fee: `3.${n}`, feeCurrency: 'GBP', liquidity: 'taker',
      createdAt: new Date(`2025-01-01T00:0${n}:00.004Z`), filledAt: new Date(`2025-01-01T00:0${n}:00.005Z`),
    },
    deltas: [{ asset: 'USD', delta: `-65${n}.5` }, { asset: 'BTC', delta: `0.03${n}` }],
    execution: { quantity: dec(`0.04${n}`), averagePrice: dec(`6700${n}.75`), feeQuote: dec(`4.${n}5`), at: new Date(`2025-01-01T00:0${n}:00.006Z`) },
    quote: 'USD',
    capitalBuffer: purpose === 'entry' ? null : `12${n}.5`,
  };
}

/** A db handle that statements could run on prepared (a postgres.js client's shape): nothing is run here. */
function preparableDb(): Db {
  const client = Object.assign(() => undefined, { unsafe: () => undefined });
  return { dialect, session: { client } } as unknown as Db;
}

describe("a paper order's statement", () => {
  for (const purpose of ['entry', 'exit'] as const) {
    it(`takes an ${purpose}'s parameters in the order its pieces render them`, () => {
      const p = input(purpose);
      expect(statementParams(p)).toEqual(queryOf(dialect, paperOrderSql(p)).params);
    });

    it(`takes an ${purpose}'s parameters in that order under the engine lease too (its holder id after bot_state's)`, () => {
      const p = input(purpose, 1, 'host:1:0badcafe');
      expect(statementParams(p)).toEqual(queryOf(dialect, paperOrderSql(p)).params);
      expect(queryOf(dialect, paperOrderSql(p)).sql).toContain('for share of b, l');
    });

    it(`renders an ${purpose}'s text once, checks it on the first order and keeps it for the next`, () => {
      const db = preparableDb();
      const first = paperOrderStatement(db, input(purpose, 1));
      expect('text' in first).toBe(false);
      const second = paperOrderStatement(db, input(purpose, 2));
      const expected = queryOf(dialect, paperOrderSql(input(purpose, 2)));
      expect(second).toEqual({ text: expected.sql, params: expected.params });
    });
  }

  it('keeps an entry and an exit apart', () => {
    const db = preparableDb();
    paperOrderStatement(db, input('entry', 1));
    paperOrderStatement(db, input('exit', 1));
    const entry = paperOrderStatement(db, input('entry', 2));
    const exit = paperOrderStatement(db, input('exit', 2));
    expect(entry).toEqual({ text: queryOf(dialect, paperOrderSql(input('entry', 2))).sql, params: statementParams(input('entry', 2)) });
    expect(exit).toEqual({ text: queryOf(dialect, paperOrderSql(input('exit', 2))).sql, params: statementParams(input('exit', 2)) });
  });

  it('keeps an order under the engine lease apart from one that asks none', () => {
    const db = preparableDb();
    paperOrderStatement(db, input('entry', 1));
    paperOrderStatement(db, input('entry', 1, 'host:1:0badcafe'));
    const alone = paperOrderStatement(db, input('entry', 2));
    const held = paperOrderStatement(db, input('entry', 2, 'host:1:0badcafe'));
    expect(alone).toEqual({ text: queryOf(dialect, paperOrderSql(input('entry', 2))).sql, params: statementParams(input('entry', 2)) });
    expect(held).toEqual({ text: queryOf(dialect, paperOrderSql(input('entry', 2, 'host:1:0badcafe'))).sql, params: statementParams(input('entry', 2, 'host:1:0badcafe')) });
  });

  it('builds the SQL every time where it cannot run a kept text (a PGlite transaction)', () => {
    const db = { dialect, session: {} } as unknown as Db;
    paperOrderStatement(db, input('entry', 1));
    expect('text' in paperOrderStatement(db, input('entry', 2))).toBe(false);
  });
});
