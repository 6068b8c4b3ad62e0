// The engine lease's holder, unarmed, withdrawing a live approval bot_state still holds, on real
// PostgreSQL: recorded (paper, who, why) in one transaction with its command trail row, once however
// many replicas or restarts try, only by the holder, a halt left in force, an open live request
// withdrawn with it; and the status views reading why the mode is paper. On PGlite too (`npm start`'s
// embedded database, where the engine and the CLI share one session).
import { and, eq, gt, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { commandLog, modeChangeEvents, modeChangeRequests } from '../../../src/db/schema/index.js';
import { getBotState, updateBotState } from '../../../src/services/bot-state.js';
import { readModeStatus } from '../../../src/services/mode-status.js';
import { modeStatus } from '../../../src/services/mode/sign-off.js';
import { withdrawLiveIfUnarmed, type LeaseHolder } from '../../../src/services/mode/withdraw-unarmed-live.js';
import { renderStatus } from '../../../src/cli/commands/mode.js';
import type { Database } from '../../../src/db/client.js';
import { createTestDb, type DbKind } from '../../support/db.js';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.js';
import { holdEngineLease, modeHarness, resetModeTables, type ModeHarness } from '../../support/mode-harness.js';

const HOLDER: LeaseHolder = { holderId: 'test-engine', host: 'test-host', pid: 4242, role: 'worker' };
const REASON = /^engine test-engine on test-host took the lease without IS_LIVE at \d{4}-\d\d-\d\dT[\d:.]+Z; going live again needs \/mode live and two approvals$/;

describe.each<DbKind>(['postgres', 'pglite'])('an unarmed engine that holds the lease while bot_state says live, on %s', (kind) => {
  let database: Database;
  let slack: FakeSlack;
  let h: ModeHarness;
  let trailFrom = 0;

  beforeAll(async () => {
    database = await createTestDb(kind);
    slack = await startFakeSlack();
  });
  afterAll(async () => {
    await slack.close();
    await database.close();
  });
  beforeEach(async () => {
    await resetModeTables(database.db);
    // command_log is append-only: each test reads the rows written after its start.
    trailFrom = (await database.db.select({ id: sql<number>`coalesce(max(${commandLog.id}), 0)::int` }).from(commandLog))[0]!.id;
    h = await modeHarness({ database, slack, env: { IS_LIVE: 'false' } });
    // The lease as an engine started without IS_LIVE holds it.
    await holdEngineLease(database.db, 'kraken', 0, false);
    await updateBotState(database.db, h.clock, { mode: 'live' });
  });
  afterEach(async () => {
    await h.ctx.close();
  });

  const withdraw = (holder = HOLDER, harness = h) => withdrawLiveIfUnarmed(harness.ctx, harness.ctx.liveSwitch, holder);
  const requests = () => database.db.select().from(modeChangeRequests);
  const trail = () => database.db.select().from(commandLog).where(and(eq(commandLog.actor, 'system:engine-lease'), gt(commandLog.id, trailFrom)));

  it('switches to paper with who and why, in one transaction with its trail row, and raises one critical alert', async () => {
    const done = await withdraw();
    expect(done).toMatchObject({ reason: expect.stringMatching(REASON), withdrawn: [], halted: false });
    expect((await getBotState(database.db)).mode).toBe('paper');
    const [request] = await requests();
    expect(request).toMatchObject({
      id: done!.request.id, fromMode: 'live', toMode: 'paper', status: 'switched', requester: 'system:engine-lease', requesterSource: 'system',
      reason: done!.reason, outcome: `live approval withdrawn by system:engine-lease: ${done!.reason}`,
    });
    expect(await database.db.select().from(modeChangeEvents).where(eq(modeChangeEvents.requestId, request!.id))).toEqual([
      expect.objectContaining({ kind: 'switched', actor: 'system:engine-lease', details: { from: 'live', to: 'paper', reason: done!.reason } }),
    ]);
    expect(await trail()).toEqual([expect.objectContaining({
      source: 'system', command: 'mode paper', allowed: true, result: `live approval withdrawn: ${done!.reason}`,
      details: { requestId: request!.id, holderId: 'test-engine', host: 'test-host', pid: 4242, role: 'worker', withdrawnRequests: [], halted: false },
    })]);
    expect(h.alerts).toEqual([expect.objectContaining({
      source: 'mode', severity: 'critical', fingerprint: 'mode-live-withdrawn-unarmed',
      title: 'Live approval withdrawn: the engine test-host:4242 (worker) took the lease without IS_LIVE; trading PAPER',
    })]);
  });

  it('withdraws once: again after a restart, or from two replicas at once, it finds paper and does nothing', async () => {
    const both = await Promise.all([withdraw(), withdraw()]);
    expect(both.filter((d) => d !== null)).toHaveLength(1);
    expect(await withdraw()).toBeNull();
    expect(await requests()).toHaveLength(1);
    expect(await trail()).toHaveLength(1);
    expect(h.alerts).toHaveLength(1);
  });

  it('withdraws nothing in a process that does not hold the lease: a standby worker, a web replica', async () => {
    expect(await withdraw({ holderId: 'standby:7:aaaaaaaa', host: 'worker-2', pid: 7, role: 'worker' })).toBeNull();
    expect((await getBotState(database.db)).mode).toBe('live');
    expect(await requests()).toEqual([]);
    expect(await trail()).toEqual([]);
    expect(h.alerts).toEqual([]);
  });

  it('withdraws nothing when this process is armed', async () => {
    const armed = await modeHarness({ database, slack });
    try {
      expect(await withdraw(HOLDER, armed)).toBeNull();
      expect((await getBotState(database.db)).mode).toBe('live');
      expect(armed.alerts).toEqual([]);
    } finally {
      await armed.ctx.close();
    }
  });

  it('leaves a halt in force as it is', async () => {
    await updateBotState(database.db, h.clock, { halted: true, haltedReason: 'drill', haltedBy: 'UOPER0001', haltedAt: new Date('2026-03-02T08:00:00Z') });
    expect(await withdraw()).toMatchObject({ halted: true });
    expect(await getBotState(database.db)).toMatchObject({ mode: 'paper', halted: true, haltedReason: 'drill', haltedBy: 'UOPER0001' });
  });

  it('withdraws an open live request with the approval', async () => {
    const now = new Date();
    const [open] = await database.db.insert(modeChangeRequests).values({
      requester: 'UAPPR0001', requesterSource: 'slack', fromMode: 'paper', toMode: 'live', status: 'requested', createdAt: now, expiresAt: new Date(now.getTime() + 30 * 60_000),
    }).returning();
    const done = await withdraw();
    expect(done!.withdrawn).toEqual([open!.id]);
    const [after] = await database.db.select().from(modeChangeRequests).where(eq(modeChangeRequests.id, open!.id));
    expect(after).toMatchObject({ status: 'withdrawn', decidedBy: 'system:engine-lease', outcome: `withdrawn: the live approval was withdrawn (${done!.reason})` });
  });

  it('leaves an open request alone while bot_state says paper: the live switch refuses an unarmed engine itself', async () => {
    await updateBotState(database.db, h.clock, { mode: 'paper' });
    const now = new Date();
    await database.db.insert(modeChangeRequests).values({
      requester: 'UAPPR0001', requesterSource: 'slack', fromMode: 'paper', toMode: 'live', status: 'requested', createdAt: now, expiresAt: new Date(now.getTime() + 30 * 60_000),
    });
    expect(await withdraw()).toBeNull();
    expect((await requests()).map((r) => r.status)).toEqual(['requested']);
  });

  it('is what the status views say while the mode is paper, until a later switch', async () => {
    const done = await withdraw();
    const expected = { requestId: done!.request.id, by: 'system:engine-lease', reason: done!.reason, at: done!.request.decidedAt!.toISOString() };
    expect((await readModeStatus(h.ctx)).liveWithdrawn).toEqual(expected);
    const cli = await modeStatus(h.ctx);
    expect(cli.liveWithdrawn).toEqual(expected);
    expect(renderStatus({ ok: true, ...cli }).split('\n')[0]).toBe(`mode: PAPER — live approval withdrawn (#${done!.request.id}): ${done!.reason}`);

    // An operator's later rollback (say, after a live switch) is the last change: the withdrawal no longer explains the mode.
    await updateBotState(database.db, h.clock, { mode: 'live' });
    const now = new Date();
    await database.db.insert(modeChangeRequests).values({
      requester: 'cli:ops', requesterSource: 'cli', fromMode: 'live', toMode: 'paper', status: 'switched', createdAt: now, expiresAt: now, decidedAt: now, decidedBy: 'cli:ops',
    });
    await updateBotState(database.db, h.clock, { mode: 'paper' });
    expect((await readModeStatus(h.ctx)).liveWithdrawn).toBeNull();
    expect((await modeStatus(h.ctx)).liveWithdrawn).toBeNull();
  });
});
