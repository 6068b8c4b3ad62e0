// An exit's outcome nobody showed is told once, and never lost between the claim and the telling
// (src/services/exits/tell-exit.ts): its alert is stored in the outbox in the transaction that marks
// it told, and a claim whose process died before telling is taken over once its lease is out.
import { afterEach, describe, expect, it } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { createOutboxAlertSink } from '../../../src/alerts/sink.js';
import { ManualClock } from '../../../src/clock.js';
import { testConfig } from '../../../src/config/env.js';
import { execute } from '../../../src/db/client.js';
import { claimUntoldExitOutcomes, noticeStatement } from '../../../src/db/queries/exit-outcomes.js';
import { alertEvents, engineRequests } from '../../../src/db/schema/index.js';
import { silentLogger } from '../../../src/logger.js';
import { EXIT_SHOWN_GRACE_MS, tellUnshownExits, type TellExitDeps } from '../../../src/services/exits/tell-exit.js';
import { usePostgresTestDb } from '../../support/db.js';

const database = usePostgresTestDb({ truncate: ['engine_requests', 'alert_events', 'alert_groups', 'alert_deliveries'] });

function deps() {
  const config = testConfig();
  const alerts = createOutboxAlertSink({ db: database().db, clock: new ManualClock('2026-01-05T00:00:00Z'), logger: silentLogger(), config });
  const ctx: TellExitDeps = { db: database().db, alerts, logger: silentLogger(), config: { EXIT_REQUEST_TTL: config.EXIT_REQUEST_TTL } };
  return { ctx, alerts };
}

/** An exit of trade #7 done a minute ago by a `ctb exit` that stopped waiting: its grace is over, nobody showed it. */
async function answeredUnshown(): Promise<number> {
  const [row] = await database().db.insert(engineRequests).values({
    kind: 'exit_trade', status: 'done', requestedBy: 'cli:ops', requestedAt: sql`now() - interval '1 minute'`, finishedAt: sql`now()`,
    params: { target: 7, waitMs: 0 }, result: { summary: 'trade #7 sold' },
  }).returning();
  return row!.id;
}

const toldAt = async (id: number) => (await database().db.select().from(engineRequests).where(eq(engineRequests.id, id)))[0]!.outcomeToldAt;
const storedExitAlerts = async (id: number) => (await database().db.select().from(alertEvents)).filter((e) => (e.details as { requestId?: number }).requestId === id);

afterEach(async () => {
  await execute(database().db, sql.raw('drop trigger if exists fixes_refuse_alerts on alert_events; drop function if exists fixes_refuse_alerts()'));
});

describe('telling an exit nobody showed', () => {
  it('an alert the outbox refuses leaves the exit untold (not kept in memory alone), and the next sweep tells it once', async () => {
    const { ctx, alerts } = deps();
    const id = await answeredUnshown();
    await execute(database().db, sql.raw(`create function fixes_refuse_alerts() returns trigger language plpgsql as $$ begin raise exception 'alert store refused'; end $$;
      create trigger fixes_refuse_alerts before insert on alert_events for each row execute function fixes_refuse_alerts()`));

    expect(await tellUnshownExits(ctx)).toBe(0);
    expect(await toldAt(id)).toBeNull();
    expect(alerts.buffered).toBe(0);
    expect(await storedExitAlerts(id)).toEqual([]);

    await execute(database().db, sql.raw('drop trigger fixes_refuse_alerts on alert_events'));
    expect(await tellUnshownExits(ctx)).toBe(1);
    expect(await toldAt(id)).not.toBeNull();
    const stored = await storedExitAlerts(id);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.title).toMatch(/^Exit of trade #7 asked by cli:ops, request #\d+: carried out — trade #7 sold$/);
    expect(await tellUnshownExits(ctx)).toBe(0);
    expect(await storedExitAlerts(id)).toHaveLength(1);
  }, 60_000);

  it('a sweep that died after claiming it, before telling: not told twice while its claim holds, told by the next sweep once the claim is out', async () => {
    const { ctx } = deps();
    const id = await answeredUnshown();
    // The dying process got as far as its claim.
    const claimed = await claimUntoldExitOutcomes(database().db, { graceMs: EXIT_SHOWN_GRACE_MS, leaseMs: 60_000 });
    expect(claimed).toHaveLength(1);

    expect(await tellUnshownExits(ctx)).toBe(0);
    expect(await storedExitAlerts(id)).toEqual([]);

    // A minute on, on the database's clock, the claim is out.
    await execute(database().db, sql`update engine_requests set outcome_claimed_at = outcome_claimed_at - interval '61 seconds' where id = ${id}`);
    expect(await tellUnshownExits(ctx)).toBe(1);
    expect(await toldAt(id)).not.toBeNull();
    expect(await storedExitAlerts(id)).toHaveLength(1);
    expect(await tellUnshownExits(ctx)).toBe(0);
  }, 60_000);

  it("the sweep's notice statement reads the partial index of untold exits, not every request ever written", async () => {
    const db = database().db;
    await execute(db, sql`insert into engine_requests (kind, status, requested_by, requested_at, outcome_told_at)
      select 'cancel_all', 'done', 'cli:ops', now(), null from generate_series(1, 2000)`);
    await execute(db, sql`insert into engine_requests (kind, status, requested_by, requested_at, outcome_told_at)
      select 'exit_trade', 'done', 'cli:ops', now(), now() from generate_series(1, 2000)`);
    await answeredUnshown();
    await execute(db, sql`analyze engine_requests`);
    const { sql: text, params } = noticeStatement(db).toSQL();
    const plan = await db.transaction(async (tx) => {
      await execute(tx, sql`set local enable_seqscan = off`);
      const explained = sql.raw(`explain ${text.replace(/\$(\d+)/g, (_m, n: string) => `'${String(params[Number(n) - 1]).replace(/'/g, "''")}'`)}`);
      return (await execute<{ 'QUERY PLAN': string }>(tx, explained)).map((r) => r['QUERY PLAN']).join('\n');
    });
    expect(plan).toContain('engine_requests_exit_untold');
  }, 60_000);
});
