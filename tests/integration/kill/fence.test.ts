// The halt is a fence for order intents across processes: the engine writes each intent in one
// statement that locks bot_state's row FOR SHARE, so an intent written while a kill's halt is being
// committed waits for that commit and then sees the halt — it can neither slip in beside it nor be
// missed by the kill's wait for orders in flight.
import { ALONE_BY_CONSTRUCTION } from '../../../src/engine/ledger/intent-lease.js';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { botState } from '../../../src/db/schema/index.js';
import { writeIntent } from '../../../src/engine/ledger/intents.js';
import { awaitOrdersInFlight } from '../../../src/services/kill/fence.js';
import { usePostgresTestDb } from '../../support/db.js';

const testDb = usePostgresTestDb({ truncate: ['order_intents', 'bot_state'] });
const intent = (at = new Date()) => ({ mode: 'live' as const, feed: 'kraken' as const, strategy: 's', symbol: 'BTC/USD', side: 'buy' as const, purpose: 'entry' as const, type: 'market' as const, quantity: '0.01', at });

describe('the halt as a fence for order intents', () => {
  it('an intent written while a halt is being committed waits for the commit, then is refused', async () => {
    const { db } = testDb();
    await db.insert(botState).values({ id: 1, mode: 'live' });
    let written: unknown = 'not yet';
    await db.transaction(async (tx) => {
      await tx.select().from(botState).where(eq(botState.id, 1)).for('update');
      await tx.update(botState).set({ halted: true }).where(eq(botState.id, 1));
      // The engine, in another connection, tries to write an intent before the halt commits.
      const writing = writeIntent(db, intent(), { lease: ALONE_BY_CONSTRUCTION, armed: true }).then((r) => (written = r));
      await new Promise((r) => setTimeout(r, 300));
      expect(written).toBe('not yet');
      void writing;
    });
    for (let i = 0; i < 100 && written === 'not yet'; i++) await new Promise((r) => setTimeout(r, 10));
    expect(written).toBeNull();
  });

  it("the kill's wait ends once no intent is pending, and names one still pending when it runs out", async () => {
    const { db } = testDb();
    await db.insert(botState).values({ id: 1, mode: 'live' });
    expect(await awaitOrdersInFlight(db, 500)).toMatchObject({ unresolved: [] });
    const pending = await writeIntent(db, intent(), { lease: ALONE_BY_CONSTRUCTION, armed: true });
    const report = await awaitOrdersInFlight(db, 300);
    expect(report.unresolved).toEqual([expect.objectContaining({ clientOrderId: pending!.clientOrderId, mode: 'live' })]);
    expect(report.waitedMs).toBeGreaterThanOrEqual(250);
  });
});
