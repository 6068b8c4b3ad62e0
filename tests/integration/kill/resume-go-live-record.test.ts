// A resume lifts a halt into paper; it requires the checks that say the bot is safe to trade paper,
// not the paper → live criteria (a trading record: paper trades, ROI, no critical alert in the
// window), which /mode live runs again. The walk's case: a critical alert, then a kill.
import { sql } from 'drizzle-orm';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../../commands/run-command.js';
import { incidentDoneCommand } from '../../../commands/incident-done.js';
import { resumeCommand } from '../../../commands/resume.js';
import { renderResume } from '../../../src/cli/render/kill.js';
import { goLiveCriteriaCheck } from '../../../src/services/audit/checks/criteria.js';
import { modeCheck } from '../../../src/services/audit/checks/mode.js';
import { runAudit } from '../../../src/services/audit/run-audit.js';
import type { AuditCheck } from '../../../src/services/audit/types.js';
import { getBotState } from '../../../src/services/bot-state.js';
import { executeKill } from '../../../src/services/kill/kill.js';
import { checklistFollowUp } from '../../../src/services/kill/checklist-records.js';
import { incidentHandlers } from '../../../src/services/engine-requests/handlers.js';
import { startRequestRunner, type RequestRunner } from '../../../src/services/engine-requests/runner.js';
import { auditGate } from '../../../src/services/mode/audit-gate.js';
import { AppError } from '../../../src/errors.js';
import { createPostgresTestDb, emptyTablesSql, type TestDatabase } from '../../support/db.js';
import { killTestContext, type KillTestContext } from '../../support/kill-context.js';

const alice = { id: 'U0ALICE', source: 'slack' as const };
const bob = { id: 'U0BOB', source: 'slack' as const };
/** The criteria, and a safety check beside them (the mode the bot is in). */
const CHECKS: AuditCheck[] = [modeCheck, goLiveCriteriaCheck];

let testDb: TestDatabase;
let t: KillTestContext;
let engine: RequestRunner | undefined;

beforeAll(async () => { testDb = await createPostgresTestDb(); });
afterAll(async () => { await testDb?.close(); });
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
  await t?.ctx.close();
  await testDb.db.execute(sql.raw(emptyTablesSql(['incident_checklist_items', 'incidents', 'bot_state', 'audit_runs', 'engine_requests', 'golive_policy', 'alert_events', 'alert_groups'])));
});

const done = (item: string, actor = alice, extra: Record<string, unknown> = {}) => runCommand(incidentDoneCommand, t.ctx, actor, { item, ...extra });

/** A critical alert (a reconciliation halt's), then a kill, then every checklist item done. */
async function alertKillAndChecklist(): Promise<void> {
  t = await killTestContext({ database: testDb, armed: true, storeAlerts: true, env: { SLACK_OPERATORS: 'U0ALICE,U0BOB', REPORTS_DIR: mkdtempSync(join(tmpdir(), 'ctb-reports-')) } });
  await t.ctx.alerts.raise({ source: 'reconciliation', severity: 'critical', title: 'Reconciliation halt: an order on Kraken is unexplained' });
  t.clock.advance(60_000);
  await executeKill(t.ctx, { actor: alice, reason: 'walk slack kill', trigger: 'manual' });
  engine = startRequestRunner(t.ctx, { holder: 'worker-host:4242', handlers: incidentHandlers(t.ctx), onFinished: checklistFollowUp(t.ctx), pollMs: 20 });
  await done('cancel_orders');
  await done('close_positions', alice, { confirmed: true });
  await done('reconcile_ledger');
  await done('notify_stakeholders', bob, { note: 'told the desk' });
  t.clock.advance(60_000);
}

describe('resume after a kill that followed another critical alert', () => {
  it('resumes in paper on an audit that fails only the go-live criteria, names them, and /mode live still refuses', async () => {
    await alertKillAndChecklist();
    const audit = await runAudit(t.ctx, { actor: alice, dryRun: true, checks: CHECKS, cwd: process.cwd() });
    const criteria = audit.results.find((r) => r.id === 'golive.criteria')!;
    expect(criteria.status).toBe('fail');
    expect(criteria.value).toMatch(/1 critical alerts in 7d/);
    // The fix is one a halted bot can follow: it does not say to keep paper trading first.
    expect(criteria.fix).toMatch(/^The bot is halted and does not paper trade: ctb resume \(\/mode resume\) does not require this check and resumes in paper; then keep paper trading until paper trades, ROI are met; and wait until the counted critical alerts are older than 7d, with no new one\. \/mode live requires it/);
    expect(audit.results.find((r) => r.id === 'mode.state')!.status).not.toBe('fail');

    const resumed = await runCommand(resumeCommand, t.ctx, alice, {});
    expect(resumed).toMatchObject({ ok: true, lifted: true, mode: 'paper', auditRunId: audit.runId, notRequired: [{ id: 'golive.criteria' }] });
    expect(renderResume(resumed as never)).toMatch(/Not required to resume in paper: golive\.criteria \(.*1 critical alerts in 7d.*\)\. \/mode live \(ctb mode live\) runs the go-live audit again and requires it\./);
    expect(await getBotState(t.ctx.db)).toMatchObject({ halted: false, mode: 'paper' });

    // The switch to live runs the go-live audit again: the criteria still refuse it.
    const gate = await auditGate({ checks: CHECKS })(t.ctx, { actor: bob, purpose: 'switch' });
    expect(gate.passed).toBe(false);
    expect(gate.checks.find((c) => c.id === 'golive.criteria')).toMatchObject({ status: 'fail', value: expect.stringMatching(/critical alerts in 7d/) });
    expect(gate.checks.find((c) => c.id === 'golive.criteria')!.fix).toMatch(/^Keep paper trading until paper trades, ROI are met; and wait until the counted critical alerts are older than 7d/);
  });

  it('still refuses an audit that failed a safety check besides the criteria, and names it', async () => {
    await alertKillAndChecklist();
    const failing: AuditCheck = { ...modeCheck, run: async () => ({ status: 'fail', value: 'mode unsafe', fix: 'fix the mode' }) };
    await runAudit(t.ctx, { actor: alice, dryRun: true, checks: [failing, goLiveCriteriaCheck], cwd: process.cwd() });
    const err = await runCommand(resumeCommand, t.ctx, alice, {}).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('audit_failed');
    expect((err as AppError).message).toMatch(/: mode\.state failed \(a resume in paper does not require golive\.criteria; \/mode live does\)\./);
    expect(await getBotState(t.ctx.db)).toMatchObject({ halted: true });
  });
});
