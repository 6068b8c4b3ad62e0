// A golive_policy row recorded by an engine older than the audit settings (migration 0022) or the
// engine limits (0023) leaves them unknown until that engine restarts: the checks that judge them
// fail saying so — never judging the built-in defaults or the auditing shell's values — and /mode live
// and resume refuse (policy_incomplete).
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { testConfig } from '../../../src/config/env.js';
import { modeChangeRequests } from '../../../src/db/schema/index.js';
import { approversCheck } from '../../../src/services/audit/checks/approvers.js';
import { goLiveCriteriaCheck } from '../../../src/services/audit/checks/criteria.js';
import { modeCheck } from '../../../src/services/audit/checks/mode.js';
import { loadGatePolicy, recordGatePolicy, thresholdRefusal } from '../../../src/services/audit/gate-policy.js';
import { openLiveRequest } from '../../../src/services/mode/open-live-request.js';
import { useLiveGateBed } from '../../support/live-gate-bed.js';
import { APPROVERS, OPERATOR_APPROVER, slackActor, type ModeHarness } from '../../support/mode-harness.js';

const ENGINE_ENV = { GOLIVE_MIN_PAPER_TRADES: '1', GOLIVE_MIN_ROI_PCT: '-100', GOLIVE_ALERT_WINDOW: '1h' };

const bed = useLiveGateBed();

/** A policy row as an engine older than migrations 0022/0023 left it: `column` null. */
async function oldEnginePolicy(column: 'audit_settings' | 'engine_limits'): Promise<void> {
  // The engine lists the handler's approvers: a live switch is approved by the engine's list.
  await recordGatePolicy(bed.database.db, { config: testConfig({ SLACK_APPROVERS: APPROVERS, ...ENGINE_ENV }), by: 'worker-host:4242 (worker)', at: new Date('2026-03-02T08:00:00Z') });
  await bed.database.db.execute(sql`update golive_policy set ${sql.identifier(column)} = null`);
}

const request = (harness: ModeHarness) => openLiveRequest(harness.ctx, harness.ctx.liveSwitch, { actor: slackActor(OPERATOR_APPROVER), reason: 'criteria met' });

describe('a gate policy recorded before the audit settings and engine limits', () => {
  it('fails the checks judging audit settings it lacks, and /mode live refuses', async () => {
    await oldEnginePolicy('audit_settings');
    const h = await bed.handler(ENGINE_ENV, [modeCheck, goLiveCriteriaCheck]);
    const result = await request(h);
    expect(result.opened).toBe(false);
    const criteria = result.audit.checks.find((c) => c.id === 'golive.criteria')!;
    expect(criteria.status).toBe('fail');
    expect(criteria.value).toContain('the engine recorded its go-live policy before this version: restart the engine (ctb start) so it records its audit settings');
    expect(result.audit.checks.find((c) => c.id === 'mode.state')!.status).not.toBe('fail');
    expect(await bed.database.db.select().from(modeChangeRequests)).toHaveLength(0);
  });

  it('fails the checks judging engine limits it lacks instead of judging the shell\'s approvers', async () => {
    await oldEnginePolicy('engine_limits');
    const h = await bed.handler(ENGINE_ENV, [modeCheck, goLiveCriteriaCheck, approversCheck]);
    const result = await request(h);
    expect(result.opened).toBe(false);
    const approvers = result.audit.checks.find((c) => c.id === 'mode.approvers')!;
    expect(approvers.status).toBe('fail');
    expect(approvers.value).toContain('restart the engine (ctb start) so it records its pre-trade limits, STRATEGIES_FILE, LOG_DIR, SLACK_APPROVERS and alert channels');
    expect(result.audit.checks.find((c) => c.id === 'golive.criteria')!.status).toBe('pass');
  });

  it('refuses a passed audit for resume and the live switch (policy_incomplete)', async () => {
    await oldEnginePolicy('audit_settings');
    const policy = await loadGatePolicy(bed.database.db);
    const run = { id: 7, thresholds: { ...policy.thresholds } };
    const refusal = thresholdRefusal(run, policy, 'resume');
    expect(refusal).toMatchObject({ code: 'policy_incomplete' });
    expect(refusal!.what).toContain('restart the engine (ctb start) so it records its audit settings');
    expect(refusal!.how).toContain('Restart the engine (ctb start), run ctb audit');
  });
});
