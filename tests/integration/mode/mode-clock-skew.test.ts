// Two replicas whose clocks are 10 minutes off the database's, one fast and one slow, share one live
// change request: its expiry and the moment it was approved are written and judged on the database's
// clock, so whichever replica gets a reaction or sweeps counts an approval until MODE_CHANGE_TTL (30m)
// has passed there and none after, and fails a stalled switch only once SWITCH_STALL_MS has passed.
import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { modeChangeRequests } from '../../../src/db/schema/index.js';
import { getBotState } from '../../../src/services/bot-state.js';
import { modeCheck } from '../../../src/services/audit/checks/mode.js';
import { defineCheck } from '../../../src/services/audit/types.js';
import { expireOverdueRequests } from '../../../src/services/mode/expire-requests.js';
import { openLiveRequest } from '../../../src/services/mode/open-live-request.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.js';
import {
  APPROVER_B, APPROVER_C, modeHarness, OPERATOR, passModeTime, resetModeTables, slackActor, type ModeHarness,
} from '../../support/mode-harness.js';

const MIN = 60_000;
const SKEW = 10 * MIN;
let database: TestDatabase;
let slack: FakeSlack;
let fast: ModeHarness;
let slow: ModeHarness;

/** The audit at the switch can be held, as a process stopped mid-transition would leave it. */
const held: { until: Promise<void> | null; entered: (() => void) | null } = { until: null, entered: null };
const holdable = defineCheck({
  id: 'test.holdable',
  title: 'A check the test can hold',
  checklistSection: 6,
  async run() {
    held.entered?.();
    await held.until;
    return { status: 'pass', value: '60 paper trades (needs 50)', fix: null };
  },
});

beforeAll(async () => {
  database = await createPostgresTestDb();
});
afterAll(async () => {
  await database.close();
});
beforeEach(async () => {
  await resetModeTables(database.db);
  slack = await startFakeSlack();
  held.until = null;
  held.entered = null;
  const checks = [modeCheck, holdable];
  fast = await modeHarness({ database, slack, checks, clock: new ManualClock(new Date(Date.now() + SKEW)) });
  slow = await modeHarness({ database, slack, checks, clock: new ManualClock(new Date(Date.now() - SKEW)) });
});
afterEach(async () => {
  await fast?.ctx.close();
  await slow?.ctx.close();
  await slack?.close();
});

async function open(by: ModeHarness) {
  const result = await openLiveRequest(by.ctx, by.ctx.liveSwitch, { actor: slackActor(OPERATOR), reason: 'paper criteria met' });
  if (!result.opened) throw new Error(`request not opened: ${result.audit.summary}`);
  return result.request;
}

const status = async (id: number) => (await database.db.select().from(modeChangeRequests).where(eq(modeChangeRequests.id, id)))[0]!.status;

/** The request reaches quorum on `by`, whose switch then hangs in its audit until the returned release. */
async function approvedAndHeld(by: ModeHarness) {
  const request = await open(by);
  expect(await by.react(request, APPROVER_B)).toMatchObject({ kind: 'counted' });
  let release!: () => void;
  held.until = new Promise<void>((resolve) => (release = resolve));
  const entered = new Promise<void>((resolve) => (held.entered = resolve));
  const switching = by.react(request, APPROVER_C);
  await entered;
  expect(await status(request.id)).toBe('approved');
  return { request, finish: async () => (release(), switching) };
}

describe('a live change request shared by a replica 10 minutes fast and one 10 minutes slow', () => {
  it('the fast replica counts an approval 25 minutes after the slow one opened the request: not expired early', async () => {
    const request = await open(slow);
    await passModeTime(database.db, 25 * MIN);
    expect(await fast.react(request, APPROVER_B)).toMatchObject({ kind: 'counted', approvals: 1 });
    expect(await expireOverdueRequests(fast.ctx, fast.ctx.liveSwitch), 'the fast replica\'s sweep').toEqual([]);
    expect(await status(request.id)).toBe('requested');
  });

  it('the slow replica counts no approval 31 minutes after the fast one opened the request: no switch after expiry', async () => {
    const request = await open(fast);
    expect(await fast.react(request, APPROVER_B)).toMatchObject({ kind: 'counted', approvals: 1 });
    await passModeTime(database.db, 31 * MIN);
    expect(await slow.react(request, APPROVER_C)).toMatchObject({ kind: 'expired' });
    expect(await status(request.id)).toBe('expired');
    expect((await getBotState(database.db)).mode).toBe('paper');
  });

  it('the sweep expires a request when MODE_CHANGE_TTL has passed on the database, on either replica', async () => {
    const bySlow = await open(slow);
    await passModeTime(database.db, 25 * MIN);
    expect(await expireOverdueRequests(fast.ctx, fast.ctx.liveSwitch), 'fast replica, 25 of 30 minutes passed').toEqual([]);
    await passModeTime(database.db, 6 * MIN);
    expect((await expireOverdueRequests(fast.ctx, fast.ctx.liveSwitch)).map((r) => r.id)).toEqual([bySlow.id]);

    const byFast = await open(fast);
    await passModeTime(database.db, 31 * MIN);
    expect((await expireOverdueRequests(slow.ctx, slow.ctx.liveSwitch)).map((r) => r.id), 'slow replica, 31 of 30 minutes passed').toEqual([byFast.id]);
    expect(await status(byFast.id)).toBe('expired');
  });

  it('a switch the slow replica left hanging is failed by the fast one only after SWITCH_STALL_MS (15m), not 5 minutes in', async () => {
    const { request, finish } = await approvedAndHeld(slow);
    await passModeTime(database.db, 5 * MIN);
    expect(await expireOverdueRequests(fast.ctx, fast.ctx.liveSwitch), 'fast replica, 5 minutes after the approval').toEqual([]);
    expect(await status(request.id)).toBe('approved');
    await passModeTime(database.db, 11 * MIN);
    expect((await expireOverdueRequests(fast.ctx, fast.ctx.liveSwitch)).map((r) => r.id)).toEqual([request.id]);
    expect(await finish()).toMatchObject({ kind: 'quorum', switch: { switched: false, status: 'failed' } });
    expect((await getBotState(database.db)).mode).toBe('paper');
  });

  it('a switch the fast replica left hanging is failed by the slow one once SWITCH_STALL_MS has passed', async () => {
    const { request, finish } = await approvedAndHeld(fast);
    await passModeTime(database.db, 16 * MIN);
    expect((await expireOverdueRequests(slow.ctx, slow.ctx.liveSwitch)).map((r) => r.id), 'slow replica, 16 minutes after the approval').toEqual([request.id]);
    expect(await status(request.id)).toBe('failed');
    expect(await finish()).toMatchObject({ kind: 'quorum', switch: { switched: false, status: 'failed' } });
    expect((await getBotState(database.db)).mode).toBe('paper');
  });
});
