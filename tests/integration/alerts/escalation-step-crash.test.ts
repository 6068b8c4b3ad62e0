// An escalation step records whom it paged and through which channel (the alert_pages row, the DM
// queued in the outbox, with the "Paged …" line it carries) in the one transaction that moves the ladder on:
// a process that dies in the middle of a step leaves none of it, and whichever process runs the step
// next (a replica, or this one restarted) pages and records it once — never a page queued with no
// record of it, nor a record of a page that never went out.
import { eq, sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execute } from '../../../src/db/client.js';
import { alertDeliveries, alertPages } from '../../../src/db/schema/index.js';
import { usePostgresTestDb } from '../../support/db.js';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.js';
import { rotationOnDatabaseClock } from '../../support/oncall-fixtures.js';
import { ALERT_TABLES, alertConfig, alertHarness, type AlertHarness } from '../../support/alert-fixtures.js';

const database = usePostgresTestDb({ truncate: ALERT_TABLES });
let slack: FakeSlack;
let h: AlertHarness;

beforeEach(async () => {
  slack = await startFakeSlack();
  h = await alertHarness({ database: database(), config: alertConfig(slack) });
});
afterEach(async () => {
  await execute(database().db, sql.raw('drop trigger if exists step_dies on alert_escalations; drop function if exists step_dies()'));
  await h?.close();
  await slack?.close();
});

const routes = async () => ({
  pages: (await database().db.select().from(alertPages)).map((p) => `${p.round}.${p.step}:${p.userId}`),
  dms: (await database().db.select().from(alertDeliveries).where(eq(alertDeliveries.kind, 'slack_dm'))).map((d) => d.target),
  // The "Paged …" line each page carries, said in the thread once it is delivered.
  notes: (await database().db.select().from(alertDeliveries).where(eq(alertDeliveries.kind, 'slack_dm'))).map((d) => String(d.payload['pagedNote'])).filter((t) => t.startsWith(':pager:')),
});

describe('an escalation step that dies half-way', () => {
  it('leaves no page recorded or queued; the next process to run the step pages the on-call once, and records it once', async () => {
    await rotationOnDatabaseClock(database().db, ['UALICE', 'UBOB']);
    await h.sink.record({ source: 'engine', severity: 'critical', title: 'engine loop stopped', fingerprint: 'engine-down' });
    // The step dies after it recorded and queued the page, as it moves the ladder on (the last write of the step).
    await execute(database().db, sql.raw(`create function step_dies() returns trigger language plpgsql as $$ begin raise exception 'the process died mid-step'; end $$;
      create trigger step_dies before update on alert_escalations for each row execute function step_dies()`));
    await expect(h.runtime.escalation.tick()).rejects.toMatchObject({ cause: expect.objectContaining({ message: 'the process died mid-step' }) });
    expect(await routes()).toEqual({ pages: [], dms: [], notes: [] });

    await execute(database().db, sql.raw('drop trigger step_dies on alert_escalations; drop function step_dies()'));
    // Another replica runs the step (the first one is gone), then the first one, restarted, ticks too.
    const replica = await alertHarness({ database: database(), config: alertConfig(slack), clock: h.clock });
    try {
      expect(await replica.runtime.escalation.tick()).toBe(1);
      expect(await h.runtime.escalation.tick()).toBe(0);
    } finally {
      await replica.close();
    }
    const after = await routes();
    expect(after.pages).toEqual(['1.0:UALICE']);
    expect(after.dms).toEqual(['UALICE']);
    expect(after.notes).toHaveLength(1);
    expect(after.notes[0]).toMatch(/^:pager: Paged <@UALICE> \(on-call, round 1\/\d+, step 1\/\d+; on-call\)/);
  });
});
