// One kill saved in DATA_DIR, replayed by two processes at once (two shells' `ctb self-heal` here;
// the bot's halt watcher and a shell's self-heal in the field): both find it written, and it is
// announced once — by the process whose transaction wrote it first (kill_replays).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { execute } from '../../../src/db/client.js';
import { alertEvents, incidents, killReplays } from '../../../src/db/schema/index.js';
import { addPendingKill, readPendingKills } from '../../../src/services/kill/pending-kill.js';
import { ctbChildInShell } from '../../support/ctb-shell.js';
import { useKillTestDb, whileTableLocked } from '../../support/kill-context.js';

const kill = useKillTestDb(['kill_replays', 'incident_checklist_items', 'incidents', 'bot_state', 'alert_events', 'alert_deliveries', 'alert_groups', 'engine_requests']);

/** Sessions of the test database waiting for a lock in the kill's transaction (bot_state, incidents). */
async function waitingInKillWrite(): Promise<number> {
  const rows = await execute<{ n: number }>(kill.db().db, sql`
    select count(*)::int as n from pg_stat_activity
    where datname = current_database() and wait_event_type = 'Lock' and (query ilike '%bot_state%' or query ilike '%incidents%')`);
  return rows[0]!.n;
}

describe('a saved kill replayed by two processes at once', () => {
  it('is written once and announced once: one alert, one kill_replays row naming the process that wrote it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ctb-raced-'));
    addPendingKill(dataDir, {
      killId: 'raced-kill', at: '2026-03-02T09:59:00.000Z', actor: 'cli:ops', actorSource: 'cli', trigger: 'manual', reason: 'raced replay', cancelReport: {},
    });
    const env = { DATABASE_URL: kill.db().url, DATA_DIR: dataDir, KILL_DB_TIMEOUT: '60s' };
    const shells: Array<ReturnType<typeof ctbChildInShell>> = [];
    // incidents held locked: the first replay waits inside its transaction (bot_state locked FOR
    // UPDATE), the second on that lock — both have read the saved kill before either writes it.
    await whileTableLocked(kill.db().url, 'incidents', async () => {
      shells.push(ctbChildInShell(['self-heal', '--attempts', '1'], env), ctbChildInShell(['self-heal', '--attempts', '1'], env));
      const deadline = Date.now() + 60_000;
      while ((await waitingInKillWrite()) < 2) {
        if (Date.now() > deadline) throw new Error(`the two replays never met in the kill's write:\n${shells.map((s) => s.stderr()).join('\n')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    });
    for (const shell of shells) await shell.exited;
    const db = kill.db().db;
    expect(await db.select().from(incidents)).toHaveLength(1);
    expect(readPendingKills(dataDir)).toEqual([]);
    const announced = (await db.select().from(alertEvents)).filter((e) => e.source === 'kill' && e.title.startsWith('A kill saved in DATA_DIR'));
    expect(announced, shells.map((s) => s.stdout()).join('\n')).toHaveLength(1);
    const replays = await db.select().from(killReplays);
    expect(replays).toEqual([expect.objectContaining({ killId: 'raced-kill', replayedBy: expect.stringMatching(/:\d+$/) })]);
  }, 180_000);
});
