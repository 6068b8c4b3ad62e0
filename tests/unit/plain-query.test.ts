// plainQuery renders the engine's hot statements (sql`` text, nested sql``, tables, schema-named
// columns, names, lists, plain values) exactly as drizzle's PostgreSQL dialect does — same text, same
// parameters in the same order — and gives anything else back to the dialect (null).
import { sql, type SQL } from 'drizzle-orm';
import { PgDialect, alias } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import { plainQuery, queryOf } from '../../src/db/prepared.js';
import { orderAndBalancesCtes, paperOrderInsert } from '../../src/db/queries/exchange-paper.js';
import { orderIntents, paperBalances, trades } from '../../src/db/schema/index.js';

const dialect = new PgDialect();

const order = {
  exchangeOrderId: 'P-1', clientOrderId: 'ctb-1', symbol: 'BTC/USD', side: 'buy' as const, type: 'market' as const, status: 'closed' as const,
  quantity: '0.015', limitPrice: null, exchangeTradeId: 'PT-1', price: '65000.1', fee: '2.535', feeCurrency: 'USD', liquidity: 'taker' as const,
  createdAt: new Date('2025-01-01T00:01:00Z'), filledAt: new Date('2025-01-01T00:01:00Z'),
};

const rendered: Record<string, SQL> = {
  'text only': sql`select 1 as one`,
  'plain values of every kind, nulls and an undefined part': sql`select ${'a\'b'}::text, ${42}::int, ${1.5}::float8, ${true}::boolean, ${12n}::bigint, ${null}::text ${undefined}`,
  'nested statements, numbered in order': sql`with a as (select ${1} as x), b as (${sql`select ${2} as y where ${sql`${3} > ${4}`}`}) select ${5}, * from a, b`,
  'tables and schema-named columns': sql`select ${orderIntents.id}, ${trades.realizedPnl} from ${orderIntents} join ${trades} on ${trades.entryIntentId} = ${orderIntents.id} where ${orderIntents.status} = ${'open'}`,
  'an aliased table and its column': (() => {
    const t = alias(trades, 'older');
    return sql`select ${t.id} from ${t} where ${t.status} = ${'closed'}`;
  })(),
  'lists, joins, raw text and identifiers': sql`select * from ${sql.identifier('weird "name"')} where id in ${[1, 2, 3]} and ${sql.join([sql`a = ${'x'}`, sql`b = ${'y'}`], sql` and `)} ${sql.raw('order by 1')}`,
  "the paper venue's order and balance CTEs": sql`with ${orderAndBalancesCtes(paperOrderInsert(order, sql`exists (select ${7})`), [{ asset: 'USD', delta: '-977.5365' }, { asset: 'BTC', delta: '0.015' }], order.createdAt)} select * from b`,
  'an empty statement': sql.empty(),
  'untyped sql.param values and arrays (rows written together, unnested)': sql`insert into t select * from unnest(${sql.param(['a', 'b'])}::text[], ${sql.param([null, '1'])}::text[]::integer[]) where ${sql.param('x')} <> ${sql.param(null)} and ${sql.param(3)} > ${4}`,
};

describe('plainQuery', () => {
  for (const [name, query] of Object.entries(rendered)) {
    it(`renders ${name} as the dialect does`, () => {
      const expected = dialect.sqlToQuery(query);
      const plain = plainQuery(query);
      expect(plain).not.toBeNull();
      expect(plain!.sql).toBe(expected.sql);
      expect(plain!.params).toStrictEqual(expected.params);
    });
  }

  const declined: Record<string, SQL> = {
    'a typed parameter': sql`select ${sql.param(5, paperBalances.total)}`,
    'a placeholder': sql`select ${sql.placeholder('n')}`,
    'a placeholder given as a parameter': sql`select ${sql.param(sql.placeholder('n'))}`,
    'a Date given as a parameter': sql`select ${sql.param(new Date(0))}::timestamptz`,
    'a Date value': sql`select ${new Date(0)}::timestamptz`,
    'inlined parameters': sql`select ${sql`${1}`.inlineParams()}`,
    'an aliased expression': sql`select ${sql`1`.as('one')}`,
  };
  for (const [name, query] of Object.entries(declined)) {
    it(`leaves ${name} to the dialect, which renders it`, () => {
      expect(plainQuery(query)).toBeNull();
      expect(queryOf(dialect, query)).toStrictEqual(dialect.sqlToQuery(query));
    });
  }
});
