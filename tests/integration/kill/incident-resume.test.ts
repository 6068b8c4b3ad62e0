import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../../commands/run-command.js';
import { incidentDoneCommand } from '../../../commands/incident-done.js';
import { resumeCommand } from '../../../commands/resume.js';
import { auditRuns, commandLog } from '../../../src/db/schema/index.js';
import { AppError } from '../../../src/errors.js';
import { testConfig } from '../../../src/config/env.js';
import { recordGatePolicy } from '../../../src/services/audit/gate-policy.js';
import { getBotState } from '../../../src/services/bot-state.js';
import { currentIncident } from '../../../src/services/kill/incident.js';
import { executeKill } from '../../../src/services/kill/kill.js';
import { addPendingKill } from '../../../src/services/kill/pending-kill.js';
import { isHaltLatched } from '../../../src/services/kill/runtime.js';
import { flattenHandler, incidentHandlers } from '../../../src/services/engine-requests/handlers.js';
import { startRequestRunner, type RequestRunner } from '../../../src/services/engine-requests/runner.js';
import { checklistFollowUp } from '../../../src/services/kill/checklist-records.js';
import { renderChecklist, renderItemDone } from '../../../src/cli/render/kill.js';
import { renderChecklistAnswer, renderIncident } from '../../../src/slack/views/kill.js';
import { createPostgresTestDb, emptyTablesSql, type TestDatabase } from '../../support/db.js';
import { killTestContext, type KillTestContext } from '../../support/kill-context.js';
import { openOrder } from '../../support/recording-exchange.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GateThresholds } from '../../../src/db/schema/index.js';
import { DEFAULT_AUDIT_SETTINGS } from '../../support/gate-thresholds.js';

const alice = { id: 'U0ALICE', source: 'slack' as const };
const bob = { id: 'U0BOB', source: 'slack' as const };
const stranger = { id: 'U0STRANGER', source: 'slack' as const };

let testDb: TestDatabase;
let t: KillTestContext;
let engine: RequestRunner | undefined;

beforeAll(async () => {
  testDb = await createPostgresTestDb();
});
afterAll(async () => {
  await testDb?.close();
});
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
  await t?.ctx.close();
  await testDb.db.execute(sql.raw(emptyTablesSql(['incident_checklist_items', 'incidents', 'bot_state', 'audit_runs', 'engine_requests', 'golive_policy'])));
});

/** The engine's process on the same database: it carries out the flatten (and reconcile) handed to it. */
function engineProcess(handlers = incidentHandlers(t.ctx)): RequestRunner {
  engine = startRequestRunner(t.ctx, { holder: 'worker-host:4242', handlers, onFinished: checklistFollowUp(t.ctx), pollMs: 20 });
  return engine;
}

async function killed(env: Record<string, string> = {}): Promise<KillTestContext> {
  t = await killTestContext({ database: testDb, armed: true, env: { SLACK_OPERATORS: 'U0ALICE,U0BOB', REPORTS_DIR: mkdtempSync(join(tmpdir(), 'ctb-reports-')), ...env } });
  await executeKill(t.ctx, { actor: alice, reason: 'bad fills', trigger: 'manual' });
  return t;
}

const done = (item: string, actor = alice, extra: Record<string, unknown> = {}) =>
  runCommand(incidentDoneCommand, t.ctx, actor, { item, ...extra });

/** Every item really done: the engine's process flattens (nothing open), Kraken's history is read. */
async function tickAll(): Promise<void> {
  engineProcess();
  await done('cancel_orders');
  await done('close_positions', alice, { confirmed: true });
  await done('reconcile_ledger');
  await done('notify_stakeholders', bob, { note: 'told #trading-desk' });
}

/** The go-live thresholds the gate holds audits to while no engine has recorded its own: the built-in defaults. */
const DEFAULT_THRESHOLDS: GateThresholds = { minPaperTrades: 50, minRoiPct: '0', alertWindowMs: 7 * 86_400_000, ...DEFAULT_AUDIT_SETTINGS };

