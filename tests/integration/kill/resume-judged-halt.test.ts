// Resume lifts only the halt it judged: a kill (or another halt) committed between its checks and its
// lift is refused, never lifted unseen with its incident left open. An incident left open on a bot that
// is not halted has a way out (resume closes it under the same rules), and the hints say what is true.
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../../commands/run-command.js';
import { incidentShowCommand } from '../../../commands/incident-show.js';
import { resumeCommand } from '../../../commands/resume.js';
import { renderIncident, renderResume } from '../../../src/cli/render/kill.js';
import { renderResume as renderSlackResume } from '../../../src/slack/views/kill.js';
import type { Db } from '../../../src/db/client.js';
import { placeHaltIfRunning } from '../../../src/db/queries/reconcile-state.js';
import { auditRuns } from '../../../src/db/schema/index.js';
import { AppError } from '../../../src/errors.js';
import { getBotState, updateBotState } from '../../../src/services/bot-state.js';
import { currentIncident } from '../../../src/services/kill/incident.js';
import { executeKill } from '../../../src/services/kill/kill.js';
import { persistKill } from '../../../src/services/kill/persist-kill.js';
import { resumeAfterHalt, type ResumeResult } from '../../../src/services/kill/resume.js';
import { RECONCILIATION_ACTOR, RECONCILIATION_REASON } from '../../../src/services/reconcile/start/run.js';
import { createPostgresTestDb, emptyTablesSql, type TestDatabase } from '../../support/db.js';
import { DEFAULT_AUDIT_SETTINGS } from '../../support/gate-thresholds.js';
import { killTestContext, type KillTestContext } from '../../support/kill-context.js';

const alice = { id: 'U0ALICE', source: 'slack' as const };

let testDb: TestDatabase;
let t: KillTestContext;

beforeAll(async () => { testDb = await createPostgresTestDb(); });
afterAll(async () => { await testDb?.close(); });
afterEach(async () => {
  await t?.ctx.close();
  await testDb.db.execute(sql.raw(emptyTablesSql(['incident_checklist_items', 'incidents', 'bot_state', 'audit_runs', 'engine_requests', 'golive_policy'])));
});

async function context(): Promise<KillTestContext> {
  t = await killTestContext({ database: testDb, armed: true, env: { SLACK_OPERATORS: 'U0ALICE' } });
  return t;
}

async function audit(minutesAfterNow: number): Promise<number> {
  const [row] = await testDb.db.insert(auditRuns).values({
    at: new Date(t.clock.now().getTime() + minutesAfterNow * 60_000), actor: 'cli:ops', mode: 'paper', dryRun: true, passed: true, summary: 'all checks passed', results: [],
    thresholds: { minPaperTrades: 50, minRoiPct: '0', alertWindowMs: 7 * 86_400_000, ...DEFAULT_AUDIT_SETTINGS },
  }).returning({ id: auditRuns.id });
  return row!.id;
}

/** Every checklist item of the open incident recorded done (what each does is tested elsewhere). */
async function checklistDone(): Promise<void> {
  await testDb.db.execute(sql`update incident_checklist_items set done_at = now(), done_by = 'U0ALICE'`);
}

/** Reconciliation halted the bot and has not passed (a difference with Kraken stands). */
async function reconciliationHalted(): Promise<void> {
  await getBotState(testDb.db);
  expect(await placeHaltIfRunning(testDb.db, { reason: RECONCILIATION_REASON, actor: RECONCILIATION_ACTOR, now: t.clock.now() })).toBe(true);
  await testDb.db.execute(sql`update bot_state set reconciliation_blocked = true where id = 1`);
}

