// A held order's candle asks Kraken's SystemStatus before it decides; Kraken is slowest when it is
// down, and the candle loop waits on the answer: a status call that does not answer holds the candle
// for the status deadline, not the request timeout, and is not asked again on the very next candle.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { VenueHolds } from '../../src/engine/venue-hold.js';
import type { Exchange } from '../../src/exchange/types.js';
import { silentLogger } from '../../src/logger.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('a held order and a Kraken that does not answer its status', () => {
  it('decides by its pause once the status deadline passes, and does not ask again on the next candle', async () => {
    vi.useFakeTimers();
    const clock = new ManualClock('2026-12-05T12:00:00Z');
    const holds = new VenueHolds({ config: { KRAKEN_API_URL: undefined }, clock, logger: silentLogger(), alerts: { raise: async () => undefined } });
    const spec = { purpose: 'exit' as const, strategy: 's', symbol: 'BTC/USD' };
    await holds.settle({ ...spec, side: 'sell', quantity: '1' } as never, { kind: 'rejected', venueWide: 'exchange_maintenance', message: 'EService:Unavailable' } as never);
    let asked = 0;
    const exchange = { fetchSystemStatus: () => ((asked += 1), new Promise<never>(() => {})) } as unknown as Exchange;
    let decided: boolean | undefined;
    void holds.mayGo(spec, exchange).then((go) => (decided = go));
    await vi.advanceTimersByTimeAsync(1_999);
    expect(decided).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(decided).toBe(false); // still inside its 2 s pause on the order's own clock
    expect(await holds.mayGo(spec, exchange)).toBe(false);
    expect(asked).toBe(1);
  });
});
