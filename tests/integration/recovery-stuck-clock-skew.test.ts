// Recovery warns about an order unresolved for UNRESOLVED_ALERT_AFTER_MS — judged on the database's
// clock since the intent was written, not as this engine's clock minus created_at (the clock of the
// engine that wrote it): an engine 10 minutes fast must not call a just-placed order stuck, and one
// 10 minutes slow must still warn about an order resting for longer than that.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { orderIntents } from '../../src/db/schema/index.js';
import { resolveIntents, UNRESOLVED_ALERT_AFTER_MS } from '../../src/engine/recovery.js';
import { createTestDb, type DbKind } from '../support/db.js';
import { ageIntentStates, liveContext, startLiveKraken, type LiveKraken } from '../support/live-engine.js';
import { privateCall } from '../support/simulator.js';

const MIN = 60_000;
const cleanup: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

/** A limit buy resting at Kraken below the price, its intent written `agoMs` ago on a clock that was right. */
async function restingOrder(database: Database, kraken: LiveKraken, agoMs: number) {
  const clientOrderId = randomUUID();
  const placed = await privateCall(kraken.sim, 'AddOrder', { pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '50000.0', volume: '0.01', cl_ord_id: clientOrderId });
  expect(placed.body.error).toEqual([]);
  const txid = (placed.body.result as { txid: string[] }).txid[0]!;
  const at = new Date(Date.now() - agoMs);
  await database.db.insert(orderIntents).values({
    clientOrderId, mode: 'live', feed: 'kraken', strategy: 'test-ma', symbol: 'BTC/USD', side: 'buy', purpose: 'entry',
    type: 'limit', quantity: '0.01', limitPrice: '50000', status: 'sent', exchangeOrderId: txid, createdAt: at, updatedAt: at,
  });
  await ageIntentStates(database, agoMs);
}

describe.each<DbKind>(['postgres', 'pglite'])('the stuck-order warning on a skewed engine clock (%s)', (kind) => {
  async function skewedEngine(skewMs: number, agoMs: number) {
    const database = await createTestDb(kind);
    cleanup.push(() => database.close());
    const kraken = await startLiveKraken();
    cleanup.push(() => kraken.sim.close());
    await restingOrder(database, kraken, agoMs);
    const t = await liveContext(database, kraken);
    cleanup.push(() => t.ctx.close());
    t.clock.set(new Date(Date.now() + skewMs));
    return t;
  }

  it('an engine 10 minutes fast does not warn about an order placed a minute ago', async () => {
    const t = await skewedEngine(10 * MIN, MIN);
    const report = await resolveIntents({ ctx: t.ctx, mode: 'live', exchange: t.ctx.exchanges.forMode('live') });
    expect(report.stillOpen).toBe(1);
    expect(t.alerts.raised.filter((a) => a.fingerprint === 'order_unresolved:BTC/USD')).toHaveLength(0);
  }, 120_000);

  it('an engine 10 minutes slow warns about an order resting for longer than the limit, with its age on the database', async () => {
    const ago = UNRESOLVED_ALERT_AFTER_MS + 2 * MIN;
    const t = await skewedEngine(-10 * MIN, ago);
    const report = await resolveIntents({ ctx: t.ctx, mode: 'live', exchange: t.ctx.exchanges.forMode('live') });
    expect(report.stillOpen).toBe(1);
    const warnings = t.alerts.raised.filter((a) => a.fingerprint === 'order_unresolved:BTC/USD');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ severity: 'warning', title: expect.stringContaining(`unresolved for ${ago / MIN} min`) });
  }, 120_000);
});