async function audit(passed: boolean, minutesAfterKill: number, thresholds: GateThresholds | null = DEFAULT_THRESHOLDS): Promise<number> {
  const [row] = await testDb.db.insert(auditRuns).values({
    at: new Date(t.clock.now().getTime() + minutesAfterKill * 60_000), actor: 'cli:ops', mode: 'paper', dryRun: true, passed,
    summary: passed ? 'all checks passed' : 'reconciliation mismatch', results: [], thresholds,
  }).returning({ id: auditRuns.id });
  return row!.id;
}

async function refusal(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe('incident checklist', () => {
  it('records who did each item and when, and keeps the first record on a second click', async () => {
    await killed();
    t.clock.advance(60_000);
    const first = await done('notify_stakeholders', bob, { note: 'called the desk' });
    expect(first).toMatchObject({ ok: true, alreadyDone: false, doneBy: 'U0BOB', doneAt: t.clock.now() });
    t.clock.advance(60_000);
    const again = await done('notify_stakeholders', alice);
    expect(again).toMatchObject({ ok: true, alreadyDone: true, doneBy: 'U0BOB' });
    const view = await currentIncident(t.ctx);
    const item = view!.items.find((i) => i.item === 'notify_stakeholders')!;
    expect(item).toMatchObject({ doneBy: 'U0BOB', outcome: expect.objectContaining({ note: 'called the desk' }) });
  });

  it('re-cancels on every venue for "cancel open orders again", and leaves the item open while an order survives', async () => {
    // The surviving order never goes: past its KILL_CONFIRM_ATTEMPTS rounds, the cancel again would
    // only go on until KILL_CONFIRM_WAIT (20 s by default) to answer the same.
    await killed({ KILL_CONFIRM_WAIT: '1ms' });
    t.kraken.open.push(openOrder('REAPPEARED'));
    t.kraken.sticky.add('REAPPEARED');
    const stuck = await done('cancel_orders');
    expect(stuck.ok).toBe(false);
    expect(stuck.summary).toMatch(/kraken: 1 still open/);
    t.kraken.sticky.clear();
    const cleared = await done('cancel_orders');
    expect(cleared).toMatchObject({ ok: true, doneBy: 'U0ALICE' });
    expect(t.kraken.open).toEqual([]);
  });

  it('asks for a confirmation before closing positions, then has the engine\'s process flatten', async () => {
    await killed();
    let calls = 0;
    engineProcess({ flatten: flattenHandler(t.ctx, async () => { calls += 1; return { ok: true, summary: 'Closed 1 of 1 open positions.', closed: [7], failed: [], pending: [] }; }) });
    const err = await refusal(done('close_positions'));
    expect(err.code).toBe('confirmation_required');
    expect(calls).toBe(0);
    expect(await done('close_positions', alice, { confirmed: true })).toMatchObject({ ok: true, state: 'done', doneBy: 'U0ALICE', summary: 'Closed 1 of 1 open positions.' });
    expect(calls).toBe(1);
    const item = (await currentIncident(t.ctx))!.items.find((i) => i.item === 'close_positions')!;
    expect(item).toMatchObject({ state: 'done', outcome: expect.objectContaining({ carriedOutBy: 'worker-host:4242', closed: [7] }) });
  });

  it('shows close positions as not done and awaiting the exchange\'s fills (not failed) while a sale is on its way, and done once asked again after they are booked', async () => {
    await killed();
    const awaiting = 'Closed 0 of 1 open positions; not closed yet: #7 (sold; the exchange has not listed all its fills yet) — the fill follower books them; ask again to confirm.';
    const reports = [
      { ok: false, summary: awaiting, closed: [], failed: [], pending: [{ tradeId: 7, note: 'sold; the exchange has not listed all its fills yet' }] },
      { ok: true, summary: 'No open positions to close.', closed: [], failed: [], pending: [] },
    ];
    engineProcess({ flatten: flattenHandler(t.ctx, async () => reports.shift()!) });
    const first = await done('close_positions', alice, { confirmed: true });
    expect(first).toMatchObject({ ok: false, doneAt: null, summary: awaiting });
    expect(renderItemDone(first)).toBe(`close_positions: not done — ${awaiting}`);
    const view = (await currentIncident(t.ctx))!;
    const item = view.items.find((i) => i.item === 'close_positions')!;
    expect(item).toMatchObject({ doneAt: null, outcome: expect.objectContaining({ pending: [{ tradeId: 7, note: 'sold; the exchange has not listed all its fills yet' }] }) });
    expect(renderChecklist(view)).toContain(`[~] close_positions      Close open positions (flatten) — NOT DONE YET, AWAITING THE EXCHANGE'S FILLS: ${awaiting}`);
    const slack = JSON.stringify(renderIncident(view.incident, view.items));
    expect(slack).toContain(':hourglass_flowing_sand: Close open positions (flatten) — *not done yet, awaiting the exchange\'s fills*: Closed 0 of 1');
    expect(slack).not.toContain(':x: Close open positions');
    expect(renderChecklistAnswer(item).text).toMatch(/^:hourglass_flowing_sand: Close open positions \(flatten\): not done yet, awaiting the exchange's fills \(request #\d+\)/);

    expect(await done('close_positions', alice, { confirmed: true })).toMatchObject({ ok: true, state: 'done', doneBy: 'U0ALICE', summary: 'No open positions to close.' });
    const after = (await currentIncident(t.ctx))!;
    expect(renderChecklist(after)).toMatch(/\[x\] close_positions .* done by U0ALICE/);
  });

  it('refuses a checklist tick from someone who is not an operator, and logs the refusal', async () => {
    await killed();
    const err = await refusal(done('notify_stakeholders', stranger));
    expect(err.kind).toBe('forbidden');
    const log = await testDb.db.select().from(commandLog);
    expect(log).toContainEqual(expect.objectContaining({ actor: 'U0STRANGER', command: 'incident done', allowed: false }));
  });

  it('names the items it accepts when given an unknown one', async () => {
    await killed();
    const err = await refusal(done('panic'));
    expect(err.message).toMatch(/cancel_orders, close_positions, reconcile_ledger, notify_stakeholders/);
  });

  it('does not tick reconcile_ledger done while reconciliation stays blocked, and says how to lift the block', async () => {
    await killed();
    await testDb.db.execute(sql`update bot_state set reconciliation_blocked = true,
      reconciliation_details = ${JSON.stringify({ at: t.clock.now().toISOString(), cause: 'open_orders', differences: [{ kind: 'unknown_order', id: 'ONLPUG-AAAAA-BBBBBB' }] })}::jsonb`);
    const item = await done('reconcile_ledger');
    expect(item.ok).toBe(false);
    expect(item.summary).toMatch(/^RECONCILE OK — .*; but reconciliation is still BLOCKED \(unknown_order ONLPUG-AAAAA-BBBBBB\), and the bot stays halted on it: run ctb reconcile, which reconciles again and lifts the block/);
    expect((await getBotState(t.ctx.db)).reconciliationBlocked).toBe(true);
  });
});

describe('resume', () => {
  it('refuses without an audit run since the halt', async () => {
    await killed();
    await tickAll();
    await audit(true, -10); // before the kill: does not count
    const err = await refusal(runCommand(resumeCommand, t.ctx, alice, {}));
    expect(err.code).toBe('audit_required');
    expect((await getBotState(testDb.db)).halted).toBe(true);
  });

  it('refuses when the latest audit since the halt failed', async () => {
    await killed();
    await tickAll();
    await audit(true, 1);
    await audit(false, 2);
    expect((await refusal(runCommand(resumeCommand, t.ctx, alice, {}))).code).toBe('audit_failed');
  });

  it('refuses while checklist items are undone, naming them', async () => {
    await killed();
    await audit(true, 1);
    await done('cancel_orders');
    const err = await refusal(runCommand(resumeCommand, t.ctx, alice, {}));
    expect(err.code).toBe('checklist_open');
    expect(err.message).toMatch(/close_positions, reconcile_ledger, notify_stakeholders/);
  });

  it('names every unmet condition at once, each with the command that meets it', async () => {
    await killed();
    await audit(false, 1);
    await done('cancel_orders');
    await testDb.db.execute(sql`update bot_state set reconciliation_blocked = true where id = 1`);
    const err = await refusal(runCommand(resumeCommand, t.ctx, alice, {}));
    expect(err.code).toBe('resume_conditions_unmet');
    expect(err.message.split('\n')).toEqual([
      'Resuming needs 5 conditions that are not met:',
      '  1. Reconciliation with Kraken has not passed (an order or fill on Kraken is unexplained) → ctb reconcile lists them; ctb reconcile adopt|cancel <txid> resolves each',
      expect.stringMatching(/^ {2}2\. No passing audit run after the halt: the latest \(run \d+: .*\) failed → fix what it found, then ctb audit$/),
      expect.stringMatching(/^ {2}3\. Checklist item close_positions of incident \d+ is not done → ctb incident done close_positions --yes \(or its button in the incident thread\)$/),
      expect.stringMatching(/^ {2}4\. Checklist item reconcile_ledger of incident \d+ is not done → ctb incident done reconcile_ledger \(/),
      expect.stringMatching(/^ {2}5\. Checklist item notify_stakeholders of incident \d+ is not done → ctb incident done notify_stakeholders \(/),
    ]);
    expect((await getBotState(testDb.db)).halted).toBe(true);
  });

  it('refuses while a kill is still waiting to be written', async () => {
    await killed();
    await tickAll();
    await audit(true, 1);
    await addPendingKill(t.dataDir, { killId: 'k-pending', at: t.clock.now().toISOString(), actor: 'cli:ops', actorSource: 'cli', trigger: 'manual', reason: 'x', cancelReport: {} });
    expect((await refusal(runCommand(resumeCommand, t.ctx, alice, {}))).code).toBe('kill_pending');
  });

  it('lifts the halt after a passing audit and a done checklist, stays in paper and closes the incident', async () => {
    await killed();
    await tickAll();
    await audit(true, 1);
    const result = await runCommand(resumeCommand, t.ctx, alice, {});
    expect(result.ok).toBe(true);
    expect(await getBotState(testDb.db)).toMatchObject({ halted: false, mode: 'paper', haltedReason: null });
    expect((await currentIncident(t.ctx))!.incident).toMatchObject({ status: 'closed', closedBy: 'U0ALICE' });
    expect(isHaltLatched(t.ctx)).toBe(false);
    expect(t.ctx.jobs.tradingPaused).toBeNull();
    // A later kill opens a fresh incident.
    t.clock.advance(3_600_000);
    const next = await executeKill(t.ctx, { actor: bob, reason: 'again', trigger: 'manual' });
    expect(next.alreadyKilled).toBe(false);
    expect(next.incidentId).not.toBe(result.incidentId);
  });

  describe('holds the audit to the go-live gate policy in the database', () => {
    const DAY = 86_400_000;
    /** The engine's process records the thresholds it runs with (on taking the engine lease). */
    const enginePolicy = () => recordGatePolicy(testDb.db, {
      config: testConfig({ GOLIVE_MIN_PAPER_TRADES: '20', GOLIVE_MIN_ROI_PCT: '0.5', GOLIVE_ALERT_WINDOW: '7d' }), by: 'worker-host:4242 (worker)', at: new Date('2026-01-05T08:00:00Z'),
    });
    const atPolicy = { minPaperTrades: 20, minRoiPct: '0.5', alertWindowMs: 7 * DAY, ...DEFAULT_AUDIT_SETTINGS };

    it('refuses an audit that judged by a looser alert window than the policy, saying which, where the policy comes from and what to run', async () => {
      await killed();
      await tickAll();
      await enginePolicy();
      const id = await audit(true, 1, { ...atPolicy, alertWindowMs: 60_000 });
      const err = await refusal(runCommand(resumeCommand, t.ctx, alice, {}));
      expect(err.code).toBe('audit_thresholds_looser');
      expect(err.message).toBe(`Audit run ${id} judged by looser go-live thresholds than the gate policy (recorded by the engine's process worker-host:4242 (worker) at 2026-01-05T08:00:00.000Z): GOLIVE_ALERT_WINDOW 1m where the policy has 7d.`);
      expect(err.hint).toMatch(/^Run ctb audit again without GOLIVE_ALERT_WINDOW set in that shell's environment \(or \.env\) — it then judges by the policy — and resume; or, to change the policy, set GOLIVE_ALERT_WINDOW in the engine's environment and restart the engine/);
      expect((await getBotState(testDb.db)).halted).toBe(true);
    });

    it('names every looser threshold, ROI compared exactly', async () => {
      await killed();
      await tickAll();
      await enginePolicy();
      await audit(true, 1, { minPaperTrades: 2, minRoiPct: '0.49', alertWindowMs: 7 * DAY, ...DEFAULT_AUDIT_SETTINGS });
      const err = await refusal(runCommand(resumeCommand, t.ctx, alice, {}));
      expect(err.message).toMatch(/: GOLIVE_MIN_PAPER_TRADES 2 where the policy has 20; GOLIVE_MIN_ROI_PCT 0\.49% where the policy has 0\.5%\.$/);
    });

    it('refuses an audit that recorded no thresholds', async () => {
      await killed();
      await tickAll();
      await enginePolicy();
      const id = await audit(true, 1, null);
      const err = await refusal(runCommand(resumeCommand, t.ctx, alice, {}));
      expect(err.code).toBe('audit_thresholds_missing');
      expect(err.message).toBe(`Audit run ${id} recorded no go-live thresholds, so it cannot show it met the gate policy (≥ 20 paper trades, paper ROI > 0.5%, no critical alert in 7d; recorded by the engine's process worker-host:4242 (worker) at 2026-01-05T08:00:00.000Z).`);
      expect(err.hint).toBe('Run ctb audit (or /golive audit) again — it records the thresholds it judged by — then resume.');
    });

    it('holds audits to the built-in defaults while no engine has recorded a policy', async () => {
      await killed();
      await tickAll();
      await audit(true, 1, { ...DEFAULT_THRESHOLDS, minPaperTrades: 5 });
      const err = await refusal(runCommand(resumeCommand, t.ctx, alice, {}));
      expect(err.message).toMatch(/\(the built-in defaults \(no engine has recorded a policy in this database yet\)\): GOLIVE_MIN_PAPER_TRADES 5 where the policy has 50\.$/);
    });

    it('lifts the halt after an audit at the policy', async () => {
      await killed();
      await tickAll();
      await enginePolicy();
      await audit(true, 1, atPolicy);
      expect(await runCommand(resumeCommand, t.ctx, alice, {})).toMatchObject({ ok: true });
    });

    it('lifts the halt after an audit stricter than the policy', async () => {
      await killed();
      await tickAll();
      await enginePolicy();
      await audit(true, 1, { minPaperTrades: 100, minRoiPct: '1', alertWindowMs: 14 * DAY, ...DEFAULT_AUDIT_SETTINGS });
      expect(await runCommand(resumeCommand, t.ctx, alice, {})).toMatchObject({ ok: true });
    });
  });

  it('refuses when the bot is not halted', async () => {
    t = await killTestContext({ database: testDb, armed: false });
    expect((await refusal(runCommand(resumeCommand, t.ctx, { id: 'cli:ops', source: 'cli' }, {}))).code).toBe('not_halted');
  });
});
