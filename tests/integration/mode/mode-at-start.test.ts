// Safety across restarts: the mode is persisted; a database that says live in a process that is
// not armed trades paper. A web process pages nothing (it trades nothing): it warns that it cannot serve
// /mode live, naming the mode the engine trades as its lease holder has it; a process that may run the
// engine leaves it to the engine lease: it withdraws the approval once it holds the lease, not before
// (a standby behind an armed engine withdraws and raises nothing). On both database kinds.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Database } from '../../../src/db/client.js';
import { effectiveMode, getBotState, updateBotState } from '../../../src/services/bot-state.js';
import { checkModeAtStart, modeFeature } from '../../../src/app/features/mode.js';
import { createHttpServer } from '../../../src/http/server.js';
import { silentLogger } from '../../../src/logger.js';
import { createTestDb, type DbKind } from '../../support/db.js';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.js';
import { holdEngineLease, modeHarness, resetModeTables } from '../../support/mode-harness.js';

describe.each<DbKind>(['postgres', 'pglite'])('mode at start on %s', (kind) => {
  let database: Database;
  let slack: FakeSlack;
  beforeAll(async () => {
    database = await createTestDb(kind);
    slack = await startFakeSlack();
  });
  afterAll(async () => {
    await slack.close();
    await database.close();
  });

  async function start(env: Record<string, string | undefined>, role: 'all' | 'web' | 'worker' = 'all') {
    const h = await modeHarness({ database, slack, env });
    await modeFeature.start(h.ctx, createHttpServer(silentLogger()), { role, feed: 'replay' });
    const state = await getBotState(h.ctx.db);
    const venue = h.ctx.exchanges.forMode(effectiveMode(state, h.ctx.config.IS_LIVE)).venue;
    return { h, venue };
  }

  it('pages nothing from an unarmed web replica while an armed engine trades live: it warns it cannot serve /mode live, naming the engine\'s mode', async () => {
    await resetModeTables(database.db);
    await updateBotState(database.db, { now: () => new Date('2026-03-02T08:00:00Z') }, { mode: 'live' });
    const { h, venue } = await start({ IS_LIVE: 'false' }, 'web');
    expect(venue).toBe('paper');
    expect(h.alerts).toEqual([]);
    expect(h.ctx.jobs.names()).toContain('mode-change-expiry');
    expect((await getBotState(h.ctx.db)).mode).toBe('live');

    // The harness's engine holds the lease armed: the warning names it and LIVE, and advises no rollback.
    const warn = vi.spyOn(h.ctx.logger, 'warn');
    await checkModeAtStart(h.ctx, 'web');
    expect(warn).toHaveBeenCalledTimes(1);
    const [fields, line] = warn.mock.calls[0] as unknown as [Record<string, unknown>, string];
    expect(fields).toMatchObject({ storedMode: 'live', engineMode: 'live', engine: 'test-host:4242' });
    expect(line).toBe('this web replica is not armed (IS_LIVE is not true): it cannot serve /mode live or the live switch; it trades nothing itself. The database says live; the engine test-host:4242 (armed) trades LIVE');
    expect(line).not.toMatch(/mode paper|rollback|trading PAPER/);

    // An unarmed engine holding the lease trades paper: said so.
    await holdEngineLease(database.db, 'kraken', 0, false);
    await checkModeAtStart(h.ctx, 'web');
    expect(warn.mock.calls[1]![1]).toMatch(/the engine test-host:4242 \(not armed\) trades PAPER$/);
    expect(h.alerts).toEqual([]);
    warn.mockRestore();
    await h.ctx.close();
  });

  it.each(['all', 'worker'] as const)('leaves the live approval and raises nothing in an unarmed %s process until it holds the engine lease', async (role) => {
    await resetModeTables(database.db);
    await updateBotState(database.db, { now: () => new Date('2026-03-02T08:00:00Z') }, { mode: 'live' });
    const { h, venue } = await start({ IS_LIVE: 'false' }, role);
    expect(venue).toBe('paper');
    expect(h.alerts).toEqual([]);
    expect((await getBotState(h.ctx.db)).mode).toBe('live');
    await h.ctx.close();
  });

  it('keeps trading live after a restart of an armed process, without an alert', async () => {
    await resetModeTables(database.db);
    await updateBotState(database.db, { now: () => new Date('2026-03-02T08:00:00Z') }, { mode: 'live' });
    const { h, venue } = await start({});
    expect(venue).toBe('kraken');
    expect(h.alerts).toEqual([]);
    await h.ctx.close();
  });

  it('starts in paper with no alert when the database says paper', async () => {
    await resetModeTables(database.db);
    const { h, venue } = await start({ IS_LIVE: 'false' });
    expect(venue).toBe('paper');
    expect(h.alerts).toEqual([]);
    await h.ctx.close();
  });
});
