// An unarmed process (paper: IS_LIVE unset, or no Kraken key) has nothing to reconcile: its
// monitor's gate is not_needed whatever bot_state says, so it neither reads the database at begin or
// at a tick nor runs a timer that would (it read bot_state every second for nothing, in every paper
// bot). An armed one reads it at once. The database here answers nothing: any read is a failure.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createReconciliationMonitor, type ReconciliationMonitorDeps } from '../../src/services/reconcile/start/monitor.js';

/** A monitor's context whose database records every use of it and never answers. */
function context(armed: { IS_LIVE: boolean; keys: boolean }) {
  const used: string[] = [];
  const db = new Proxy({}, {
    get(_, key) {
      used.push(String(key));
      return () => new Promise(() => {});
    },
  });
  const logger = { info: vi.fn(), warn: vi.fn(), error: vi.fn(), debug: vi.fn(), child: () => logger };
  const ctx = {
    db, database: db, logger,
    config: { IS_LIVE: armed.IS_LIVE, RECONCILE_PROBE_INTERVAL: 30_000, KILL_DB_TIMEOUT: 1_000 },
    exchanges: { hasKrakenKeys: () => armed.keys },
  } as unknown as ReconciliationMonitorDeps;
  return { ctx, used, logger };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the reconciliation monitor of an unarmed process', () => {
  for (const armed of [{ IS_LIVE: false, keys: true }, { IS_LIVE: true, keys: false }, { IS_LIVE: false, keys: false }]) {
    it(`reads nothing and starts no timer (IS_LIVE ${armed.IS_LIVE}, key ${armed.keys})`, async () => {
      const { ctx, used, logger } = context(armed);
      const intervals = vi.spyOn(globalThis, 'setInterval');
      const monitor = createReconciliationMonitor(ctx);
      await monitor.begin(null);
      await monitor.tick();
      expect(used).toEqual([]);
      expect(intervals).not.toHaveBeenCalled();
      expect(monitor.status()).toBe('not_needed');
      // Live asked for in the database: an unarmed process says live waits, as before.
      expect(monitor.blockReason('live')).toMatch(/reconcil/);
      expect(monitor.blockReason('paper')).toBeNull();
      expect(logger.warn).not.toHaveBeenCalled();
      await monitor.stop();
    });
  }

  it('control: an armed one reads bot_state at begin (the database above would be touched)', async () => {
    const { ctx, used } = context({ IS_LIVE: true, keys: true });
    const monitor = createReconciliationMonitor(ctx, { timer: false });
    await monitor.begin(null);
    expect(used.length).toBeGreaterThan(0);
    expect(monitor.status()).toBe('pending');
  });
});
