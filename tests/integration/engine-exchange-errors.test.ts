import { ALONE_BY_CONSTRUCTION } from '../../src/engine/ledger/intent-lease.js';
import { describe, expect, it } from 'vitest';
import { fills, orderIntents, paperOrders, trades } from '../../src/db/schema/index.js';
import { Engine } from '../../src/engine/engine.js';
import { ExchangeError } from '../../src/exchange/errors.js';
import { createPaperExchange } from '../../src/exchange/paper/create.js';
import type { Exchange, OrderRequest } from '../../src/exchange/types.js';
import { PacedFeed } from '../../src/market/paced-feed.js';
import { getBotState } from '../../src/services/bot-state.js';
import { ENGINE_TABLES, usePostgresTestDb } from '../support/db.js';
import { candlesFrom, engineContext, maCross, roundTripCloses } from '../support/engine.js';

/** The paper venue behind a flaky edge: `fail` decides, per order, what goes wrong. */
function flaky(inner: Exchange, fail: (order: OrderRequest, n: number) => 'timeout_after_placing' | 'auth' | null): Exchange {
  let n = 0;
  return new Proxy(inner, {
    get(target, prop) {
      // Methods run on the real instance (it has private fields a proxy cannot reach).
      const value = Reflect.get(target, prop, target);
      if (prop !== 'createOrder') return typeof value === 'function' ? value.bind(target) : value;
      return async (order: OrderRequest) => {
        const what = fail(order, n++);
        if (what === 'auth') throw new ExchangeError('auth', 'permission_denied', 'EGeneral:Permission denied');
        const placed = await (value as Exchange['createOrder']).call(target, order);
        if (what === 'timeout_after_placing') throw new ExchangeError('retryable', 'timeout', 'request timed out');
        return placed;
      };
    },
  });
}

describe('engine facing exchange errors', () => {
  const database = usePostgresTestDb({ truncate: ENGINE_TABLES });

  it('after a timeout whose order did reach the exchange, backs off, resolves it by client order id and records it once', async () => {
    const t = await engineContext(database(), {}, {
      exchanges: { paper: () => flaky(createPaperExchange({ config: t.ctx.config, db: database().db, clock: t.clock, logger: t.ctx.logger, prices: t.ctx.prices }), (_o, n) => (n === 0 ? 'timeout_after_placing' : null)) },
    });
    try {
      await new Engine({ lease: ALONE_BY_CONSTRUCTION,
        ctx: t.ctx, feed: new PacedFeed('replay', candlesFrom(roundTripCloses()), 1), strategies: [maCross()], marketClock: t.clock,
        stopWhenFeedEnds: true, housekeepingMs: 0,
      }).start();
      const intents = await database().db.select().from(orderIntents).orderBy(orderIntents.id);
      expect(intents[0]).toMatchObject({ purpose: 'entry', status: 'filled', error: 'request timed out' });
      // One venue order per intent, one fill per venue order: nothing duplicated, nothing lost.
      expect((await database().db.select().from(paperOrders)).length).toBe(intents.filter((i) => i.status === 'filled').length);
      expect((await database().db.select().from(fills)).length).toBe(intents.filter((i) => i.status === 'filled').length);
      expect((await database().db.select().from(trades))[0]).toMatchObject({ entryIntentId: intents[0]!.id });
    } finally {
      await t.ctx.close();
    }
  });

  it('halts trading and raises a critical alert when the exchange refuses the key', async () => {
    const t = await engineContext(database(), {}, {
      exchanges: { paper: () => flaky(createPaperExchange({ config: t.ctx.config, db: database().db, clock: t.clock, logger: t.ctx.logger, prices: t.ctx.prices }), () => 'auth') },
    });
    try {
      const engine = new Engine({ lease: ALONE_BY_CONSTRUCTION, ctx: t.ctx, feed: new PacedFeed('replay', candlesFrom(roundTripCloses()), 0), strategies: [maCross()], marketClock: t.clock, stopWhenFeedEnds: true });
      await engine.start();
      expect(await getBotState(database().db)).toMatchObject({ halted: true, haltedReason: expect.stringMatching(/Permission denied/) });
      expect(t.alerts.raised).toContainEqual(expect.objectContaining({ source: 'exchange', severity: 'critical' }));
      const intents = await database().db.select().from(orderIntents);
      expect(intents.map((i) => i.status)).toEqual(['failed']); // one refused order, then nothing more
    } finally {
      await t.ctx.close();
    }
  });
});
