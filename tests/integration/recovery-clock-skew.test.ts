// An engine taking over from one that was sending an order judges the order's grace on the database's
// clock: the intent is written (pending, its AddOrder still on its way to Kraken) by the previous
// engine on its own clock, and the engine that takes over runs 10 minutes fast or 10 minutes slow. The
// fast one must not close the order as never placed inside NOT_FOUND_GRACE_MS (Kraken may still place
// it; closing it would let the same entry go out twice); the slow one must still close it after.
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { fills, orderIntents } from '../../src/db/schema/index.js';
import { NOT_FOUND_GRACE_MS } from '../../src/engine/recovery.js';
import { createTestDb, type DbKind } from '../support/db.js';
import { candlesFrom, maCross, roundTripCloses } from '../support/engine.js';
import { ageIntentStates, liveContext, liveEngine, startLiveKraken, type LiveKraken } from '../support/live-engine.js';
import { privateCall } from '../support/simulator.js';

const MIN = 60_000;
const cleanup: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

/** The previous engine's entry, written `agoMs` ago on a clock that was right, its AddOrder unanswered. */
async function intentBeingSent(database: Database, agoMs: number) {
  const at = new Date(Date.now() - agoMs);
  const [intent] = await database.db.insert(orderIntents).values({
    clientOrderId: randomUUID(), mode: 'live', feed: 'kraken', strategy: 'test-ma', symbol: 'BTC/USD', side: 'buy', purpose: 'entry',
    type: 'market', quantity: '0.01', status: 'pending', createdAt: at, updatedAt: at,
  }).returning();
  await ageIntentStates(database, agoMs);
  return intent!;
}

/** The engine that takes over: its clock `skewMs` off the real time, on the same database and Kraken. */
async function takingOver(database: Database, kraken: LiveKraken, skewMs: number) {
  const t = await liveContext(database, kraken);
  cleanup.push(() => t.ctx.close());
  t.clock.set(new Date(Date.now() + skewMs));
  return liveEngine(t, kraken, candlesFrom(roundTripCloses()), [maCross()]);
}

async function statusOf(database: Database, id: number) {
  return (await database.db.select().from(orderIntents).where(eq(orderIntents.id, id)))[0]!;
}

describe.each<DbKind>(['postgres', 'pglite'])('an order in flight when another engine takes over (%s)', (kind) => {
  async function bed() {
    const database = await createTestDb(kind);
    cleanup.push(() => database.close());
    const kraken = await startLiveKraken();
    cleanup.push(() => kraken.sim.close());
    return { database, kraken };
  }

  it('an engine 10 minutes fast keeps a just-sent order in flight inside the grace, and books it once Kraken places it', async () => {
    const { database, kraken } = await bed();
    const intent = await intentBeingSent(database, 0);
    const engine = await takingOver(database, kraken, 10 * MIN);
    await engine.prepare();
    expect(await statusOf(database, intent.id)).toMatchObject({ status: 'pending', error: null });
    expect(engine.portfolio.inFlight.has(intent.id)).toBe(true);

    // The previous engine's AddOrder reaches Kraken after all: the order is booked, never sent again.
    const placed = await privateCall(kraken.sim, 'AddOrder', { pair: 'XBTUSD', type: 'buy', ordertype: 'market', volume: '0.01', cl_ord_id: intent.clientOrderId });
    expect(placed.body.error).toEqual([]);
    await engine.followFills();
    expect(await statusOf(database, intent.id)).toMatchObject({ status: 'filled' });
    expect(await database.db.select().from(fills).where(eq(fills.intentId, intent.id))).toHaveLength(1);
    expect(kraken.addOrders().filter((o) => o['cl_ord_id'] === intent.clientOrderId)).toHaveLength(1);
  }, 120_000);

  it('an engine 10 minutes slow closes an order Kraken never placed as never placed once the grace has passed on the database', async () => {
    const { database, kraken } = await bed();
    const intent = await intentBeingSent(database, NOT_FOUND_GRACE_MS + 1_000);
    const engine = await takingOver(database, kraken, -10 * MIN);
    await engine.prepare();
    expect(await statusOf(database, intent.id)).toMatchObject({ status: 'failed', error: expect.stringMatching(/never placed/) });
    expect(engine.portfolio.inFlight.has(intent.id)).toBe(false);
    expect(kraken.addOrders()).toHaveLength(0);
  }, 120_000);
});
