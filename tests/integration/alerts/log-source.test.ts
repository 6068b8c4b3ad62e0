import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ALERTED, attachLogAlerts } from '../../../src/alerts/log-source.js';
import { createOutboxAlertSink, type OutboxAlertSink } from '../../../src/alerts/sink.js';
import { alertsFeature } from '../../../src/app/features/alerts.js';
import { startBot } from '../../../src/app/runtime.js';
import { buildAppContext } from '../../../src/app/build-context.js';
import { ManualClock } from '../../../src/clock.js';
import { connectPostgres } from '../../../src/db/client.js';
import { alertEvents, alertGroups } from '../../../src/db/schema/index.js';
import { createLogger } from '../../../src/logger.js';
import { RiskGuard } from '../../../src/engine/risk-guard.js';
import { usePostgresTestDb } from '../../support/db.js';
import { alertConfig } from '../../support/alert-fixtures.js';

const database = usePostgresTestDb();

const sinkStream = () => new Writable({ write: (_c, _e, cb) => cb() });
const config = alertConfig(null, { SLACK_BOT_TOKEN: 'xoxb-1111-secret-token-value', SLACK_SIGNING_SECRET: 'sig' });
const logger = () => createLogger({ config, stdout: false, files: false, destination: sinkStream() });

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  for (let i = 0; i < 100; i += 1) {
    const v = await read();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  return read();
}

describe('error log lines as an alert source', () => {
  it('raises an alert for error and fatal lines, grouping messages that differ only in numbers', async () => {
    const log = logger();
    const ctx = await buildAppContext({ config, clock: new ManualClock(), logger: log, database: database() });
    try {
      log.error({ err: new Error('EOrder:Insufficient funds') }, 'order 123 failed');
      log.error('order 456 failed');
      log.warn('spread is wide'); // below error: no alert
      log.fatal('ledger write failed');
      const groups = await until(() => database().db.select().from(alertGroups), (g) => g.reduce((n, x) => n + x.count, 0) >= 3);
      const byFp = Object.fromEntries(groups.map((g) => [g.fingerprint, g]));
      expect(Object.keys(byFp).sort()).toEqual(['log:ledger write failed', 'log:order # failed']);
      expect(byFp['log:order # failed']).toMatchObject({ count: 2, severity: 'warning', source: 'log' });
      expect(byFp['log:ledger write failed']).toMatchObject({ count: 1, severity: 'critical' });
      const events = await database().db.select().from(alertEvents);
      expect(events.some((e) => JSON.stringify(e.details).includes('Insufficient funds'))).toBe(true);
    } finally {
      await ctx.close();
    }
  });

  it('never turns the alert pipeline’s own errors into alerts, even when it cannot store anything', async () => {
    const log = logger();
    // A database that refuses every connection: every raise fails and logs an error.
    const broken = connectPostgres('postgres://nobody@127.0.0.1:1/none');
    const sink = createOutboxAlertSink({ db: broken.db, clock: new ManualClock(), logger: log, config });
    const detach = attachLogAlerts(log, sink);
    try {
      log.error('exchange websocket closed');
      await new Promise((r) => setTimeout(r, 500));
      // One alert buffered for retry; the failure it logged did not raise a second one, and so on.
      expect(sink.buffered).toBe(1);
      log.child({ alertPipeline: true }).error('alert delivery failed');
      await new Promise((r) => setTimeout(r, 200));
      expect(sink.buffered).toBe(1);
    } finally {
      detach();
      await broken.close();
    }
  });

  it('says what becomes of an alert it could not store: retried by the running bot’s delivery tick, lost in a one-shot command', async () => {
    const broken = connectPostgres('postgres://nobody@127.0.0.1:1/none');
    try {
      for (const deliveryTick of [true, false]) {
        let lines = '';
        const log = createLogger({ config, stdout: false, files: false, destination: new Writable({ write: (c, _e, cb) => { lines += String(c); cb(); } }) });
        const sink = createOutboxAlertSink({ db: broken.db, clock: new ManualClock(), logger: log, config, deliveryTick });
        await sink.raise({ source: 'test', severity: 'warning', title: 'unstored' });
        const said = lines.split('\n').filter((l) => l.includes('could not store an alert'));
        expect(said).toHaveLength(1);
        if (deliveryTick) expect(said[0]).toContain('kept in memory and retried by the delivery tick');
        else {
          expect(said[0]).toContain('it is not sent from here: this process runs one command and exits, with no delivery tick to retry it, so the alert is lost');
          expect(said[0]).not.toContain('retried by the delivery tick');
        }
      }
    } finally {
      await broken.close();
    }
  });

  it('in the running bot, an alert it could not store is said to be retried only by a role that runs the delivery tick', async () => {
    for (const features of [[alertsFeature], []]) {
      const bot = await startBot({ config, role: 'all', feed: 'replay', port: 0, logger: logger(), database: database(), features });
      try {
        expect((bot.ctx.alerts as OutboxAlertSink).deliveryTick).toBe(features.length > 0);
      } finally {
        await bot.stop();
      }
    }
  });

  it('keeps secrets found in log lines out of the stored alert', async () => {
    const log = logger();
    const ctx = await buildAppContext({ config, clock: new ManualClock(), logger: log, database: database() });
    try {
      await database().db.delete(alertEvents);
      log.error({ token: 'xoxb-1111-secret-token-value' }, 'slack auth failed with xoxb-1111-secret-token-value');
      const events = await until(() => database().db.select().from(alertEvents), (e) => e.length > 0);
      expect(JSON.stringify(events)).not.toContain('xoxb-1111');
      expect(events[0]!.title).toContain('[redacted]');
    } finally {
      await ctx.close();
    }
  });

  it('posts one alert for one risk breach: its error log line does not raise a second one', async () => {
    const log = logger();
    const clock = new ManualClock('2026-01-05T12:00:00Z');
    const ctx = await buildAppContext({ config, clock, logger: log, database: database() });
    try {
      await database().db.delete(alertEvents);
      await database().db.delete(alertGroups);
      const guard = new RiskGuard({
        db: ctx.db, clock, alerts: ctx.alerts, logger: log, limits: { maxDrawdownPct: 10, dailyLossPct: 3, hardDrawdownPct: 15 },
      }, 'paper');
      await guard.handle({ kind: 'max_drawdown', valuePct: 11.5, thresholdPct: 10, equity: 8850, reference: 10000, at: clock.now(), mode: 'paper' });
      // A line without the mark, logged after, proves the log source is listening.
      log.error('canary after the breach');
      const groups = await until(() => database().db.select().from(alertGroups), (g) => g.some((x) => x.source === 'log'));
      expect(groups.map((g) => [g.source, g.severity, g.fingerprint]).sort()).toEqual([
        ['log', 'warning', 'log:canary after the breach'],
        ['risk', 'critical', 'risk:max_drawdown'],
      ]);
    } finally {
      await ctx.close();
    }
  });

  it('lets an error line marked ALERTED be: its event raised its own alert', async () => {
    const log = logger();
    const ctx = await buildAppContext({ config, clock: new ManualClock(), logger: log, database: database() });
    try {
      await database().db.delete(alertGroups);
      log.error({ ...ALERTED }, 'exchange refused an order; trading halted');
      log.error('unmarked line');
      const groups = await until(() => database().db.select().from(alertGroups), (g) => g.length > 0);
      await new Promise((r) => setTimeout(r, 200));
      expect((await database().db.select().from(alertGroups)).map((g) => g.fingerprint)).toEqual(['log:unmarked line']);
      expect(groups.length).toBe(1);
    } finally {
      await ctx.close();
    }
  });
});
