// The escalation tick runs every second on every replica. A tick with nothing due is one read
// (anyDueEscalation), not a transaction that locks nothing; a due step is still taken and paged.
import { asc } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { alertPages } from '../../src/db/schema/index.js';
import { createPgliteTestDb } from '../support/db.js';
import { alertConfig, alertHarness, passEscalationTime, type AlertHarness } from '../support/alert-fixtures.js';
import { rotationOnDatabaseClock } from '../support/oncall-fixtures.js';
import { countPgliteStatements } from '../support/pglite-statements.js';

const MIN = 60_000;
let database: Database;
let h: AlertHarness;
beforeAll(async () => {
  database = await createPgliteTestDb();
  h = await alertHarness({ database, config: alertConfig(null) });
});
afterAll(async () => {
  await h?.close();
  await database?.close();
});

const pages = async () => (await database.db.select().from(alertPages).orderBy(asc(alertPages.id))).map((p) => `${p.round}.${p.step}:${p.userId}`);

describe('an idle escalation tick', () => {
  it('sends one statement when nothing is due, and pages a due step as before', async () => {
    await rotationOnDatabaseClock(database.db, ['UALICE', 'UBOB']);
    expect(await h.runtime.escalation.tick()).toBe(0); // nothing raised yet (its statement is prepared now)
    const statements = countPgliteStatements(database.db);
    try {
      for (let i = 0; i < 3; i++) expect(await h.runtime.escalation.tick()).toBe(0);
      expect(statements.count).toBe(3);
    } finally {
      statements.stop();
    }
    await h.sink.record({ source: 'engine', severity: 'critical', title: 'engine loop stopped', fingerprint: 'engine-down' });
    expect(await h.runtime.escalation.tick()).toBe(1);
    expect(await pages()).toEqual(['1.0:UALICE']);
    // Waiting for its ACK SLA, the escalation is not due: idle again.
    const waiting = countPgliteStatements(database.db);
    try {
      expect(await h.runtime.escalation.tick()).toBe(0);
      expect(waiting.count).toBe(1);
    } finally {
      waiting.stop();
    }
    await passEscalationTime(database.db, h.clock, 5 * MIN);
    expect(await h.runtime.escalation.tick()).toBe(1);
    expect(await pages()).toEqual(['1.0:UALICE', '1.1:UBOB']);
  });
});
