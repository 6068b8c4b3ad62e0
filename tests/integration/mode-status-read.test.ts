// The status views read bot_state, the engine lease (with the database's clock) and the latest
// go-live audit in one statement (db/queries/mode-status.ts): it must give what the three reads
// gave — getBotState's row (created when missing), readLease's lease and now(), the latest audit
// header by (at, id) — on PostgreSQL and PGlite, and /golive status must send one statement for them.
// A Slack status command reads them with its delivery's claim (db/queries/slack-deliveries.ts): its
// command takes that read once, and any later status read in the same request goes to the database.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../src/config/env.js';
import type { Database } from '../../src/db/client.js';
import { latestAuditRunHeader } from '../../src/db/queries/audit-runs.js';
import { acquireLease, readLease } from '../../src/db/queries/engine-lease.js';
import { readStatusRows } from '../../src/db/queries/mode-status.js';
import { claimSlackDeliveryReadingStatus } from '../../src/db/queries/slack-deliveries.js';
import { getBotState } from '../../src/services/bot-state.js';
import { readGoLiveStatus } from '../../src/services/mode-status.js';
import { buildRequest } from '../../src/slack/listeners/request.js';
import { goLiveStatusCommand } from '../../commands/golive-status.js';
import { testContext } from '../support/app-context.js';
import { createTestDb, type DbKind } from '../support/db.js';

describe.each<DbKind>(['postgres', 'pglite'])('the status read on %s', (kind) => {
  let database: Database;
  const ctx = () => ({ db: database.db, config: testConfig() });
  beforeAll(async () => {
    database = await createTestDb(kind);
  });
  afterAll(async () => {
    await database.close();
  });

  it('on an empty database: no bot_state row (the status creates it), no lease, no audit, the database clock', async () => {
    const before = Date.now();
    const rows = await readStatusRows(database.db);
    expect(rows).toMatchObject({ state: undefined, lease: null, audit: null });
    expect(Math.abs(rows.dbNow.getTime() - before)).toBeLessThan(60_000);
    const { status, latestAudit } = await readGoLiveStatus(ctx());
    expect(latestAudit).toBeNull();
    expect(status).toMatchObject({ mode: 'paper', requestedMode: 'paper', halted: false, engine: { state: 'none' } });
    expect((await readStatusRows(database.db)).state).toEqual(await getBotState(database.db));
  });

  it('gives the rows the separate reads give: bot_state, the lease and now(), the latest audit by (at, id)', async () => {
    await database.db.execute(sql`update bot_state set halted = true, halted_reason = 'drill', halted_by = 'U1', halted_at = now(), entries_paused = true where id = 1`);
    await acquireLease(database.db, { holderId: 'w:1:0', host: 'w', pid: 7, role: 'worker', feed: 'kraken', armed: true, hasKrakenKeys: true }, 30_000);
    const at = new Date('2026-01-02T03:04:05.678Z');
    await database.db.execute(sql`insert into audit_runs (at, actor, mode, dry_run, passed, summary, results) values
      (${at.toISOString()}::timestamptz - interval '1 day', 'old', 'paper', false, true, 'older', '[]'::jsonb),
      (${at.toISOString()}::timestamptz, 'first', 'paper', true, false, 'same instant, lower id', '[]'::jsonb),
      (${at.toISOString()}::timestamptz, 'second', 'live', false, true, 'same instant, higher id', '[{"big":"results"}]'::jsonb)`);

    const rows = await readStatusRows(database.db);
    const lease = await readLease(database.db);
    expect(rows.state).toEqual(await getBotState(database.db));
    expect(rows.lease).toEqual(lease.lease);
    expect(rows.dbNow).toBeInstanceOf(Date);
    expect(Math.abs(rows.dbNow.getTime() - lease.dbNow.getTime())).toBeLessThan(60_000);
    expect(rows.audit).toEqual(await latestAuditRunHeader(database.db));
    expect(rows.audit).toMatchObject({ actor: 'second', mode: 'live', dryRun: false, passed: true, at });
    expect(rows.audit).not.toHaveProperty('results');

    const { status, latestAudit } = await readGoLiveStatus(ctx());
    expect(status).toMatchObject({ requestedMode: 'paper', armed: true, halted: true, haltedReason: 'drill', entriesPaused: true, engine: { state: 'running', holderId: 'w:1:0', pid: 7 } });
    expect(latestAudit).toEqual({
      id: rows.audit!.id, at, passed: true, dryRun: false, mode: 'live', summary: 'same instant, higher id', actor: 'second',
      thresholdRefusal: { code: 'audit_thresholds_missing', differences: null },
    });
  });

  it('gives a Slack status command the status its delivery claim read, once: a second read in the request goes to the database', async () => {
    const ctx = await testContext({ database });
    await database.db.execute(sql`update bot_state set halted = true, halted_reason = 'drill' where id = 1`);
    const claimed = await claimSlackDeliveryReadingStatus({ db: database.db, key: 'command:trg-status-once', surface: 'command', receivedAt: ctx.clock.now() });
    expect(claimed.taken).toBe(true);
    await database.db.execute(sql`update bot_state set halted = false, halted_reason = null where id = 1`);
    const req = buildRequest({ ctx, client: {} as never, userId: 'UREADER1', deliveryKey: 'command:trg-status-once', statusRead: claimed.status });
    expect(await req.run(goLiveStatusCommand, {})).toMatchObject({ halted: true, haltedReason: 'drill' });
    expect(await req.run(goLiveStatusCommand, {})).toMatchObject({ halted: false, haltedReason: null });
    const other = buildRequest({ ctx, client: {} as never, userId: 'UREADER1', deliveryKey: 'command:trg-status-other' });
    expect(await other.run(goLiveStatusCommand, {})).toMatchObject({ halted: false });
  });
});
