// A kill-pending.json that cannot be read is taken as a kill, to be safe. Each damaged file is a kill
// of its own: a second one, weeks after the first was written and the bot resumed, halts and pages
// again (one id for every damaged file made the second find the first's incident and write nothing).
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createOutboxAlertSink } from '../../../src/alerts/sink.js';
import { alertEvents, botState, incidents } from '../../../src/db/schema/index.js';
import { silentLogger } from '../../../src/logger.js';
import { discardSavedKill } from '../../../src/services/kill/discard-saved-kill.js';
import { pendingKillPath, readPendingKills } from '../../../src/services/kill/pending-kill.js';
import { replayPendingKills, type ReplayDeps } from '../../../src/services/kill/replay-pending.js';
import { killTestContext, recordingDatabase, useKillTestDb } from '../../support/kill-context.js';

const kill = useKillTestDb(['kill_replays', 'incident_checklist_items', 'incidents', 'bot_state', 'alert_events', 'alert_deliveries', 'alert_groups', 'engine_requests']);

/** This process replaying saved kills with the bot's outbox sink. */
async function replayer(dataDir: string): Promise<ReplayDeps> {
  const t = await killTestContext({ database: kill.track(recordingDatabase(kill.db().url, [])), dataDir });
  kill.track({ close: () => t.ctx.close() });
  return { ...t.ctx, alerts: createOutboxAlertSink({ db: t.ctx.db, clock: t.clock, logger: silentLogger(), config: t.ctx.config }) };
}

describe('a damaged kill-pending.json', () => {
  it('each one is a kill of its own: a second damaged file, after the first was written and the bot resumed, halts and pages again', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ctb-damaged-'));
    const patient = await replayer(dataDir);
    const db = kill.db().db;
    const damage = (when: string) => {
      // The same bytes both times (a write cut short the same way): only when it was written tells them apart.
      writeFileSync(pendingKillPath(dataDir), '{"kills": [');
      utimesSync(pendingKillPath(dataDir), new Date(when), new Date(when));
    };

    damage('2026-03-01T08:00:00Z');
    const first = readPendingKills(dataDir);
    expect(first).toHaveLength(1);
    expect(readPendingKills(dataDir)).toEqual(first);
    expect(await replayPendingKills(patient)).toMatchObject({ written: [first[0]!.killId], remaining: 0 });
    expect((await db.select().from(botState))[0]).toMatchObject({ halted: true });
    // Resumed weeks later: the incident closed, the halt lifted.
    await db.update(incidents).set({ status: 'closed', closedAt: new Date(), closedBy: 'U0OPERATOR' });
    await db.update(botState).set({ halted: false });

    damage('2026-03-20T08:00:00Z');
    const second = readPendingKills(dataDir);
    expect(second[0]!.killId).not.toBe(first[0]!.killId);
    expect(await replayPendingKills(patient)).toMatchObject({ written: [second[0]!.killId], remaining: 0 });
    expect((await db.select().from(botState))[0]).toMatchObject({ halted: true });
    expect(await db.select().from(incidents)).toHaveLength(2);
    const pages = (await db.select().from(alertEvents)).filter((e) => e.source === 'kill' && e.severity === 'critical').map((e) => e.title);
    expect(pages).toEqual([expect.stringMatching(/^An unreadable pending-kill file in DATA_DIR/), expect.stringMatching(/^An unreadable pending-kill file in DATA_DIR/)]);
    expect(readPendingKills(dataDir)).toEqual([]);
    // Each made when its file was last written (not 1970): the halt says when.
    expect(first[0]!.at).toBe('2026-03-01T08:00:00.000Z');
    expect(second[0]!.at).toBe('2026-03-20T08:00:00.000Z');
  }, 120_000);

  it('is never discarded by `ctb kill saved discard`: the kills it holds are not known, whatever its stand-in is called', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ctb-damaged-'));
    writeFileSync(pendingKillPath(dataDir), '{"kills": [');
    const [standIn] = readPendingKills(dataDir);
    await expect(discardSavedKill({ DATABASE_URL: 'postgres://ctb@db-gone.internal/ctb', DATA_DIR: dataDir }, { killId: standIn!.killId, reason: 'db-gone decommissioned', by: 'cli:ops' }))
      .rejects.toMatchObject({ code: 'saved_kills_unreadable' });
    expect(readPendingKills(dataDir)).toEqual([standIn]);
  });
});
