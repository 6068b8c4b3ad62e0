// `ctb alerts test` reads its group's deliveries to say how each channel went: the Slack one by
// `limit 1`. That row is the group's first delivery of the kind, whatever order the table holds them in.
import { describe, expect, it } from 'vitest';
import { deliveriesOfGroup } from '../../../src/db/queries/alert-tests.js';
import { alertDeliveries, alertGroups } from '../../../src/db/schema/index.js';
import { ALERT_TABLES } from '../../support/alert-fixtures.js';
import { usePostgresTestDb } from '../../support/db.js';

const database = usePostgresTestDb({ truncate: ALERT_TABLES });

describe("an alert group's deliveries", () => {
  it('come first queued first, so `limit 1` is the first delivery even when the table holds a later one before it', async () => {
    const { db } = database();
    const at = new Date('2026-03-02T10:00:00Z');
    const [group] = await db.insert(alertGroups).values({ fingerprint: 'test:order', source: 'test', severity: 'warning', title: 'order', firstAt: at, lastAt: at, test: true }).returning();
    const delivery = (id: number, kind: 'slack_sync' | 'email', lastError: string) => ({
      id, groupId: group!.id, kind, lane: kind === 'email' ? 'email' : 'slack:C0ALERTS', target: 'C0ALERTS', status: 'failed' as const, nextAttemptAt: at, createdAt: at, lastError,
    });
    // The later rows are written first: the table (and the group index, in heap order) holds them ahead.
    await db.insert(alertDeliveries).values([delivery(1002, 'slack_sync', 'second'), delivery(1004, 'email', 'second mail')]);
    await db.insert(alertDeliveries).values([delivery(1001, 'slack_sync', 'first'), delivery(1003, 'email', 'first mail')]);
    const [first] = await deliveriesOfGroup(db, { groupId: group!.id, kind: 'slack_sync', limit: 1 });
    expect(first).toMatchObject({ id: 1001, lastError: 'first' });
    expect((await deliveriesOfGroup(db, { groupId: group!.id, kind: 'email' })).map((d) => d.id)).toEqual([1003, 1004]);
  });
});
