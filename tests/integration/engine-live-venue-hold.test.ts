// The engine trading live against the Kraken simulator while Kraken refuses orders for a venue-wide
// reason (cancel_only, EService:Unavailable, its rate limits): the refused entry or exit is not sent again on every candle. It
// waits 2 s, 4 s … (the market clock) and, while Kraken's SystemStatus is not online, until it is;
// it goes as soon as the status is back. One alert per hold, not one per try. Real PostgreSQL.
import { ALONE_BY_CONSTRUCTION } from '../../src/engine/ledger/intent-lease.js';
import { asc, eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { orderIntents } from '../../src/db/schema/index.js';
import { Engine } from '../../src/engine/engine.js';
import type { Candle } from '../../src/exchange/types.js';
import type { MarketFeed, MarketTick } from '../../src/market/types.js';
import { createTestDb } from '../support/db.js';
import { candlesFrom, maCross, roundTripCloses } from '../support/engine.js';
import { liveContext, SimulatorMarketFeed, startLiveKraken, type LiveKraken } from '../support/live-engine.js';
import type { SystemStatus } from '../../src/simulator/types.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

/** Hands out the simulator feed's candles and tells `onCandle` each candle's index first. */
class IndexedFeed implements MarketFeed {
  #index = 0;
  constructor(private readonly inner: SimulatorMarketFeed, private readonly onCandle: (index: number) => void) {}
  get kind() {
    return this.inner.kind;
  }
  async next(signal: AbortSignal): Promise<MarketTick[] | null> {
    const batch = await this.inner.next(signal);
    for (const _ of batch ?? []) this.onCandle(this.#index++);
    return batch;
  }
}

/** The round trip's fall and rise (an entry), then a drop that keeps the stop-loss hit: candles one second apart. */
function candles(): Candle[] {
  const closes = [...roundTripCloses().slice(0, 24), ...Array.from({ length: 60 }, () => 58_000)];
  const t0 = Date.parse('2026-01-05T00:00:00Z');
  return candlesFrom(closes).map((c, i) => ({ ...c, openTime: new Date(t0 + i * 1000) }));
}
const DROP = 24;

async function run(onCandle: (index: number, k: LiveKraken) => void, strategy = maCross({ exits: { stopLossPct: 1 } })) {
  const database = await createTestDb('postgres');
  cleanup.push(() => database.close());
  const k = await startLiveKraken();
  cleanup.push(() => k.sim.close());
  const t = await liveContext(database, k);
  cleanup.push(() => t.ctx.close());
  const engine = new Engine({ lease: ALONE_BY_CONSTRUCTION,
    ctx: t.ctx, feed: new IndexedFeed(new SimulatorMarketFeed('kraken', candles(), 1, k.sim), (i) => onCandle(i, k)), strategies: [strategy],
    marketClock: t.clock, stopWhenFeedEnds: true, housekeepingMs: 0, fillFollowMs: 50,
  });
  await engine.start();
  const intents = (purpose: 'entry' | 'exit') => database.db.select().from(orderIntents).where(eq(orderIntents.purpose, purpose)).orderBy(asc(orderIntents.id));
  // Seconds after the drop began (market clock: each candle's close is its open + 1 minute).
  const at = (d: Date) => (d.getTime() - Date.parse('2026-01-05T00:01:00Z')) / 1000 - DROP;
  const entries = await intents('entry');
  return {
    k, t, exits: (await intents('exit')).map((i) => ({ status: i.status, at: at(i.createdAt) })),
    // Seconds after the first entry was sent.
    entries: entries.map((i) => ({ status: i.status, at: (i.createdAt.getTime() - entries[0]!.createdAt.getTime()) / 1000 })),
  };
}

const status = (k: LiveKraken, s: SystemStatus) => k.sim.setSystemStatus(s);

describe('an order Kraken refuses for a venue-wide reason', () => {
  it('is held while Kraken is in cancel_only (not resent every candle) and sent as soon as its status is online again; one alert', async () => {
    let onlineAt = -1;
    const { k, t, exits } = await run((i, kraken) => {
      if (i === DROP) status(kraken, 'cancel_only');
      if (i === DROP + 40) {
        status(kraken, 'online');
        onlineAt = 40;
      }
    });
    expect(k.addOrders().filter((o) => o['type'] === 'sell')).toHaveLength(2);
    expect(exits.map((e) => e.status)).toEqual(['rejected', 'filled']);
    expect(exits[0]!.at).toBe(0);
    // Kraken's status is read at most every 2 s (market clock) while the exit is held.
    expect(exits[1]!.at).toBeGreaterThanOrEqual(onlineAt);
    expect(exits[1]!.at).toBeLessThan(onlineAt + 2);
    const tradeAlerts = t.alerts.raised.filter((a) => a.source === 'trade_failure');
    expect(tradeAlerts).toEqual([expect.objectContaining({ severity: 'warning', fingerprint: 'order_held:exit:test-ma:BTC/USD', title: expect.stringMatching(/^Exit BTC\/USD \(test-ma\) held: the exchange at http:\/\/127\.0\.0\.1:\d+ \(KRAKEN_API_URL, not Kraken\) refused it \(.*cancel_only/) })]);
    // Held for Kraken's status: it says it goes when the status is back online, the pause deciding only meanwhile.
    expect(tradeAlerts[0]!.title).toMatch(/\); sent as soon as its status is back online, and while it does not read down, tried again after 2 s, doubling up to 60 s$/);
  }, 60_000);

  it('while the status says online, is tried again after 2 s, 4 s, 8 s … and not in between', async () => {
    const { k, exits, t } = await run((i, kraken) => {
      if (i === DROP) kraken.sim.faults.add({ endpoint: 'AddOrder', kind: 'error', message: 'EService:Unavailable', times: 3 });
    });
    expect(exits).toEqual([
      { status: 'rejected', at: 0 }, { status: 'rejected', at: 2 }, { status: 'rejected', at: 6 }, { status: 'filled', at: 14 },
    ]);
    expect(k.addOrders().filter((o) => o['type'] === 'sell')).toHaveLength(4);
    expect(t.alerts.raised.filter((a) => a.source === 'trade_failure')).toHaveLength(1);
  }, 60_000);

  it.each(['EOrder:Rate limit exceeded', 'EAPI:Rate limit exceeded'])('refused with %s, an entry is held and tried again after 2 s, 4 s … while its buy signal lasts, not on every candle', async (code) => {
    // The buy stays valid for 30 candles after the cross (one a second): without the hold it went every candle.
    const { k, t, entries } = await run((i, kraken) => {
      if (i === 0) kraken.sim.faults.add({ endpoint: 'AddOrder', kind: 'error', message: code, times: 2 });
    }, maCross({ exits: { stopLossPct: 1 }, params: { signalWindow: 30 } }));
    expect(entries).toEqual([{ status: 'rejected', at: 0 }, { status: 'rejected', at: 2 }, { status: 'filled', at: 6 }]);
    expect(k.addOrders().filter((o) => o['type'] === 'buy')).toHaveLength(3);
    const tradeAlerts = t.alerts.raised.filter((a) => a.source === 'trade_failure');
    // Worded by its reason: a rate limit passes as Kraken's counter falls; Kraken's status stayed online throughout.
    expect(tradeAlerts).toEqual([expect.objectContaining({
      severity: 'warning', fingerprint: 'order_held:entry:test-ma:BTC/USD',
      // The simulator KRAKEN_API_URL points at refused it: named as itself, not as Kraken.
      title: `Entry BTC/USD (test-ma) held: the exchange at ${new URL(k.sim.url).origin} (KRAKEN_API_URL, not Kraken) refused it for its rate limit (Kraken AddOrder refused: ${code}; no order was placed.); tried again after 2 s, doubling up to 60 s, while its call counter falls`,
    })]);
    expect(tradeAlerts[0]!.title).not.toMatch(/status/);
  }, 60_000);
});
