// A request the expiry sweep closed is announced (a reply in its Slack thread, an alert) once, even
// when the sweep fails after the closing committed and before it announced: the sweep used to commit
// every closing first and announce after, so a failure in between (the database going away under the
// next request's closing, as in the bot's start) lost the announcement — the sweep run again found
// nothing left to close. The announcement is now marked pending in the closing's own transaction.
import { sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertInput, AlertSink } from '../../../src/alerts/types.js';
import { modeChangeEvents, modeChangeRequests } from '../../../src/db/schema/index.js';
import { ANNOUNCE_CLAIM_STALE_MS } from '../../../src/services/mode/announce-pending.js';
import { expireOverdueRequests } from '../../../src/services/mode/expire-requests.js';
import type { LiveSwitchPorts, OutcomeAnnouncement } from '../../../src/services/mode/ports.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { resetModeTables } from '../../support/mode-harness.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createPostgresTestDb();
});
afterAll(async () => {
  await database.close();
});

describe('the expiry sweep, failing between a closing and its announcement', () => {
  it('announces each expired request once: after the failure, when run again, and never a second time', async () => {
    const alerts: AlertInput[] = [];
    const posts: Array<{ ts: string; view: OutcomeAnnouncement }> = [];
    const ctx = { db: database.db, logger: pino({ level: 'silent' }), alerts: { raise: async (a: AlertInput) => void alerts.push(a) } as AlertSink };
    const refused = async () => { throw new Error('not used by the expiry sweep'); };
    const ports: LiveSwitchPorts = {
      gate: refused, snapshot: refused, reactions: { read: refused },
      announcer: { available: true, postRequest: refused, postNotice: refused, postInThread: async (_channel, ts, view) => void posts.push({ ts, view }) },
    };
    // Two open at once: one to each mode (one open request per target mode).
    const overdue = (ts: string, toMode: 'live' | 'paper') => ({
      requester: 'UOPER0001', requesterSource: 'slack' as const, fromMode: toMode === 'live' ? 'paper' as const : 'live' as const, toMode, slackChannel: 'COPS00001', slackTs: ts,
      createdAt: sql`now() - interval '40 minutes'`, expiresAt: sql`now() - interval '10 minutes'`,
    });
    const requests = await database.db.insert(modeChangeRequests).values([overdue('1800000000.000001', 'live'), overdue('1800000000.000002', 'paper')]).returning();
    // The second closing fails (whichever request the sweep takes first), after the first committed.
    await database.db.execute(sql.raw(`
      create function ctb_t_refuse_second_expiry() returns trigger language plpgsql as $$ begin
        if new.kind = 'expired' and exists (select 1 from mode_change_events where kind = 'expired') then raise exception 'the second closing fails'; end if;
        return new; end $$;
      create trigger ctb_t_refuse_second_expiry before insert on mode_change_events for each row execute function ctb_t_refuse_second_expiry();`));
    try {
      await expect(expireOverdueRequests(ctx, ports)).rejects.toThrow(/the second closing fails|Failed query/);
    } finally {
      await database.db.execute(sql.raw('drop trigger ctb_t_refuse_second_expiry on mode_change_events; drop function ctb_t_refuse_second_expiry();'));
    }
    const statuses = (await database.db.select().from(modeChangeRequests)).map((r) => r.status).sort();
    expect(statuses).toEqual(['expired', 'requested']);

    // Run again (the next tick, or the part's start once the database answers): both announced, once each.
    await expireOverdueRequests(ctx, ports);
    await expireOverdueRequests(ctx, ports);
    expect(posts.map((p) => p.ts).sort()).toEqual(['1800000000.000001', '1800000000.000002']);
    expect(posts.every((p) => p.view.status === 'expired')).toBe(true);
    expect(alerts.map((a) => a.fingerprint).sort()).toEqual(requests.map((r) => `mode-request-${r.id}`).sort());
  });

  it('leaves a claim another process holds, and takes over one left stale by a process that stopped before announcing', async () => {
    await resetModeTables(database.db);
    const posts: string[] = [];
    const refused = async () => { throw new Error('not used by the expiry sweep'); };
    const ctx = { db: database.db, logger: pino({ level: 'silent' }), alerts: { raise: async () => undefined } as AlertSink };
    const ports: LiveSwitchPorts = {
      gate: refused, snapshot: refused, reactions: { read: refused },
      announcer: { available: true, postRequest: refused, postNotice: refused, postInThread: async (_channel, ts) => void posts.push(ts) },
    };
    // Two requests closed by the sweep of processes that claimed their announcement: one claim just now
    // (its process is announcing), one older than a claim lasts (its process stopped before announcing).
    const closed = (ts: string, toMode: 'live' | 'paper') => ({
      requester: 'UOPER0001', requesterSource: 'slack' as const, fromMode: toMode === 'live' ? 'paper' as const : 'live' as const, toMode, slackChannel: 'COPS00001', slackTs: ts,
      status: 'expired' as const, decidedBy: 'system', decidedAt: sql`now()`, createdAt: sql`now() - interval '40 minutes'`, expiresAt: sql`now() - interval '10 minutes'`,
    });
    const [fresh, stale] = await database.db.insert(modeChangeRequests).values([closed('1800000000.000003', 'live'), closed('1800000000.000004', 'paper')]).returning();
    const now = sql`now()` as unknown as Date;
    await database.db.insert(modeChangeEvents).values([
      { requestId: fresh!.id, at: now, kind: 'expired', actor: 'system', details: { announce: 'pending' } },
      { requestId: fresh!.id, at: now, kind: 'announcing', actor: 'system' },
      { requestId: stale!.id, at: now, kind: 'expired', actor: 'system', details: { announce: 'pending' } },
      { requestId: stale!.id, at: sql`now() - ${ANNOUNCE_CLAIM_STALE_MS + 1_000} * interval '1 millisecond'` as unknown as Date, kind: 'announcing', actor: 'system' },
    ]);
    await expireOverdueRequests(ctx, ports);
    await expireOverdueRequests(ctx, ports);
    expect(posts).toEqual(['1800000000.000004']);
  });
});
