// Who may approve a live switch is the engine's recorded SLACK_APPROVERS — the list the go-live
// audit judges — not the SLACK_APPROVERS of the process that receives the reactions (a web replica
// started with another list). Driven through the service, as the web process runs it, on real
// PostgreSQL with the engine's gate policy stored as its process records it.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { golivePolicy } from '../../../src/db/schema/index.js';
import { isAppError } from '../../../src/errors.js';
import { getBotState } from '../../../src/services/bot-state.js';
import { recordGatePolicy } from '../../../src/services/audit/gate-policy.js';
import { openLiveRequest } from '../../../src/services/mode/open-live-request.js';
import { modeStatus } from '../../../src/services/mode/sign-off.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { startFakeKraken, type FakeKraken } from '../../support/fake-kraken.js';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.js';
import { APPROVER_B, APPROVER_C, modeHarness, OPERATOR, OPERATOR_APPROVER, resetModeTables, slackActor, type ModeHarness } from '../../support/mode-harness.js';

/** Listed by the engine's process only. */
const ENGINE_APPROVER = 'UENGA0009';

let database: TestDatabase;
let slack: FakeSlack;
let kraken: FakeKraken;
let h: ModeHarness;

beforeAll(async () => {
  database = await createPostgresTestDb();
  kraken = await startFakeKraken();
});

afterAll(async () => {
  await kraken.close();
  await database.close();
});

beforeEach(async () => {
  await resetModeTables(database.db);
  await database.db.delete(golivePolicy);
  slack = await startFakeSlack();
  // The web process: SLACK_APPROVERS = OPERATOR_APPROVER, APPROVER_B, APPROVER_C (modeEnv).
  h = await modeHarness({ database, slack, kraken });
});

afterEach(async () => {
  await h.ctx.close();
  await slack.close();
});

/** The engine's process records its gate policy, listing `approvers` as its SLACK_APPROVERS. */
async function engineRecords(approvers: string[]): Promise<string> {
  const at = new Date('2026-03-02T08:00:00.000Z');
  await recordGatePolicy(h.ctx.db, {
    config: { ...h.ctx.config, SLACK_APPROVERS: approvers }, strategies: { file: '/srv/ctb/strategies.json', sha256: 'a'.repeat(64) },
    by: 'engine-host:77 (worker)', at,
  });
  return `SLACK_APPROVERS of the engine's process engine-host:77 (worker), recorded at ${at.toISOString()}`;
}

async function open(requester = OPERATOR) {
  const result = await openLiveRequest(h.ctx, h.ctx.liveSwitch, { actor: slackActor(requester), reason: 'paper criteria met' });
  if (!result.opened) throw new Error(`request not opened: ${result.audit.summary}`);
  return result.request;
}

describe('approving a live switch in a process whose SLACK_APPROVERS differ from the engine\'s', () => {
  it('counts only the approvers the engine recorded, never one listed by this process alone', async () => {
    const whose = await engineRecords([OPERATOR_APPROVER, APPROVER_B, ENGINE_APPROVER]);
    const request = await open();
    expect(await h.react(request, APPROVER_B)).toMatchObject({ kind: 'counted', approvals: 1 });
    expect(await h.react(request, APPROVER_C)).toMatchObject({
      kind: 'ignored', reason: `not an approver (${whose}; this process's own SLACK_APPROVERS are not used)`,
    });
    expect((await getBotState(h.ctx.db)).mode).toBe('paper');
    expect(await modeStatus(h.ctx)).toMatchObject({ approvers: [OPERATOR_APPROVER, APPROVER_B, ENGINE_APPROVER], openRequest: { standingApprovals: 1 } });
    expect(await h.react(request, ENGINE_APPROVER)).toMatchObject({ kind: 'quorum', switch: { switched: true } });
  });

  it('refuses to open a request when the engine\'s list has too few approvers, though this process lists enough', async () => {
    const whose = await engineRecords([OPERATOR_APPROVER, APPROVER_B]);
    const err = await open(OPERATOR_APPROVER).catch((e: unknown) => e);
    expect(isAppError(err, 'config') && err.code).toBe('not_enough_approvers');
    expect((err as Error).message).toBe(`A live switch needs 2 approvers other than the requester; ${whose} lists 1.`);
    expect((err as Error & { hint: string }).hint).toContain("in the engine's environment and restart the engine (ctb start)");
  });
});
