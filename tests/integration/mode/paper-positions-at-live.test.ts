// A position the bot opened in paper mode is simulated: Kraken holds no such BTC. After the switch
// to live it is set aside — it stays in the paper book, untouched — and the live engine neither sells
// it on Kraken nor counts it against its caps or exposure. Against the Kraken simulator.
import { afterEach, describe, expect, it } from 'vitest';
import { trades } from '../../../src/db/schema/index.js';
import { updateBotState } from '../../../src/services/bot-state.js';
import { ENGINE_TABLES, usePostgresTestDb } from '../../support/db.js';
import { candlesFrom, maCross, roundTripCloses } from '../../support/engine.js';
import { liveContext, liveEngine, startLiveKraken, type LiveKraken } from '../../support/live-engine.js';

let kraken: LiveKraken | undefined;
let closeCtx: (() => Promise<void>) | undefined;

afterEach(async () => {
  await closeCtx?.();
  await kraken?.sim.close();
  kraken = undefined;
  closeCtx = undefined;
});

describe('a paper position across the switch to live', () => {
  const database = usePostgresTestDb({ truncate: ENGINE_TABLES });

  it('is never sold on Kraken and does not hold the live book’s maxOpenPositions', async () => {
    const k = await startLiveKraken();
    kraken = k;
    const t = await liveContext(database(), k);
    closeCtx = () => t.ctx.close();
    const closes = roundTripCloses();
    // Paper: the V's fall and rise, so the strategy buys and holds.
    await updateBotState(database().db, t.clock, { mode: 'paper' });
    const paper = liveEngine(t, k, candlesFrom(closes.slice(0, 24)), [maCross()]);
    await paper.start();
    const [held] = await database().db.select().from(trades);
    expect(held).toMatchObject({ mode: 'paper', status: 'open' });
    expect(k.addOrders()).toEqual([]);

    // Live: a whole V, later. Its buy is the live book's own (maxOpenPositions 1 is not taken by
    // the paper position), and its sell is that buy's quantity, never the paper position's.
    await updateBotState(database().db, t.clock, { mode: 'live' });
    const live = liveEngine(t, k, candlesFrom(closes, { start: '2026-01-05T01:00:00Z' }), [maCross()]);
    await live.start();
    const orders = k.addOrders();
    expect(orders.map((o) => o['type'])).toEqual(['buy', 'sell']);
    expect(orders[1]!['volume']).toBe(orders[0]!['volume']);
    const all = await database().db.select().from(trades).orderBy(trades.id);
    expect(all.map((x) => [x.mode, x.status])).toEqual([['paper', 'open'], ['live', 'closed']]);
  }, 180_000);
});
