// The engine lease's holder, unarmed, withdrawing a live approval bot_state still holds, on real
// PostgreSQL: recorded (paper, who, why) in one transaction with its command trail row, once however
// many replicas or restarts try, only by the holder, a halt left in force, an open live request
// withdrawn with it; and the status views reading why the mode is paper. On PGlite too (`npm start`'s
// embedded database, where the engine and the CLI share one session).
import { and, eq, gt, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { commandLog, modeChangeEvents, modeChangeRequests } from '../../../src/db/schema/index.js';
import { getBotState, updateBotState } from '../../../src/services/bot-state.js';
import { readModeStatus } from '../../../src/services/mode-status.js';
import { modeStatus } from '../../../src/services/mode/sign-off.js';
import { withdrawLiveIfUnarmed, withdrawLiveUntilDone, type LeaseHolder } from '../../../src/services/mode/withdraw-unarmed-live.js';
import { renderStatus } from '../../../src/cli/commands/mode.js';
import { renderModeStatus } from '../../../src/slack/views/mode-status.js';
import { switchToPaper } from '../../../src/services/mode/switch-to-paper.js';
import { trades } from '../../../src/db/schema/index.js';
import { insertTrade } from '../../support/trade-rows.js';
import { alertGroups } from '../../../src/db/schema/index.js';
import { createOutboxAlertSink } from '../../../src/alerts/sink.js';
import { silentLogger } from '../../../src/logger.js';
import { RECONCILIATION_ACTOR } from '../../../src/services/reconcile/start/run.js';
import type { Database } from '../../../src/db/client.js';
import { createTestDb, type DbKind } from '../../support/db.js';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.js';
import { modeHarness, unarmedEngineWhileLive, type ModeHarness } from '../../support/mode-harness.js';

const HOLDER: LeaseHolder = { holderId: 'test-engine', host: 'test-host', pid: 4242, role: 'worker' };
const REASON = /^engine test-engine took the lease without IS_LIVE at \d{4}-\d\d-\d\dT[\d:.]+Z; going live again needs \/mode live and two approvals$/;

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
    // command_log is append-only: each test reads the rows written after its start.
    trailFrom = (await database.db.select({ id: sql<number>`coalesce(max(${commandLog.id}), 0)::int` }).from(commandLog))[0]!.id;
    h = await unarmedEngineWhileLive(database, slack);
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
      details: { requestId: request!.id, holderId: 'test-engine', host: 'test-host', pid: 4242, role: 'worker', withdrawnRequests: [], halted: false, openLivePositions: [] },
    })]);
    expect(h.alerts).toEqual([expect.objectContaining({
      source: 'mode', severity: 'critical', fingerprint: 'mode-live-withdrawn-unarmed',
      title: 'Live approval withdrawn: the engine test-host:4242 (worker) took the lease without IS_LIVE; trading PAPER',
    })]);
  });

  describe('with the alert outbox', () => {
    const sink = () => createOutboxAlertSink({ db: database.db, clock: h.clock, logger: silentLogger(), config: h.ctx.config });
    const stored = () => database.db.select().from(alertGroups).where(eq(alertGroups.fingerprint, 'mode-live-withdrawn-unarmed'));
    beforeEach(async () => {
      await database.db.delete(alertGroups);
    });

    it('stores its alert in the transaction that switches: a write that fails after the commit cannot lose the page', async () => {
      // raise() (after the commit) is refused, as when the database drops just then: the alert was stored with the switch.
      const alerts = { ...sink(), raise: () => Promise.reject(new Error('connection lost')) };
      const done = await withdrawLiveIfUnarmed({ ...h.ctx, alerts }, h.ctx.liveSwitch, HOLDER);
      expect(done).not.toBeNull();
      expect(await stored()).toEqual([expect.objectContaining({ severity: 'critical', status: 'open' })]);
    });

    it('is one transaction: an alert that cannot be stored leaves bot_state live, with no switch and no trail row', async () => {
      const alerts = { ...sink(), raiseWithin: () => Promise.reject(new Error('outbox refused')) };
      await expect(withdrawLiveIfUnarmed({ ...h.ctx, alerts }, h.ctx.liveSwitch, HOLDER)).rejects.toThrow('outbox refused');
      expect((await getBotState(database.db)).mode).toBe('live');
      expect(await requests()).toEqual([]);
      expect(await trail()).toEqual([]);
      expect(await stored()).toEqual([]);
      // Tried again (withdrawLiveUntilDone), it withdraws once, with its alert.
      expect(await withdrawLiveIfUnarmed({ ...h.ctx, alerts: sink() }, h.ctx.liveSwitch, HOLDER)).not.toBeNull();
      expect(await trail()).toHaveLength(1);
      expect(await stored()).toHaveLength(1);
    });
  });

  it("is resolved once an armed engine takes the lease, not before: the link it reported broken is mended", async () => {
    await database.db.delete(alertGroups);
    const alerts = createOutboxAlertSink({ db: database.db, clock: h.clock, logger: silentLogger(), config: h.ctx.config });
    const stored = () => database.db.select().from(alertGroups).where(eq(alertGroups.fingerprint, 'mode-live-withdrawn-unarmed'));
    const signal = new AbortController().signal;
    expect(await withdrawLiveUntilDone({ ...h.ctx, alerts }, h.ctx.liveSwitch, HOLDER, { signal })).not.toBeNull();
    // Another unarmed holder (a restart without IS_LIVE) finds paper: the group stays open.
    await withdrawLiveUntilDone({ ...h.ctx, alerts }, h.ctx.liveSwitch, { ...HOLDER, holderId: 'test-engine-2' }, { signal });
    expect(await stored()).toEqual([expect.objectContaining({ status: 'open' })]);
    const armed = { ...h.ctx, alerts, config: { ...h.ctx.config, IS_LIVE: true } };
    expect(await withdrawLiveUntilDone(armed, h.ctx.liveSwitch, { ...HOLDER, holderId: 'armed-engine', host: 'armed-host', pid: 99 }, { signal })).toBeNull();
    // Waited for up to KILL_DB_TIMEOUT only (a loaded machine may pass it): past it the resolve goes on by itself.
    await vi.waitFor(async () => expect(await stored()).toEqual([expect.objectContaining({ status: 'resolved', resolvedBy: 'system:engine-lease' })]), { timeout: 20_000, interval: 50 });
    // The mode stays as recorded: going live again is still /mode live and two approvals.
    expect((await getBotState(database.db)).mode).toBe('paper');
  });

  it('after taking over from a dead engine, holds its live work for reconciliation: halted and blocked, as an armed takeover is', async () => {
    const done = await withdraw({ ...HOLDER, takenOverFrom: 'dead-host:77:ab' });
    expect(done).toMatchObject({ halted: true, heldForReconciliation: true });
    expect(await getBotState(database.db)).toMatchObject({
      mode: 'paper', halted: true, haltedReason: 'reconciliation', haltedBy: RECONCILIATION_ACTOR, reconciliationBlocked: true,
      reconciliationDetails: expect.objectContaining({ cause: 'takeover', pending: true, takenOverFrom: 'dead-host:77:ab' }),
    });
    expect(h.alerts[0]!.details).toMatchObject({ takenOverFrom: 'dead-host:77:ab', heldForReconciliation: expect.stringMatching(/halted until reconciliation with Kraken passes/) });
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

  it('names the open live positions it leaves on Kraken, and the ways out, in its alert and in the status views', async () => {
    await database.db.delete(trades);
    const a = await insertTrade(database.db, { mode: 'live', symbol: 'BTC/USD', quantity: '0.50000000' });
    const b = await insertTrade(database.db, { mode: 'live', symbol: 'ETH/USD', quantity: '2' });
    await insertTrade(database.db, { mode: 'paper', symbol: 'SOL/USD' });
    const done = await withdraw();
    const left = `2 open live positions left on Kraken (#${a.id} BTC/USD 0.5, #${b.id} ETH/USD 2): the paper engine neither loads nor sells them. `
      + 'Ways out: sell them by hand on Kraken, or with `ctb kill --flatten` once the engine runs armed (IS_LIVE=true with its Kraken keys: an unarmed engine sells nothing live; it also halts trading), or trade live again (the engine armed with IS_LIVE=true, then /mode live and two approvals).';
    expect(done!.liveLeftOpen).toEqual({ count: 2, positions: [`#${a.id} BTC/USD 0.5`, `#${b.id} ETH/USD 2`] });
    expect(h.alerts[0]!.details).toMatchObject({ liveLeftOpen: left, fix: expect.stringMatching(/^2 open live positions left on Kraken .* Acknowledge or resolve this alert once handled: then it is not counted against the go-live criteria/) });
    // The status read holds the lease as this engine's: running, unarmed, so the engine trades paper.
    const status = await readModeStatus(h.ctx);
    expect(status.liveLeftOpen).toEqual(done!.liveLeftOpen);
    expect(JSON.stringify(renderModeStatus({ ok: true, ...status, openRequest: null }).blocks)).toContain('left on Kraken');
    const cli = await modeStatus(h.ctx);
    expect(renderStatus({ ok: true, ...cli }).split('\n')[1]).toBe(`live positions: ${left}`);
    await database.db.delete(trades);
  });

  it("says the same of the open live positions after an operator's own /mode paper", async () => {
    await database.db.delete(trades);
    const a = await insertTrade(database.db, { mode: 'live', symbol: 'BTC/USD', quantity: '0.25' });
    await switchToPaper(h.ctx, h.ctx.liveSwitch, { actor: { id: 'cli:ops', source: 'cli' } });
    const cli = await modeStatus(h.ctx);
    expect(cli.liveWithdrawn).toBeNull();
    expect(renderStatus({ ok: true, ...cli }).split('\n')[1]).toMatch(new RegExp(`^live positions: 1 open live position left on Kraken \\(#${a.id} BTC/USD 0\\.25\\): the paper engine neither loads nor sells them\\. Ways out: sell them by hand on Kraken, or with \`ctb kill --flatten\` once the engine runs armed`));
    expect((await readModeStatus(h.ctx)).liveLeftOpen).toEqual({ count: 1, positions: [`#${a.id} BTC/USD 0.25`] });
    await database.db.delete(trades);
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
