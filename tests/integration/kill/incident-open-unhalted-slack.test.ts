// An incident left open on a bot that is not halted (its halt lifted without a resume): the Slack
// incident message says so and what closes it, as `ctb incident` does, when a tick redraws it (the
// incident read with bot_state). On both databases. The redraw a lift of the halt makes, through the
// running bot's halt watcher, is in kill-slack.test.ts.
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { readIncident } from '../../../commands/incident-show.js';
import { ManualClock } from '../../../src/clock.js';
import { execute } from '../../../src/db/client.js';
import { incidents } from '../../../src/db/schema/index.js';
import { persistKill } from '../../../src/services/kill/persist-kill.js';
import { renderIncident } from '../../../src/slack/views/kill.js';
import { useTestDb, type DbKind } from '../../support/db.js';

const SAID = 'still open although the bot is not halted: `/mode resume` (`ctb resume` in a terminal) closes it';

describe.each<DbKind>(['postgres', 'pglite'])('the Slack incident message of an incident open on a bot not halted, on %s', (kind) => {
  const database = useTestDb(kind, { truncate: ['incident_checklist_items', 'incidents', 'kill_replays', 'bot_state'] });

  async function openUnhalted(): Promise<number> {
    const { db } = database();
    const { incident } = await persistKill(db, { killId: 'k1', at: new Date('2026-01-05T10:00:00Z'), actor: 'cli:ops', trigger: 'manual', reason: 'drill', cancelReport: {} });
    await db.update(incidents).set({ slackChannel: 'C-OPS', slackTs: '1.2' });
    return incident.id;
  }

  it('says it when a tick redraws the message, and not while the bot is halted', async () => {
    const { db } = database();
    const id = await openUnhalted();
    const ctx = { db, clock: new ManualClock('2026-01-05T11:00:00Z') };
    const halted = (await readIncident(ctx, undefined))!;
    expect(JSON.stringify(renderIncident(halted.incident, halted.items, { botHalted: halted.botHalted }).blocks)).not.toContain('although the bot is not halted');
    await execute(db, sql`update bot_state set halted = false, halted_by = null, halted_reason = null, halted_at = null where id = 1`);
    const view = (await readIncident(ctx, undefined))!;
    expect(view.botHalted).toBe(false);
    expect(JSON.stringify(renderIncident(view.incident, view.items, { botHalted: view.botHalted }).blocks)).toContain(`Incident #${id} is ${SAID}`);
  });
});
