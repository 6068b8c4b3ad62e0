// `ctb alerts test --severity critical` is a rehearsal: left unacknowledged, it pages the ladder once
// and stops, and never fires auto-kill — while a real critical left the same way does (the control).
import { sql } from 'drizzle-orm';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listOverdueCriticals } from '../../../src/alerts/overdue.js';
import { createAlertRuntime } from '../../../src/alerts/runtime.js';
import { runAlertTest } from '../../../src/alerts/test-alert.js';
import { buildAppContext, type OwnedContext } from '../../../src/app/build-context.js';
import { ManualClock } from '../../../src/clock.js';
import { testConfig } from '../../../src/config/env.js';
import { execute } from '../../../src/db/client.js';
import { incidents } from '../../../src/db/schema/index.js';
import { silentLogger } from '../../../src/logger.js';
import { getBotState } from '../../../src/services/bot-state.js';
import { subscribeAutoKill } from '../../../src/services/kill/auto-kill.js';
import { createPostgresTestDb, emptyTablesSql, type TestDatabase } from '../../support/db.js';
import { TEST_KRAKEN_KEY, TEST_KRAKEN_SECRET } from '../../support/kill-context.js';
import { openOrder, recordingExchange, type RecordingExchange } from '../../support/recording-exchange.js';
import { passEscalationTime } from '../../support/alert-fixtures.js';

let testDb: TestDatabase;
let ctx: OwnedContext | undefined;
let kraken: RecordingExchange;
let clock: ManualClock;

beforeAll(async () => {
  testDb = await createPostgresTestDb();
});
afterAll(async () => {
  await testDb?.close();
});
afterEach(async () => {
  await ctx?.close();
  ctx = undefined;
  await testDb.db.execute(sql.raw(emptyTablesSql(['incident_checklist_items', 'incidents', 'bot_state', 'alert_tests', 'alert_pages', 'alert_escalations',
    'alert_deliveries', 'alert_events', 'alert_groups'])));
});

async function setup(): Promise<OwnedContext> {
  kraken = recordingExchange('kraken', [], [openOrder('K1')]);
  clock = new ManualClock('2026-03-02T10:00:00Z');
  ctx = await buildAppContext({
    config: testConfig({
      DATA_DIR: mkdtempSync(join(tmpdir(), 'ctb-test-alert-')), IS_LIVE: 'true', AUTO_KILL: 'on',
      KRAKEN_API_KEY: TEST_KRAKEN_KEY, KRAKEN_API_SECRET: TEST_KRAKEN_SECRET,
      SLACK_APPROVERS: 'UAPPROVER1,UAPPROVER2', ESCALATION_ACK_SLA: '5m', ESCALATION_MAX_ROUNDS: '3', KILL_DB_TIMEOUT: '8s',
    }),
    clock, logger: silentLogger(), database: testDb,
    exchanges: { kraken: () => kraken, paper: () => recordingExchange('paper') },
  });
  return ctx;
}

/** The running bot's escalation tick, an hour of SLA periods later. */
async function leaveUnacknowledged(c: OwnedContext): Promise<void> {
  const runtime = createAlertRuntime(c, { slack: null, mailer: null });
  for (let i = 0; i < 12; i++) {
    await passEscalationTime(testDb.db, clock, 6 * 60_000);
    await runtime.escalation.tick();
  }
  runtime.close();
}

const pageCount = async (fingerprint?: string) => (await execute<{ n: number }>(testDb.db, sql`select count(*)::int as n from alert_pages p
  join alert_groups g on g.id = p.group_id where ${fingerprint ?? null}::text is null or g.fingerprint = ${fingerprint ?? null}::text`))[0]!.n;

describe('a critical test alert left unacknowledged', () => {
  it('never triggers auto-kill: no cancel, no halt, no incident, nothing listed as overdue', async () => {
    const c = await setup();
    const unsubscribe = subscribeAutoKill(c);
    const result = await runAlertTest(c, { severity: 'critical', actor: 'cli:ops', waitMs: 0, runtime: { slack: null, mailer: null } });
    expect(result.escalation).toBe('started');
    await leaveUnacknowledged(c);
    unsubscribe();
    expect(kraken.calls).toEqual([]);
    expect((await getBotState(testDb.db)).halted).toBe(false);
    expect(await testDb.db.select().from(incidents)).toEqual([]);
    expect(await listOverdueCriticals(testDb.db)).toEqual([]);
  });

  it('pages the ladder once (three rungs, both approvers, each paged once in the round) and then stops, where a real critical goes round again', async () => {
    const c = await setup();
    await runAlertTest(c, { severity: 'critical', actor: 'cli:ops', waitMs: 0, runtime: { slack: null, mailer: null } });
    await leaveUnacknowledged(c);
    // Nobody on call: every rung falls through to the approvers, who are paged once in the round.
    expect(await pageCount()).toBe(2);
    const [esc] = await execute<{ status: string }>(testDb.db, sql`select status from alert_escalations`);
    expect(esc?.status).toBe('exhausted');
  });

  it('(control) a real critical alert left the same way does auto-kill and pages every round', async () => {
    const c = await setup();
    const unsubscribe = subscribeAutoKill(c);
    await c.alerts.raise({ source: 'exchange', severity: 'critical', title: 'Kraken rejects our key', fingerprint: 'exchange:auth' });
    await leaveUnacknowledged(c);
    unsubscribe();
    expect(kraken.calls).toContain('cancelAllOrders');
    expect((await getBotState(testDb.db)).halted).toBe(true);
    expect(await pageCount('exchange:auth')).toBe(6); // both approvers, once in each of 3 rounds
  });
});
