// The live switch's audit judges the engine's recorded go-live policy — its SLACK_APPROVERS, alert
// channels, pre-trade limits, log scan — only when the process that recorded it holds the engine
// lease now and runs: a record left by an engine that stopped says nothing of the engine that would
// trade live. An operator's audit still reads the record, saying whose it is.
import { describe, expect, it } from 'vitest';
import { testConfig } from '../../../src/config/env.js';
import { acquireLease } from '../../../src/db/queries/engine-lease.js';
import { engineLease } from '../../../src/db/schema/index.js';
import { alertingCheck } from '../../../src/services/audit/checks/alerting.js';
import { approversCheck } from '../../../src/services/audit/checks/approvers.js';
import { preTradeGateCheck } from '../../../src/services/audit/checks/pre-trade-gate.js';
import { recordGatePolicy } from '../../../src/services/audit/gate-policy.js';
import { runAudit } from '../../../src/services/audit/run-audit.js';
import { useLiveGateBed } from '../../support/live-gate-bed.js';
import { APPROVERS, OPERATOR_APPROVER, slackActor } from '../../support/mode-harness.js';

const ENGINE = 'worker-host:4242 (worker)';
const RECORDED_AT = new Date('2026-03-02T08:00:00Z');
const WHOSE = `recorded by the engine's process ${ENGINE} at ${RECORDED_AT.toISOString()}`;

const bed = useLiveGateBed();

async function holdsLease(host: string, pid: number): Promise<void> {
  await bed.database.db.delete(engineLease);
  await acquireLease(bed.database.db, { holderId: `${host}-${pid}`, host, pid, role: 'worker', feed: 'replay', armed: false, hasKrakenKeys: false }, 60_000);
}

/** An audit for `purpose`, with the lease as `lease` leaves it (after the harness, which takes one of its own). */
async function audit(purpose: 'golive' | 'check', lease: () => Promise<void>) {
  await recordGatePolicy(bed.database.db, { config: testConfig({ SLACK_APPROVERS: APPROVERS, SLACK_ALERTS_CHANNEL: 'C0ALERTS1' }), by: ENGINE, at: RECORDED_AT });
  const harness = await bed.handler({}, []);
  await lease();
  const report = await runAudit(harness.ctx, {
    actor: slackActor(OPERATOR_APPROVER), dryRun: true, cwd: harness.dirs.logs, purpose, checks: [approversCheck, alertingCheck, preTradeGateCheck],
  });
  return Object.fromEntries(report.results.map((r) => [r.id, r]));
}

describe("the live switch judges only the lease holder's recorded policy", () => {
  it('does not judge approvers, alert channels or limits recorded by an engine that stopped: another process holds the lease and has not recorded its own', async () => {
    const results = await audit('golive', () => holdsLease('other-host', 77));
    for (const id of ['mode.approvers', 'alerting.channels', 'risk.pre_trade_gate']) {
      expect(results[id], id).toMatchObject({
        status: 'fail',
        value: `not judged: the values it judges were ${WHOSE}, but the engine lease is held by other-host:77 (worker), which has not recorded its go-live policy. Going live is judged by the engine that would trade, and only its own record counts.`,
        fix: expect.stringContaining('Start the engine (ctb start) with the settings to go live with'),
      });
    }
  });

  it('does not judge them while no engine holds the lease', async () => {
    const results = await audit('golive', async () => void await bed.database.db.delete(engineLease));
    expect(results['mode.approvers']).toMatchObject({ status: 'fail', value: expect.stringContaining(`${WHOSE}, but no engine holds the engine lease now: the engine is not running.`) });
  });

  it("judges the record of the engine that holds the lease", async () => {
    const results = await audit('golive', () => holdsLease('worker-host', 4242));
    expect(results['mode.approvers']).toMatchObject({ status: 'pass', value: expect.stringContaining(`SLACK_APPROVERS of the engine's process ${ENGINE}`) });
  });

  it("an operator's audit still reads the record, saying whose it is", async () => {
    const results = await audit('check', () => holdsLease('other-host', 77));
    expect(results['mode.approvers']).toMatchObject({ status: 'pass', value: expect.stringContaining(`SLACK_APPROVERS of the engine's process ${ENGINE}`) });
  });
});
