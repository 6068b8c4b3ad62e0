// Recovery's "never placed" is a guess, which may be made while a send is still in flight: the order
// lock keeps recovery out only while the sending session holds it, and a pass can then close an intent
// whose AddOrder was slower than the grace. When the venue then accepts the order, the executor's
// "sent" write reopens that intent, so it is followed again, rather than leaving it failed while its
// order lives on the venue. An outcome the venue booked (filled, or failed for another reason) is
// still never written back to "sent". The reopened row no longer says "never placed": it was placed.
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { orderIntents } from '../../src/db/schema/index.js';
import { failIntentAfterGrace, markIntent, NEVER_PLACED_ERROR } from '../../src/engine/ledger/intents.js';
import { REVIVED_NOTE } from '../../src/db/queries/ledger-intents.js';
import { createTestDb, type DbKind } from '../support/db.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

async function liveIntent(database: Database, status: 'pending' | 'filled' | 'failed', error?: string) {
  const at = new Date();
  const [intent] = await database.db.insert(orderIntents).values({
    clientOrderId: randomUUID(), mode: 'live', feed: 'kraken', strategy: 'test-ma', symbol: 'BTC/USD', side: 'buy', purpose: 'entry',
    type: 'market', quantity: '0.01', status, error: error ?? null, createdAt: at, updatedAt: at,
  }).returning();
  return intent!;
}
const statusOf = async (database: Database, id: number) =>
  (await database.db.select().from(orderIntents).where(eq(orderIntents.id, id)))[0]!;

describe.each<DbKind>(['postgres', 'pglite'])('the venue accepting an intent recovery closed as never placed, on %s', (kind) => {
  it('reopens it as sent with the venue order id, no longer saying "never placed"; a booked outcome stays', async () => {
    const database = await createTestDb(kind);
    cleanup.push(() => database.close());

    // Recovery closes the send in flight as never placed (its grace judged as passed).
    const inFlight = await liveIntent(database, 'pending');
    expect(await failIntentAfterGrace(database.db, { id: inFlight.id, error: NEVER_PLACED_ERROR, at: new Date(), graceMs: 0 })).toBe('closed');
    expect(await statusOf(database, inFlight.id)).toMatchObject({ status: 'failed', error: NEVER_PLACED_ERROR });
    // Then Kraken accepts the order: the executor's write reopens it for the follower.
    expect(await markIntent(database.db, { id: inFlight.id, status: 'sent', exchangeOrderId: 'OACCEPT-1', at: new Date() })).toBe(true);
    expect(await statusOf(database, inFlight.id)).toMatchObject({ status: 'sent', exchangeOrderId: 'OACCEPT-1', error: REVIVED_NOTE });
    // A send's own error (its answer lost) is what a reopening by that send says.
    const lost = await liveIntent(database, 'failed', NEVER_PLACED_ERROR);
    expect(await markIntent(database.db, { id: lost.id, status: 'sent', error: 'timed out', at: new Date() })).toBe(true);
    expect(await statusOf(database, lost.id)).toMatchObject({ status: 'sent', error: 'timed out' });
    // An intent never closed keeps what it said.
    const plain = await liveIntent(database, 'pending');
    expect(await markIntent(database.db, { id: plain.id, status: 'sent', exchangeOrderId: 'OPLAIN-1', at: new Date() })).toBe(true);
    expect(await statusOf(database, plain.id)).toMatchObject({ status: 'sent', error: null });

    // Outcomes the venue gave are not reopened.
    const filled = await liveIntent(database, 'filled');
    expect(await markIntent(database.db, { id: filled.id, status: 'sent', exchangeOrderId: 'OFILLED-1', at: new Date() })).toBe(false);
    expect(await statusOf(database, filled.id)).toMatchObject({ status: 'filled', exchangeOrderId: 'OFILLED-1' });
    const rejected = await liveIntent(database, 'failed', 'EOrder:Insufficient funds');
    expect(await markIntent(database.db, { id: rejected.id, status: 'sent', at: new Date() })).toBe(false);
    expect(await statusOf(database, rejected.id)).toMatchObject({ status: 'failed', error: 'EOrder:Insufficient funds' });
  });
});
