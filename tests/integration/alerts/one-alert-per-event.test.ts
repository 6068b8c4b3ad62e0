// One alert per event: the error lines logged beside an alert that was raised for the same event
// (an auto-kill, a kill that cannot confirm Kraken's cancel, a halt's cancel, a kill's follow-up
// cancel, a failed start reconciliation, a worker exiting over a stale engine) raise no second "log: …" alert, while an
// error line with no alert of its own still raises one.
import { Writable } from 'node:stream';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildAppContext } from '../../../src/app/build-context.js';
import { ManualClock } from '../../../src/clock.js';
import { alertGroups } from '../../../src/db/schema/index.js';
import { RiskGuard } from '../../../src/engine/risk-guard.js';
import { createLogger } from '../../../src/logger.js';
import type { EngineRequest } from '../../../src/db/schema/index.js';
import { cancelAllHandler } from '../../../src/services/engine-requests/handlers.js';
import { killOnHardBreach } from '../../../src/services/kill/auto-kill.js';
import { cancelOnHalt } from '../../../src/services/kill/halt-cancel.js';
import { runReconciliation } from '../../../src/services/reconcile/start/run.js';
import { exitForRestart } from '../../../src/services/self-heal/watchdog.js';
import { usePostgresTestDb } from '../../support/db.js';
import { alertConfig } from '../../support/alert-fixtures.js';
import { TEST_KRAKEN_KEY, TEST_KRAKEN_SECRET } from '../../support/kill-context.js';
import { openOrder, recordingExchange } from '../../support/recording-exchange.js';

const database = usePostgresTestDb();

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  for (let i = 0; i < 200; i += 1) {
    const v = await read();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  return read();
}

describe('one alert per event', () => {
  it('an auto-kill, cancels that cannot confirm zero open orders, a failed reconciliation and a stale-engine exit raise their own alerts and no "log:" alert beside them', async () => {
    const config = alertConfig(null, {
      IS_LIVE: 'true', KRAKEN_API_KEY: TEST_KRAKEN_KEY, KRAKEN_API_SECRET: TEST_KRAKEN_SECRET,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'ctb-one-alert-')), KILL_DB_TIMEOUT: '8s', KILL_HANDOFF_TIMEOUT: '500ms',
      KILL_CONFIRM_ATTEMPTS: '1', KILL_CONFIRM_WAIT: '1ms',
    });
    const lines: Array<{ level: number; msg: string }> = [];
    const log = createLogger({
      config, stdout: false, files: false,
      destination: new Writable({ write: (c, _e, cb) => { lines.push(JSON.parse(String(c)) as { level: number; msg: string }); cb(); } }),
    });
    // An order Kraken will not drop: the kill and the halt's cancel cannot confirm zero open orders.
    const kraken = recordingExchange('kraken', [], [openOrder('K1')]);
    kraken.sticky.add('K1');
    const clock = new ManualClock('2026-03-02T10:00:00Z');
    const ctx = await buildAppContext({
      config, clock, logger: log, database: database(),
      exchanges: { kraken: () => kraken, paper: () => recordingExchange('paper') },
    });
    try {
      const guard = new RiskGuard({
        db: ctx.db, clock, alerts: ctx.alerts, logger: log, onHardBreach: (b) => killOnHardBreach(ctx, b),
        limits: { maxDrawdownPct: 10, dailyLossPct: 50, hardDrawdownPct: 15 },
      }, 'live');
      await guard.load(clock.now(), false);
      guard.observe(10_000, clock.now());
      for (const breach of guard.observe(8_000, clock.now())) await guard.handle(breach);
      // Start reconciliation finds an order on Kraken nobody placed.
      const run = await runReconciliation(ctx, { cause: 'start', exchange: recordingExchange('kraken', [], [openOrder('FOREIGN')]) });
      expect(run.ok).toBe(false);
      // The halt's own cancel (the halt watcher's, after the kill's) and a kill's follow-up cancel run by the bot.
      await cancelOnHalt(ctx, 'halted by the watcher');
      await cancelAllHandler(ctx)({
        id: 1, requestedAt: clock.now(), requestedBy: 'system:risk-guard', incidentId: null, params: { followUp: true, killId: 'k-1' },
      } as unknown as EngineRequest);
      // A kill handed over by a process without the key: that kill raises its own alert when not confirmed.
      await cancelAllHandler(ctx)({
        id: 2, requestedAt: clock.now(), requestedBy: 'U0OPERATOR', incidentId: null, params: { killId: 'k-2', killStartedAt: new Date().toISOString() },
      } as unknown as EngineRequest);
      exitForRestart({ logger: log }, { check: 'engine', status: 'failed', detail: 'no heartbeat for 5 min', attempts: 1 }, () => {});
      // The events' own error lines were logged (they are what would have been doubled) ...
      const errorLines = lines.filter((l) => l.level >= 50).map((l) => l.msg);
      expect(errorLines).toEqual(expect.arrayContaining([
        expect.stringMatching(/^auto-kill: drawdown/),
        'kill could not confirm zero open orders',
        expect.stringMatching(/^reconciliation with Kraken found differences/),
        expect.stringMatching(/^engine heartbeat stale/),
        expect.stringMatching(/^halted, but Kraken still shows 1 open order\(s\) after cancelling/),
      ]));
      // ... and a line with no alert of its own, logged after them all, still raises one.
      log.error('canary after the events');
      const groups = await until(() => database().db.select().from(alertGroups), (g) => g.some((x) => x.fingerprint === 'log:canary after the events'));
      expect(groups.filter((g) => g.source === 'log').map((g) => g.title)).toEqual(['log: canary after the events']);
      expect(groups.map((g) => g.source)).toEqual(expect.arrayContaining(['risk', 'kill', 'reconciliation']));
    } finally {
      await ctx.close();
    }
  });
});
