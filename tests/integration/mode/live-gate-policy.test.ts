// /mode live holds its go-live audit to the gate policy the engine's process recorded in the
// database, not to the GOLIVE_* of the process that handles the request: a looser value there is
// ignored (and said so), a stricter one is used, and a policy tightened while the audit ran refuses it.
import { describe, expect, it } from 'vitest';
import { testConfig } from '../../../src/config/env.js';
import { alertEvents, alertGroups, auditRuns, modeChangeRequests } from '../../../src/db/schema/index.js';
import { goLiveCriteriaCheck } from '../../../src/services/audit/checks/criteria.js';
import { modeCheck } from '../../../src/services/audit/checks/mode.js';
import { recordGatePolicy } from '../../../src/services/audit/gate-policy.js';
import { defineCheck, type AuditCheck } from '../../../src/services/audit/types.js';
import { openLiveRequest } from '../../../src/services/mode/open-live-request.js';
import { useLiveGateBed } from '../../support/live-gate-bed.js';
import { APPROVERS, OPERATOR_APPROVER, slackActor, type ModeHarness } from '../../support/mode-harness.js';
import { DEFAULT_AUDIT_SETTINGS } from '../../support/gate-thresholds.js';

const HOUR = 3_600_000;
/** The thresholds the engine's process runs with: one paper trade (the least allowed), any ROI, no critical alert in 1h. */
const ENGINE_ENV = { GOLIVE_MIN_PAPER_TRADES: '1', GOLIVE_MIN_ROI_PCT: '-100', GOLIVE_ALERT_WINDOW: '1h' };

const bed = useLiveGateBed();

/** The process that handles /mode live, with its own GOLIVE_* and the real paper→live criteria in its audit. */
async function requestHandler(env: Record<string, string>, extraChecks: AuditCheck[] = []): Promise<ModeHarness> {
  return bed.handler(env, [modeCheck, goLiveCriteriaCheck, ...extraChecks]);
}

async function enginePolicy(env: Record<string, string> = ENGINE_ENV): Promise<void> {
  // The engine lists the approvers the request handler does: approvals are judged by the engine's list.
  await recordGatePolicy(bed.database.db, { config: testConfig({ SLACK_APPROVERS: APPROVERS, ...env }), by: 'worker-host:4242 (worker)', at: new Date('2026-03-02T08:00:00Z') });
}

async function criticalAlert(at: Date): Promise<void> {
  const [g] = await bed.database.db.insert(alertGroups).values({ fingerprint: 'exchange-down', source: 'exchange', severity: 'critical', title: 'down', firstAt: at, lastAt: at }).returning();
  await bed.database.db.insert(alertEvents).values({ groupId: g!.id, at, source: 'exchange', severity: 'critical', title: 'down' });
}

const request = (harness: ModeHarness) => openLiveRequest(harness.ctx, harness.ctx.liveSwitch, { actor: slackActor(OPERATOR_APPROVER), reason: 'criteria met' });
const storedThresholds = async () => (await bed.database.db.select({ thresholds: auditRuns.thresholds }).from(auditRuns)).map((r) => r.thresholds);

describe('/mode live and the go-live gate policy', () => {
  it('refuses when the requesting process sets a looser GOLIVE_ALERT_WINDOW than the policy, judging by the policy and saying the override was ignored', async () => {
    await enginePolicy();
    const harness = await requestHandler({ ...ENGINE_ENV, GOLIVE_ALERT_WINDOW: '1m' });
    await criticalAlert(new Date(harness.clock.now().getTime() - HOUR / 2));
    const result = await request(harness);
    expect(result.opened).toBe(false);
    const criteria = result.audit.checks.find((c) => c.id === 'golive.criteria')!;
    expect(criteria.status).toBe('fail');
    expect(criteria.value).toBe("1 paper trades (need ≥ 1); paper ROI 0.04% (need > -100%, over PAPER_STARTING_BALANCE 10000: no engine has funded the paper account yet); 1 critical alerts in 1h (need 0); this environment's GOLIVE_ALERT_WINDOW=1m is looser than the gate policy's 1h and was ignored");
    expect(await storedThresholds()).toEqual([{ minPaperTrades: 1, minRoiPct: '-100', alertWindowMs: HOUR, ...DEFAULT_AUDIT_SETTINGS }]);
    expect(await bed.database.db.select().from(modeChangeRequests)).toHaveLength(0);
  });

  it('opens the request when the audit judges at the policy', async () => {
    await enginePolicy();
    const harness = await requestHandler(ENGINE_ENV);
    await criticalAlert(new Date(harness.clock.now().getTime() - 3 * HOUR));
    const result = await request(harness);
    expect(result.opened, result.audit.summary).toBe(true);
    expect(await storedThresholds()).toEqual([{ minPaperTrades: 1, minRoiPct: '-100', alertWindowMs: HOUR, ...DEFAULT_AUDIT_SETTINGS }]);
  });

  it('opens the request when the audit judges by a stricter window than the policy, and records it', async () => {
    await enginePolicy();
    const harness = await requestHandler({ ...ENGINE_ENV, GOLIVE_ALERT_WINDOW: '2h' });
    await criticalAlert(new Date(harness.clock.now().getTime() - 3 * HOUR));
    const result = await request(harness);
    expect(result.opened, result.audit.summary).toBe(true);
    expect(await storedThresholds()).toEqual([{ minPaperTrades: 1, minRoiPct: '-100', alertWindowMs: 2 * HOUR, ...DEFAULT_AUDIT_SETTINGS }]);
  });

  it('refuses an audit whose thresholds the policy was tightened past while it ran, naming the threshold and the policy', async () => {
    await enginePolicy();
    // The engine restarts with a 1d window while this process's audit runs.
    const tightened = defineCheck({
      id: 'test.engine_restarts', title: 'The engine restarts meanwhile', checklistSection: 6,
      async run() {
        await enginePolicy({ ...ENGINE_ENV, GOLIVE_ALERT_WINDOW: '1d' });
        return { status: 'pass', value: 'restarted', fix: null };
      },
    });
    const harness = await requestHandler(ENGINE_ENV, [tightened]);
    const result = await request(harness);
    expect(result.opened).toBe(false);
    expect(result.audit.summary).toMatch(/^AUDIT PASSED .*, but judged by thresholds looser than the gate policy$/);
    expect(result.audit.checks.at(-1)).toMatchObject({
      id: 'golive.policy', status: 'fail',
      value: expect.stringMatching(/judged by looser go-live thresholds than the gate policy \(recorded by the engine's process worker-host:4242 \(worker\) at 2026-03-02T08:00:00\.000Z\): GOLIVE_ALERT_WINDOW 1h where the policy has 1d\.$/),
      fix: expect.stringMatching(/^Run ctb audit again without GOLIVE_ALERT_WINDOW set/),
    });
    expect(await bed.database.db.select().from(modeChangeRequests)).toHaveLength(0);
  });
});