async function refusal(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

/** The database as resume sees it, with `between` committed by another connection just before resume's lift. */
function withCommitBeforeLift(db: Db, between: () => Promise<unknown>): Db {
  let fired = false;
  return new Proxy(db, {
    get(target, p, receiver) {
      if (p !== 'transaction') return Reflect.get(target, p, receiver) as unknown;
      return async (...args: unknown[]) => {
        if (!fired) { fired = true; await between(); }
        return (target.transaction as (...a: unknown[]) => unknown)(...args);
      };
    },
  });
}

describe('resume lifts only the halt it judged', () => {
  it('refuses, lifting and closing nothing, when a kill lands between its checks and its lift', async () => {
    await context();
    await updateBotState(testDb.db, t.clock, { halted: true, haltedReason: 'exchange refused an order', haltedAt: t.clock.now(), haltedBy: 'system:engine' });
    await audit(1);
    const racing = withCommitBeforeLift(testDb.db, () => persistKill(testDb.db, {
      killId: 'k-race', at: new Date(t.clock.now().getTime() + 120_000), actor: 'cli:bob', trigger: 'manual', reason: 'bad fills', cancelReport: {},
    }));
    const err = await refusal(resumeAfterHalt({ ...t.ctx, db: racing }, alice));
    const incident = (await currentIncident(t.ctx))!.incident;
    expect(err.code).toBe('kill_during_resume');
    expect(err.message).toBe(`A new kill (incident #${incident.id}) landed while resuming: nothing was lifted or closed; run resume again.`);
    expect(await getBotState(testDb.db)).toMatchObject({ halted: true, haltedBy: 'cli:bob' });
    expect(incident).toMatchObject({ status: 'open', openedBy: 'cli:bob' });
  });

  it('refuses when another halt replaced the one it judged between its checks and its lift', async () => {
    await context();
    await updateBotState(testDb.db, t.clock, { halted: true, haltedReason: 'exchange refused an order', haltedAt: t.clock.now(), haltedBy: 'system:engine' });
    await audit(1);
    const later = new Date(t.clock.now().getTime() + 120_000);
    const racing = withCommitBeforeLift(testDb.db, () => testDb.db.execute(sql`update bot_state set halted_by = 'system:watchdog', halted_at = ${later.toISOString()}::timestamptz, halted_reason = 'feed stale' where id = 1`));
    const err = await refusal(resumeAfterHalt({ ...t.ctx, db: racing }, alice));
    expect(err.code).toBe('halt_changed_during_resume');
    expect(err.message).toBe(`The halt changed while resuming (the bot is now halted by system:watchdog since ${later.toISOString()}): nothing was lifted or closed; run resume again.`);
    expect(await getBotState(testDb.db)).toMatchObject({ halted: true, haltedBy: 'system:watchdog' });
  });
});

describe('an incident left open on a bot that is not halted', () => {
  /** A kill whose halt an older resume lifted without closing its incident. */
  async function orphaned(): Promise<number> {
    await context();
    const killed = await executeKill(t.ctx, { actor: alice, reason: 'bad fills', trigger: 'manual' });
    await testDb.db.execute(sql`update bot_state set halted = false, halted_by = null, halted_at = null, halted_reason = null where id = 1`);
    return killed.incidentId!;
  }

  it('ctb incident says it is open on a bot not halted and which command closes it', async () => {
    const id = await orphaned();
    const shown = await runCommand(incidentShowCommand, t.ctx, alice, {});
    expect(renderIncident(shown).split('\n').slice(0, 2)).toEqual([
      'Not halted.',
      `Incident #${id} is still open although the bot is not halted: ctb resume closes it, once its checklist is done and an audit has passed since it opened (ctb audit).`,
    ]);
  });

  it('resume names what closing it needs, judged from when it opened', async () => {
    const id = await orphaned();
    await audit(-10);
    const err = await refusal(runCommand(resumeCommand, t.ctx, alice, {}));
    expect(err.code).toBe('resume_conditions_unmet');
    expect(err.message.split('\n')[0]).toBe(`Closing incident ${id} (the bot is not halted) needs 5 conditions that are not met:`);
    expect(err.message).toContain(`No passing audit run after incident ${id} opened (${t.clock.now().toISOString()})`);
    expect((await currentIncident(t.ctx))!.incident.status).toBe('open');
  });

  it('resume closes it once its checklist is done and an audit passed since, recording who, and lifts nothing', async () => {
    const id = await orphaned();
    await checklistDone();
    const auditId = await audit(1);
    const result = await runCommand(resumeCommand, t.ctx, alice, {}) as ResumeResult;
    expect(result).toMatchObject({ ok: true, lifted: false, incidentId: id, auditRunId: auditId, mode: 'unchanged' });
    expect((await currentIncident(t.ctx))!.incident).toMatchObject({ status: 'closed', closedBy: 'U0ALICE' });
    expect((await getBotState(testDb.db)).halted).toBe(false);
    expect(renderResume(result)).toBe(`Incident #${id} closed (audit run #${auditId} passed); the bot was not halted, so nothing was lifted and its mode is unchanged.`);
    expect(renderSlackResume(result).text).toBe(`Incident #${id} closed (audit run #${auditId}); the bot was not halted, so nothing was lifted and its mode is unchanged.`);
    // Nothing left to close: resume says so again.
    expect((await refusal(runCommand(resumeCommand, t.ctx, alice, {}))).code).toBe('not_halted');
  });
});

describe("resume's hint when reconciliation has not passed", () => {
  it('after a kill took a reconciliation halt over, says to resume again (the halt no longer lifts by itself)', async () => {
    await context();
    await reconciliationHalted();
    t.clock.advance(60_000);
    await executeKill(t.ctx, { actor: alice, reason: 'bad fills', trigger: 'manual' });
    await checklistDone();
    await audit(1);
    const err = await refusal(runCommand(resumeCommand, t.ctx, alice, {}));
    expect(err.code).toBe('reconciliation_blocked');
    expect(err.hint).toBe("ctb reconcile lists what is unexplained; ctb reconcile adopt|cancel <txid> resolves each, then run ctb resume again (the halt is a kill's: only resume lifts it).");
  });

  it("on reconciliation's own halt, says it lifts by itself", async () => {
    await context();
    await reconciliationHalted();
    await audit(1);
    const err = await refusal(runCommand(resumeCommand, t.ctx, alice, {}));
    expect(err.hint).toBe('ctb reconcile lists what is unexplained; ctb reconcile adopt|cancel <txid> resolves each, and the reconciliation halt then lifts by itself.');
  });
});
