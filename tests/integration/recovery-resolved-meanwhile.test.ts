// Recovery closes an intent the exchange does not know as never placed — but only while it is still
// unresolved. Another process (a fill follower, a streamed execution) may book the order between the
// pass's read of the unresolved intents and its close: that outcome stays, the pass does not report
// the intent as closed, nor keep it in flight. Live on the Kraken simulator (past the not-found grace
// on the database's clock), and paper on the paper venue (no grace).
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { orderIntents } from '../../src/db/schema/index.js';
import type { Exchange } from '../../src/exchange/types.js';
import { NOT_FOUND_GRACE_MS, resolveIntents } from '../../src/engine/recovery.js';
import type { Mode } from '../../src/services/bot-state.js';
import { createTestDb, type DbKind } from '../support/db.js';
import { ageIntentStates, liveContext, startLiveKraken } from '../support/live-engine.js';

const cleanup: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

async function sentIntent(database: Database, mode: Mode) {
  const at = new Date();
  const [intent] = await database.db.insert(orderIntents).values({
    clientOrderId: randomUUID(), mode, feed: 'kraken', strategy: 'test-ma', symbol: 'BTC/USD', side: 'buy', purpose: 'entry',
    type: 'market', quantity: '0.01', status: 'sent', createdAt: at, updatedAt: at,
  }).returning();
  return intent!;
}

/** `exchange`, but another process books `id` as filled just before the venue is asked about it. */
function bookedMeanwhile(exchange: Exchange, database: Database, id: number): Exchange {
  return new Proxy(exchange, {
    get(target, key) {
      const value = Reflect.get(target, key) as unknown;
      if (key !== 'fetchOrderByClientId') return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      return async (...args: Parameters<Exchange['fetchOrderByClientId']>) => {
        await database.db.update(orderIntents).set({ status: 'filled', updatedAt: new Date() }).where(eq(orderIntents.id, id));
        return target.fetchOrderByClientId(...args);
      };
    },
  });
}

describe.each<[DbKind, Mode]>([['postgres', 'live'], ['pglite', 'live'], ['postgres', 'paper'], ['pglite', 'paper']])(
  'an intent booked elsewhere while recovery asks the venue (%s, %s)', (kind, mode) => {
    it('keeps its outcome, and the pass neither reports it closed as never placed nor keeps it in flight', async () => {
      const database = await createTestDb(kind);
      cleanup.push(() => database.close());
      const kraken = await startLiveKraken();
      cleanup.push(() => kraken.sim.close());
      const t = await liveContext(database, kraken);
      cleanup.push(() => t.ctx.close());

      const intent = await sentIntent(database, mode);
      // Long past the grace: the venue does not know it, so on its own it would be closed as never placed.
      await ageIntentStates(database, NOT_FOUND_GRACE_MS + 60_000);
      const exchange = bookedMeanwhile(t.ctx.exchanges.forMode(mode), database, intent.id);
      const report = await resolveIntents({ ctx: t.ctx, mode, exchange });

      const [after] = await database.db.select().from(orderIntents).where(eq(orderIntents.id, intent.id));
      expect(after).toMatchObject({ status: 'filled', error: null });
      expect(report).toMatchObject({ neverPlaced: 0, stillOpen: 0, resolvedElsewhere: 1, inFlight: [] });
    }, 120_000);
  },
);
