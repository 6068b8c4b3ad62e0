// The kill's saved copy in DATA_DIR waits on the saved kills' lock when another process holds it
// (up to 5 s): the halt's write to the database never waits behind it.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { getBotState } from '../../../src/services/bot-state.js';
import { executeKill } from '../../../src/services/kill/kill.js';
import { pendingKillLockPath } from '../../../src/services/kill/pending-kill-lock.js';
import { pendingKillPath } from '../../../src/services/kill/pending-kill.js';
import { killTestContext, recordingDatabase, useKillTestDb } from '../../support/kill-context.js';

const kill = useKillTestDb(['incident_checklist_items', 'incidents', 'bot_state', 'order_intents', 'engine_requests']);

afterEach(() => {
  vi.restoreAllMocks();
});

describe('kill while another process holds the saved kills\' lock', () => {
  it('writes the halt to the database while the lock is still held; its copy is saved and dropped once the lock goes', async () => {
    const database = kill.track(recordingDatabase(kill.db().url, []));
    const t = await killTestContext({ database, keys: true });
    kill.track(t.ctx);
    // A live process on this host (the one that started this test) holds the lock.
    const lock = pendingKillLockPath(t.dataDir);
    writeFileSync(lock, JSON.stringify({ host: hostname(), pid: process.ppid, since: new Date().toISOString(), token: 'held-elsewhere' }));
    const events: string[] = [];
    vi.spyOn(t.ctx.logger, 'error').mockImplementation(((...args: unknown[]) => void events.push(`error: ${String(args.find((a) => typeof a === 'string'))}`)) as never);
    t.ctx.kill.onHaltRecorded = () => {
      events.push(existsSync(lock) ? 'halt recorded, lock still held' : 'halt recorded after the lock went');
      // The holder lets go once the halt is in: the kill's copy is saved then (and dropped).
      rmSync(lock);
    };

    const result = await executeKill(t.ctx, { actor: { id: 'cli:ops', source: 'cli' }, reason: 'lock held', trigger: 'manual' });

    expect(events).toEqual(['halt recorded, lock still held']);
    expect(result.state).toBe('written');
    expect(await getBotState(kill.db().db)).toMatchObject({ halted: true, haltedReason: 'lock held' });
    // Dropped after it was saved, before the kill answered: nothing is left to replay.
    expect(existsSync(pendingKillPath(t.dataDir))).toBe(false);
    expect(existsSync(lock)).toBe(false);
  });
});
