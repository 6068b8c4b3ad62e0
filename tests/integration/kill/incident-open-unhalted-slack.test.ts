// An incident left open on a bot that is not halted (its halt lifted without a resume): the Slack
// incident message says so and what closes it, as `ctb incident` does — when a tick redraws it (the
// incident read with bot_state) and when the engine's answer updates it (the notifier port). On both databases.
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { readIncident } from '../../../commands/incident-show.js';
import { notifiedIncidentThread } from '../../../src/app/notifier-ports.js';
import { ManualClock } from '../../../src/clock.js';
import { execute } from '../../../src/db/client.js';
import { incidents } from '../../../src/db/schema/index.js';
import type { Notification, Notifier } from '../../../src/notifications/notification.js';
import { persistKill } from '../../../src/services/kill/persist-kill.js';
import { renderNotification } from '../../../src/slack/render-notification.js';
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

  it("says it when the engine's answer updates the message through the notifier", async () => {
    const { db } = database();
    const id = await openUnhalted();
    await execute(db, sql`update bot_state set halted = false, halted_by = null, halted_reason = null, halted_at = null where id = 1`);
    const sent: Notification[] = [];
    const notifier = { carries: new Set(['incident_update', 'incident_note']), notify: async (_db: unknown, n: Notification) => { sent.push(n); return {}; } } as unknown as Notifier;
    const view = (await readIncident({ db, clock: new ManualClock() }, undefined))!;
    await notifiedIncidentThread({ db, notifier })!.update(view.incident, view.items);
    expect(sent).toHaveLength(1);
    expect(JSON.stringify(renderNotification(sent[0] as Exclude<Notification, { kind: 'alert_email' }>).blocks)).toContain(`Incident #${id} is ${SAID}`);
  });
});
