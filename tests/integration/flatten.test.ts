import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { orderIntents, paperBalances, trades } from '../../src/db/schema/index.js';
import { Engine } from '../../src/engine/engine.js';
import { flattenPositions } from '../../src/engine/flatten.js';
import { validateClosedTrades } from '../../src/engine/ledger/validate-trades.js';
import { PacedFeed } from '../../src/market/paced-feed.js';
import { updateBotState } from '../../src/services/bot-state.js';
import { usePostgresTestDb } from '../support/db.js';
import { candlesFrom, engineContext, maCross, roundTripCloses } from '../support/engine.js';

describe('flatten (the kill switch’s close-positions hook)', () => {
  const database = usePostgresTestDb();

  it('sells every open position while trading is halted, through intents, with capital_buffer on each close', async () => {
    const { ctx, clock } = await engineContext(database());
    try {
      await new Engine({ ctx, feed: new PacedFeed('replay', candlesFrom(roundTripCloses().slice(0, 24)), 0), strategies: [maCross()], marketClock: clock, stopWhenFeedEnds: true }).start();
      expect((await database().db.select().from(trades))[0]?.status).toBe('open');
      await updateBotState(database().db, clock, { halted: true, haltedReason: 'kill' });

      const report = await flattenPositions(ctx);
      expect(report).toMatchObject({ ok: true, failed: [] });
      expect(report.closed).toHaveLength(1);
      const [trade] = await database().db.select().from(trades);
      expect(trade).toMatchObject({ status: 'closed' });
      expect(Number(trade!.capitalBuffer)).toBeGreaterThanOrEqual(0);
      const exit = (await database().db.select().from(orderIntents).where(eq(orderIntents.id, trade!.exitIntentId!)))[0];
      expect(exit).toMatchObject({ purpose: 'flatten', status: 'filled' });
      expect((await database().db.select().from(paperBalances).where(eq(paperBalances.asset, 'BTC')))[0]?.total).toBe('0.000000000000000000');
      expect((await validateClosedTrades(database().db)).offending).toEqual([]);
      expect((await flattenPositions(ctx)).summary).toBe('No open positions to close.');
    } finally {
      await ctx.close();
    }
  });
});
