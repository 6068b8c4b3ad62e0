// The halt watcher takes a read of bot_state made elsewhere in its process (the engine-request
// runner's poll reads the row for it) as a poll: a halt in it latches, a read older than one already
// applied (here) is dropped, and while the runner polls the watcher sends no read of its own. Once the
// runner stops handing reads over, the watcher's own poll takes over: a resume elsewhere is seen.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { getBotState, updateBotState } from '../../../src/services/bot-state.js';
import { startRequestRunner } from '../../../src/services/engine-requests/runner.js';
import { startHaltWatcher } from '../../../src/services/kill/halt-watcher.js';
import { isHaltLatched } from '../../../src/services/kill/runtime.js';
import { waitUntil } from '../../support/bot-process.js';
import { testContext } from '../../support/app-context.js';
import { createPgliteTestDb, usePostgresTestDb } from '../../support/db.js';
import { ManualClock } from '../../../src/clock.js';
import { silentLogger } from '../../../src/logger.js';
import type { BotState } from '../../../src/db/schema/index.js';
import { recordingDatabase } from '../../support/kill-context.js';

const database = usePostgresTestDb({ truncate: ['engine_requests'] });
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const done of cleanup.splice(0).reverse()) await done();
});

/** A process on its own connection, each statement it sends recorded in `events`. */
async function processOnItsConnection() {
  const events: string[] = [];
  const ctx = await testContext({ database: recordingDatabase(database().url, events, 4000), env: { DATA_DIR: mkdtempSync(join(tmpdir(), 'ctb-handed-reads-')) } });
  cleanup.push(() => ctx.close());
  return { ctx, events };
}

/** The watcher's own read: bot_state alone (the runner's poll reads engine_requests with it). */
const ownRead = (e: string) => /from "bot_state"/.test(e) && !/engine_requests/.test(e);
const runnerPoll = (e: string) => /from "bot_state"/.test(e) && /engine_requests/.test(e);
const elsewhere = () => database().db;

describe('the halt watcher and reads of bot_state handed over to it', () => {
  it('latches a halt a handed-over read saw, and drops a read older than one it applied', async () => {
    const { ctx } = await processOnItsConnection();
    await updateBotState(elsewhere(), ctx.clock, { halted: false });
    const watcher = await startHaltWatcher(ctx, { timer: false });
    cleanup.push(() => watcher.stop());
    expect(isHaltLatched(ctx)).toBe(false);

    await updateBotState(elsewhere(), ctx.clock, { halted: true, haltedReason: 'drill', haltedAt: ctx.clock.now(), haltedBy: 'slack:UOPERATOR1' });
    const halted = watcher.reading();
    expect(halted, 'a read is wanted while no poll of its own is out').toBeDefined();
    await halted!(await getBotState(elsewhere()));
    expect(isHaltLatched(ctx), 'the halt in the handed-over read').toBe(true);

    // Two reads out: the older still saw halted, the newer a resume elsewhere; the newer answers first.
    const older = watcher.reading()!;
    const haltedThen = await getBotState(elsewhere());
    await updateBotState(elsewhere(), ctx.clock, { halted: false });
    const newer = watcher.reading()!;
    await newer(await getBotState(elsewhere()));
    expect(isHaltLatched(ctx), 'the resume in the newer read').toBe(false);
    await older(haltedThen);
    expect(isHaltLatched(ctx), 'latched again by a read older than the resume').toBe(false);

    // Halted again; then a read that saw a resume elsewhere answers after a newer one that saw a new kill.
    await updateBotState(elsewhere(), ctx.clock, { halted: true, haltedReason: 'drill', haltedAt: ctx.clock.now(), haltedBy: 'slack:UOPERATOR1' });
    await watcher.reading()!(await getBotState(elsewhere()));
    expect(isHaltLatched(ctx)).toBe(true);
    await updateBotState(elsewhere(), ctx.clock, { halted: false });
    const beforeTheKill = watcher.reading()!;
    const resumedThen = await getBotState(elsewhere());
    await updateBotState(elsewhere(), ctx.clock, { halted: true, haltedReason: 'drill again', haltedAt: ctx.clock.now(), haltedBy: 'slack:UOPERATOR1' });
    const afterTheKill = watcher.reading()!;
    await afterTheKill(await getBotState(elsewhere()));
    await beforeTheKill(resumedThen);
    expect(isHaltLatched(ctx), 'released by a read older than the new kill').toBe(true);
  });

  it("hands the row over from the runner's poll on the embedded database too", async () => {
    const pglite = await createPgliteTestDb();
    cleanup.push(() => pglite.close());
    const clock = new ManualClock();
    await updateBotState(pglite.db, clock, { halted: true, haltedReason: 'drill', haltedAt: clock.now(), haltedBy: 'slack:UOPERATOR1' });
    const seen: BotState[] = [];
    const runner = startRequestRunner({ db: pglite.db, clock, logger: silentLogger() }, {
      holder: 'handed-reads', timer: false, bootId: 'boot', handlers: { cancel_all: async () => ({ ok: true, summary: 'done' }) }, botStateReader: () => (state) => void seen.push(state),
    });
    cleanup.push(() => runner.stop());
    expect(await runner.drain()).toBe(0);
    await updateBotState(pglite.db, clock, { halted: false });
    expect(await runner.drain()).toBe(0);
    expect(seen.map((s) => [s.id, s.halted, s.haltedReason])).toEqual([[1, true, 'drill'], [1, false, 'drill']]);
  });

  it('sends no read of its own while the runner polls for it, and polls again once the runner stops', async () => {
    const { ctx, events } = await processOnItsConnection();
    await updateBotState(elsewhere(), ctx.clock, { halted: false });
    const watcher = await startHaltWatcher(ctx, { intervalMs: 300 });
    cleanup.push(() => watcher.stop());
    const runner = startRequestRunner(ctx, {
      holder: 'handed-reads', pollMs: 60, handlers: { cancel_all: async () => ({ ok: true, summary: 'done' }) }, botStateReader: () => watcher.reading(),
    });
    cleanup.push(() => runner.stop());
    events.length = 0;

    // Ten polls of the runner: three intervals of the watcher at least.
    await waitUntil(() => events.filter(runnerPoll).length >= 10, 30_000, () => `runner polls in:\n${events.join('\n')}`, 20);
    // A halt written elsewhere latches through the runner's read.
    await updateBotState(elsewhere(), ctx.clock, { halted: true, haltedReason: 'drill', haltedAt: ctx.clock.now(), haltedBy: 'slack:UOPERATOR1' });
    await waitUntil(() => isHaltLatched(ctx), 30_000, () => 'the halt latched', 20);
    expect(events.filter(ownRead), 'reads of its own while the runner read for it').toEqual([]);

    // The runner stops: the watcher's own poll sees a resume elsewhere.
    await runner.stop();
    await updateBotState(elsewhere(), ctx.clock, { halted: false });
    await waitUntil(() => !isHaltLatched(ctx), 30_000, () => 'the halt lifted', 20);
    expect(events.filter(ownRead).length).toBeGreaterThan(0);
  }, 60_000);
});
