// The halt watcher's read of bot_state is older than a latch or release this process made while the
// read was out: a resume here commits, then releases; a kill here latches before it writes. Such a
// read is dropped, not applied over it. Each poll is driven by the test (no timer); the read is out
// between check() and its promise settling, and the latch changes in that window, as it did under load.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { getBotState, updateBotState } from '../../../src/services/bot-state.js';
import { startHaltWatcher, type HaltWatcher } from '../../../src/services/kill/halt-watcher.js';
import { isHaltLatched, latchHalt, releaseHalt } from '../../../src/services/kill/runtime.js';
import { testContext } from '../../support/app-context.js';
import { usePostgresTestDb } from '../../support/db.js';

const database = usePostgresTestDb();
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const done of cleanup.splice(0).reverse()) await done();
});

/** A process whose halt watcher has latched the halt bot_state records; `halts` counts what its halt listeners were told. */
async function haltedProcess() {
  const ctx = await testContext({ database: database(), env: { DATA_DIR: mkdtempSync(join(tmpdir(), 'ctb-halt-watcher-')) } });
  cleanup.push(() => ctx.close());
  await updateBotState(ctx.db, ctx.clock, { halted: true, haltedReason: 'drill', haltedAt: ctx.clock.now(), haltedBy: 'slack:UOPERATOR1' });
  const halts: string[] = [];
  ctx.kill.latch.onHalt((reason) => void halts.push(reason));
  const watcher: HaltWatcher = await startHaltWatcher(ctx, { timer: false });
  cleanup.push(() => watcher.stop());
  expect(isHaltLatched(ctx), 'the persisted halt latched at start').toBe(true);
  halts.length = 0;
  return { ctx, watcher, halts };
}

describe('the halt watcher against a latch changed in this process during its read', () => {
  it('does not latch again a halt this process lifted while a read that still saw it halted was out', async () => {
    const { ctx, watcher, halts } = await haltedProcess();
    // The poll's read went out before the resume committed (it answers halted); the resume released before it answered.
    const poll = watcher.check();
    releaseHalt(ctx);
    await poll;
    expect(isHaltLatched(ctx), 'latched again by a read older than the resume').toBe(false);
    expect(halts, 'halt listeners told (halt means cancel on Kraken)').toEqual([]);
    await updateBotState(ctx.db, ctx.clock, { halted: false });
    await watcher.check();
    expect(isHaltLatched(ctx)).toBe(false);
    expect((await getBotState(ctx.db)).halted).toBe(false);
  });

  it('does not release a kill this process latched before writing it, on a read that saw a resume elsewhere', async () => {
    const { ctx, watcher } = await haltedProcess();
    // Resumed by another process; a read of that goes out, and this process's kill latches meanwhile.
    await updateBotState(ctx.db, ctx.clock, { halted: false });
    const poll = watcher.check();
    latchHalt(ctx, 'kill: drill again');
    await poll;
    expect(isHaltLatched(ctx), 'the kill released by a read older than it').toBe(true);
    // And between polls: the next read, before the kill's halt is written, does not release it either.
    await watcher.check();
    expect(isHaltLatched(ctx)).toBe(true);

    // A kill latched between two polls, after one that saw halted, is not released by the next either.
    await updateBotState(ctx.db, ctx.clock, { halted: true, haltedReason: 'drill again' });
    await watcher.check();
    await updateBotState(ctx.db, ctx.clock, { halted: false });
    latchHalt(ctx, 'kill: a third drill');
    await watcher.check();
    expect(isHaltLatched(ctx)).toBe(true);

    // Seen halted, then lifted with nothing latched or released here in between: a resume elsewhere, followed.
    await updateBotState(ctx.db, ctx.clock, { halted: true, haltedReason: 'a third drill' });
    await watcher.check();
    await updateBotState(ctx.db, ctx.clock, { halted: false });
    await watcher.check();
    expect(isHaltLatched(ctx)).toBe(false);
  });
});
