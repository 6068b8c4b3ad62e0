// Auto-kill: a hard drawdown breach reported by the real risk guard, or an overdue critical alert
// signalled by the real outbox sink's hooks, runs the kill (cancel first, halt, incident with
// trigger auto) when AUTO_KILL is on — by default only while armed — and only logs when it is off.
import { sql } from 'drizzle-orm';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OutboxAlertSink } from '../../../src/alerts/sink.js';
import { buildAppContext, type OwnedContext } from '../../../src/app/build-context.js';
import type { AppContext } from '../../../src/app/context.js';
import { ManualClock } from '../../../src/clock.js';
import { testConfig } from '../../../src/config/env.js';
import { incidents } from '../../../src/db/schema/index.js';
import { RiskGuard } from '../../../src/engine/risk-guard.js';
import { silentLogger } from '../../../src/logger.js';
import { getBotState } from '../../../src/services/bot-state.js';
import { killOnHardBreach, subscribeAutoKill } from '../../../src/services/kill/auto-kill.js';
import { createPostgresTestDb, emptyTablesSql, type TestDatabase } from '../../support/db.js';
import { TEST_KRAKEN_KEY, TEST_KRAKEN_SECRET } from '../../support/kill-context.js';
import { openOrder, recordingExchange, type RecordingExchange } from '../../support/recording-exchange.js';

let testDb: TestDatabase;
let ctx: OwnedContext | undefined;
let kraken: RecordingExchange;

beforeAll(async () => {
  testDb = await createPostgresTestDb();
});
afterAll(async () => {
  await testDb?.close();
});
afterEach(async () => {
  await ctx?.close();
  ctx = undefined;
  await testDb.db.execute(sql.raw(emptyTablesSql(['incident_checklist_items', 'incidents', 'bot_state', 'risk_events', 'alert_groups'])));
});

const ARMED = { IS_LIVE: 'true', KRAKEN_API_KEY: TEST_KRAKEN_KEY, KRAKEN_API_SECRET: TEST_KRAKEN_SECRET };

async function setup(env: Record<string, string>): Promise<OwnedContext> {
  kraken = recordingExchange('kraken', [], [openOrder('K1')]);
  ctx = await buildAppContext({
    // Unarmed set-ups have no Kraken key and no bot to hand the Kraken cancel to (the lease says so); the
    // short KILL_HANDOFF_TIMEOUT bounds an unreadable lease.
    config: testConfig({ DATA_DIR: mkdtempSync(join(tmpdir(), 'ctb-auto-')), KILL_DB_TIMEOUT: '8s', KILL_HANDOFF_TIMEOUT: '500ms', ...env }),
    clock: new ManualClock('2026-03-02T10:00:00Z'), logger: silentLogger(), database: testDb,
    exchanges: { kraken: () => kraken, paper: () => recordingExchange('paper') },
  });
  return ctx;
}

async function hardBreach(c: AppContext): Promise<void> {
  const guard = new RiskGuard({
    db: c.db, clock: c.clock, alerts: c.alerts, logger: c.logger, onHardBreach: (b) => killOnHardBreach(c, b),
    limits: { maxDrawdownPct: 10, dailyLossPct: 50, hardDrawdownPct: 15 },
  }, 'live');
  await guard.load(c.clock.now(), false);
  guard.observe(10_000, c.clock.now());
  const breaches = guard.observe(8_000, c.clock.now()); // 20% down: past both limits
  expect(breaches.map((b) => b.kind)).toContain('hard_drawdown');
  for (const breach of breaches) await guard.handle(breach);
}

describe('auto-kill', () => {
  it('a hard drawdown breach kills when armed (AUTO_KILL=live, the default): Kraken cancelled, halted, incident triggered auto', async () => {
    const c = await setup(ARMED);
    expect(c.config.autoKill).toBe(true);
    await hardBreach(c);
    expect(kraken.calls).toContain('cancelAllOrders');
    expect(kraken.open).toEqual([]);
    expect(await getBotState(testDb.db)).toMatchObject({ halted: true, mode: 'paper', haltedBy: 'system:risk-guard' });
    const [incident] = await testDb.db.select().from(incidents);
    expect(incident).toMatchObject({ trigger: 'auto', openedBy: 'system:risk-guard', reason: expect.stringMatching(/^auto-kill: drawdown 20.00% passed the hard limit 15%/) });
  });

  it('does nothing but log when AUTO_KILL=off, or by default in a process that is not armed', async () => {
    for (const env of [{ ...ARMED, AUTO_KILL: 'off' }, {}]) {
      const c = await setup(env);
      expect(c.config.autoKill).toBe(false);
      await hardBreach(c);
      expect(kraken.calls).toEqual([]);
      expect((await getBotState(testDb.db)).halted).toBe(false);
      expect(await testDb.db.select().from(incidents)).toEqual([]);
      await c.close();
      ctx = undefined;
      await testDb.db.execute(sql`truncate bot_state, risk_events restart identity cascade`);
    }
  });

  it('AUTO_KILL=on kills even in paper', async () => {
    const c = await setup({ AUTO_KILL: 'on' });
    await hardBreach(c);
    expect((await getBotState(testDb.db)).halted).toBe(true);
  });

  it('a critical alert left unacknowledged past its deadline kills, once per alert group; the kill\'s own alert never does', async () => {
    const c = await setup(ARMED);
    const sink = c.alerts as OutboxAlertSink;
    const unsubscribe = subscribeAutoKill(c);
    const at = c.clock.now();
    await sink.overdueHooks.emit({ groupId: 7, fingerprint: 'kill:1', title: 'Kill switch: trading halted', source: 'kill', firstAt: at, overdueAt: at });
    expect(kraken.calls).toEqual([]);

    const failures = await sink.overdueHooks.emit({ groupId: 8, fingerprint: 'exchange:auth', title: 'Kraken rejects our key', source: 'exchange', firstAt: at, overdueAt: at });
    expect(failures).toEqual([]);
    expect(kraken.calls).toContain('cancelAllOrders');
    const [incident] = await testDb.db.select().from(incidents);
    expect(incident).toMatchObject({ trigger: 'auto', openedBy: 'system:escalation', reason: expect.stringMatching(/critical alert "Kraken rejects our key" unacknowledged past its deadline/) });

    const calls = kraken.calls.length;
    await sink.overdueHooks.emit({ groupId: 8, fingerprint: 'exchange:auth', title: 'Kraken rejects our key', source: 'exchange', firstAt: at, overdueAt: at });
    expect(kraken.calls.length).toBe(calls);
    unsubscribe();
  });
});
