// The sweep that tells an exit's outcome nobody showed (src/services/exits/tell-exit.ts), as each
// process runs it: one that cannot update Slack leaves a Slack-shown exit to one that can (for a
// bound, then says so in the alert), what an `exit all` left out is told with its outcome, an alert
// is counted only once stored, and the idle sweep is one read that touches nothing.
import { afterEach, describe, expect, it } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { Registry } from 'prom-client';
import { ALERT_TITLE_MAX } from '../../../src/alerts/sanitize.js';
import { createOutboxAlertSink } from '../../../src/alerts/sink.js';
import { ManualClock } from '../../../src/clock.js';
import { testConfig } from '../../../src/config/env.js';
import { execute, type Db } from '../../../src/db/client.js';
import { untoldExitAnswersStatement } from '../../../src/db/queries/exit-outcomes.js';
import { alertEvents, engineRequests } from '../../../src/db/schema/index.js';
import { silentLogger } from '../../../src/logger.js';
import type { Notification, Notifier } from '../../../src/notifications/notification.js';
import { EXIT_SHOWN_GRACE_MS, EXIT_SLACK_UPDATE_BOUND_MS, EXIT_TELL_LEASE_MS, tellUnshownExits, type TellExitDeps } from '../../../src/services/exits/tell-exit.js';
import { usePostgresTestDb } from '../../support/db.js';

const database = usePostgresTestDb({ truncate: ['engine_requests', 'alert_events', 'alert_groups', 'alert_deliveries'] });

/** A process's sweep: with `notifier`, one that can update Slack (a web replica); without, a `ctb` shell or a worker without Slack tokens. */
function sweeper(opts: { notifier?: Notifier; db?: Db } = {}) {
  const config = testConfig();
  const metrics = new Registry();
  const db = opts.db ?? database().db;
  const alerts = createOutboxAlertSink({ db, clock: new ManualClock('2026-01-05T00:00:00Z'), logger: silentLogger(), config, metrics });
  const ctx: TellExitDeps = { db, alerts, logger: silentLogger(), config: { EXIT_REQUEST_TTL: config.EXIT_REQUEST_TTL }, ...(opts.notifier ? { notifier: opts.notifier } : {}) };
  const counted = async () => (await metrics.getMetricsAsJSON()).find((m) => m.name === 'ctb_alerts_raised_total')!.values.reduce((n, v) => n + Number(v.value), 0);
  return { ctx, counted };
}

/** A notifier that updates Slack messages (records what it was asked to). */
function slackNotifier(): Notifier & { sent: Notification[] } {
  const sent: Notification[] = [];
  return { sent, carries: new Set(['exit_outcome'] as const), notify: async (_db, n) => (sent.push(n), { channel: 'C0OPS', ts: '1.2' }) };
}

/** An exit of trade #7 done, asked `ago` earlier by a requester that waited none of it: due now, nobody showed it; `slack`: its button's message records it. */
async function answeredUnshown(opts: { slack?: boolean; ago?: string; params?: Record<string, unknown> } = {}): Promise<number> {
  const [row] = await database().db.insert(engineRequests).values({
    kind: 'exit_trade', status: 'done', requestedBy: opts.slack ? 'UOPERATOR1' : 'cli:ops', requestedAt: sql`now() - ${opts.ago ?? '10 seconds'}::interval`, finishedAt: sql`now()`,
    params: { target: 7, waitMs: 0, ...opts.params }, result: { summary: 'trade #7 sold' },
    ...(opts.slack ? { replyMessages: [{ channel: 'C0OPS', ts: '1700000000.000900' }] } : {}),
  }).returning();
  return row!.id;
}

const rowOf = async (id: number) => (await database().db.select().from(engineRequests).where(eq(engineRequests.id, id)))[0]!;
const storedExitAlerts = async (id: number) => (await database().db.select().from(alertEvents)).filter((e) => (e.details as { requestId?: number }).requestId === id);

afterEach(async () => {
  await execute(database().db, sql.raw('drop trigger if exists sweep_refuse_commit on alert_events; drop function if exists sweep_refuse_commit()'));
});

describe('the exit outcome sweep', () => {
  it('a process that cannot update Slack leaves a Slack-shown exit unclaimed for one that can; that one updates the message, and no alert is told', async () => {
    const id = await answeredUnshown({ slack: true });
    const shell = sweeper();
    expect(await tellUnshownExits(shell.ctx)).toBe(0);
    expect(await rowOf(id)).toMatchObject({ outcomeClaimedBy: null, outcomeToldAt: null, answerNoticedAt: expect.any(Date) });
    expect(await storedExitAlerts(id)).toEqual([]);

    const notifier = slackNotifier();
    const web = sweeper({ notifier });
    expect(await tellUnshownExits(web.ctx)).toBe(1);
    expect(notifier.sent).toEqual([expect.objectContaining({ kind: 'exit_outcome', message: { channel: 'C0OPS', ts: '1700000000.000900' } })]);
    expect(await rowOf(id)).toMatchObject({ outcomeToldAt: expect.any(Date), answerShownAt: expect.any(Date) });
    expect(await storedExitAlerts(id)).toEqual([]);
  }, 60_000);

  it('a Slack-shown exit no process that can update Slack told within the bound goes to the alert channel, saying its message still shows it pending', async () => {
    const id = await answeredUnshown({ slack: true });
    // Noticed longer ago than the grace and the bound, on the database's clock.
    const past = EXIT_SHOWN_GRACE_MS + EXIT_SLACK_UPDATE_BOUND_MS + 1_000;
    await execute(database().db, sql`update engine_requests set answer_noticed_at = now() - ${past} * interval '1 millisecond', requested_at = now() - interval '1 hour' where id = ${id}`);
    const shell = sweeper();
    expect(await tellUnshownExits(shell.ctx)).toBe(1);
    const [told] = await storedExitAlerts(id);
    expect(told!.title).toBe(`Exit of trade #7 asked by UOPERATOR1, request #${id}: carried out — trade #7 sold `
      + `Its Slack message still shows the exit pending: no process that can update Slack told it within ${(EXIT_SHOWN_GRACE_MS + EXIT_SLACK_UPDATE_BOUND_MS) / 1000}s of its answer.`);
    expect(await rowOf(id)).toMatchObject({ outcomeToldAt: expect.any(Date), answerShownAt: null });
  }, 60_000);

  it('an exit all told by the sweep says what it left out, in the alert and in the Slack message', async () => {
    const skipped = { note: 'trade #3, which already has an exit queued (request #1, the exit of trade #3 asked by cli:ops): not asked again.', tradeIds: [3] };
    const byCli = await answeredUnshown({ params: { target: 'all', tradeIds: [7], skipped } });
    const bySlack = await answeredUnshown({ slack: true, params: { target: 'all', tradeIds: [7], skipped } });
    const notifier = slackNotifier();
    expect(await tellUnshownExits(sweeper({ notifier }).ctx)).toBe(2);
    const [alert] = await storedExitAlerts(byCli);
    expect(alert!.title).toBe(`Exit of every listed trade asked by cli:ops, request #${byCli}: carried out — trade #7 sold Left out: ${skipped.note}`);
    expect(notifier.sent).toEqual([expect.objectContaining({ request: expect.objectContaining({ requestId: bySlack, skipped: skipped.note, skippedTradeIds: [3] }) })]);
  }, 60_000);

  it('a long exit-all summary is what its alert\'s title cuts: the Slack message note and what it left out survive', async () => {
    const skipped = { note: 'trade #3, which already has an exit queued (request #1, the exit of trade #3 asked by cli:ops): not asked again.', tradeIds: [3] };
    const id = await answeredUnshown({ slack: true, params: { target: 'all', tradeIds: [7], skipped } });
    const summary = Array.from({ length: 30 }, (_, i) => `#${100 + i} closed: sold 0.00100000 BTC/USD at 42,000.00`).join('; ');
    const past = EXIT_SHOWN_GRACE_MS + EXIT_SLACK_UPDATE_BOUND_MS + 1_000;
    await execute(database().db, sql`update engine_requests set result = ${JSON.stringify({ summary })}::jsonb, answer_noticed_at = now() - ${past} * interval '1 millisecond', requested_at = now() - interval '1 hour' where id = ${id}`);
    expect(await tellUnshownExits(sweeper().ctx)).toBe(1);
    const [told] = await storedExitAlerts(id);
    const unshown = `Its Slack message still shows the exit pending: no process that can update Slack told it within ${(EXIT_SHOWN_GRACE_MS + EXIT_SLACK_UPDATE_BOUND_MS) / 1000}s of its answer.`;
    expect(told!.title).toMatch(new RegExp(`^Exit of every listed trade asked by UOPERATOR1, request #${id}: carried out — #100 closed: sold [^…]*… `));
    // Too long for the title beside the summary's first words, what it left out is counted there, whole in details.
    expect(told!.title.endsWith(` ${unshown} Left out: 1 trade another queued exit already closes (details: leftOut).`)).toBe(true);
    expect(told!.title.length).toBeLessThanOrEqual(ALERT_TITLE_MAX);
    expect(told!.details).toMatchObject({ summary, slackMessage: unshown, leftOut: skipped.note, skippedTradeIds: [3] });
    // Told by the requester's side alone (no Slack message), the note fits whole after the cut summary.
    const byCli = await answeredUnshown({ params: { target: 'all', tradeIds: [7], skipped } });
    await execute(database().db, sql`update engine_requests set result = ${JSON.stringify({ summary })}::jsonb where id = ${byCli}`);
    expect(await tellUnshownExits(sweeper().ctx)).toBe(1);
    const [alone] = await storedExitAlerts(byCli);
    expect(alone!.title).toMatch(new RegExp(`^Exit of every listed trade asked by cli:ops, request #${byCli}: carried out — #100 closed: sold [^…]*… Left out: `));
    expect(alone!.title.endsWith(` Left out: ${skipped.note}`)).toBe(true);
  }, 60_000);

  it('an alert whose transaction did not commit is not counted; the next sweep tells it and counts it once', async () => {
    const id = await answeredUnshown();
    // The outbox takes the alert, then its transaction fails at commit.
    await execute(database().db, sql.raw(`create function sweep_refuse_commit() returns trigger language plpgsql as $$ begin raise exception 'commit refused'; end $$;
      create constraint trigger sweep_refuse_commit after insert on alert_events deferrable initially deferred for each row execute function sweep_refuse_commit()`));
    const { ctx, counted } = sweeper();
    expect(await tellUnshownExits(ctx)).toBe(0);
    expect(await storedExitAlerts(id)).toEqual([]);
    expect(await counted()).toBe(0);

    await execute(database().db, sql.raw('drop trigger sweep_refuse_commit on alert_events'));
    // Its claim was given back: told at once, not after the lease.
    expect(await tellUnshownExits(ctx)).toBe(1);
    expect(await storedExitAlerts(id)).toHaveLength(1);
    expect(await counted()).toBe(1);
  }, 60_000);

  it('the sweep for one exit (the engine finishing it) notices that exit only, not every untold one', async () => {
    const other = await answeredUnshown();
    const mine = await answeredUnshown({ ago: '0 seconds', params: { waitMs: 600_000 } });
    expect(await tellUnshownExits(sweeper().ctx, { ids: [mine] })).toBe(0);
    expect((await rowOf(mine)).answerNoticedAt).toBeInstanceOf(Date);
    expect((await rowOf(other)).answerNoticedAt).toBeNull();
  }, 60_000);

  it("a process's own grace is how long it leaves an unshown answer to its requester: not told within it, told after it", async () => {
    // Its requester waits on (10 minutes): only the grace since the answer was noticed makes it due. Noticed
    // 30 s ago, on the database's clock: 30 s either side of the graces below, whatever the statements take.
    const id = await answeredUnshown({ ago: '0 seconds', params: { waitMs: 600_000 } });
    await execute(database().db, sql`update engine_requests set answer_noticed_at = now() - interval '30 seconds' where id = ${id}`);
    // Long past the shipped grace (5 s), which would tell it: a process with a longer grace leaves it.
    expect(await tellUnshownExits({ ...sweeper().ctx, exitShownGraceMs: 60_000 })).toBe(0);
    expect(await storedExitAlerts(id)).toEqual([]);
    expect(await tellUnshownExits({ ...sweeper().ctx, exitShownGraceMs: 10_000 })).toBe(1);
    expect(await storedExitAlerts(id)).toHaveLength(1);
    // A Slack-shown exit left to a process that can update Slack: the alert names that process's grace and the bound.
    const slack = await answeredUnshown({ slack: true });
    await execute(database().db, sql`update engine_requests set answer_noticed_at = now() - ${10_000 + EXIT_SLACK_UPDATE_BOUND_MS + 30_000} * interval '1 millisecond', requested_at = now() - interval '1 hour' where id = ${slack}`);
    expect(await tellUnshownExits({ ...sweeper().ctx, exitShownGraceMs: 10_000 })).toBe(1);
    const [told] = await storedExitAlerts(slack);
    expect(told!.title).toContain(`no process that can update Slack told it within ${(10_000 + EXIT_SLACK_UPDATE_BOUND_MS) / 1000}s of its answer.`);
  }, 60_000);

  it('the idle sweep is one read: no exit untold, it runs one SELECT and writes nothing', async () => {
    const db = database().db;
    await execute(db, sql`insert into engine_requests (kind, status, requested_by, requested_at, outcome_told_at)
      select 'exit_trade', 'done', 'cli:ops', now(), now() from generate_series(1, 50)`);
    const statements: string[] = [];
    const client = postgres(database().url, { max: 1, onnotice: () => {} });
    try {
      const counting = drizzle(client, { logger: { logQuery: (query) => void statements.push(query) } }) as unknown as Db;
      expect(await tellUnshownExits(sweeper({ db: counting }).ctx)).toBe(0);
    } finally {
      await client.end();
    }
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatch(/^select /);
  }, 60_000);

  it("the sweep's read uses the partial index of untold exits, not every request ever written", async () => {
    const db = database().db;
    await execute(db, sql`insert into engine_requests (kind, status, requested_by, requested_at, outcome_told_at)
      select 'cancel_all', 'done', 'cli:ops', now(), null from generate_series(1, 2000)`);
    await execute(db, sql`insert into engine_requests (kind, status, requested_by, requested_at, outcome_told_at)
      select 'exit_trade', 'done', 'cli:ops', now(), now() from generate_series(1, 2000)`);
    await answeredUnshown();
    await execute(db, sql`analyze engine_requests`);
    const { sql: text, params } = untoldExitAnswersStatement(db, { graceMs: EXIT_SHOWN_GRACE_MS, leaseMs: EXIT_TELL_LEASE_MS, slackBoundMs: EXIT_SLACK_UPDATE_BOUND_MS }).toSQL();
    const plan = await db.transaction(async (tx) => {
      await execute(tx, sql`set local enable_seqscan = off`);
      const explained = sql.raw(`explain ${text.replace(/\$(\d+)/g, (_m, n: string) => `'${String(params[Number(n) - 1]).replace(/'/g, "''")}'`)}`);
      return (await execute<{ 'QUERY PLAN': string }>(tx, explained)).map((r) => r['QUERY PLAN']).join('\n');
    });
    expect(plan).toContain('engine_requests_exit_untold');
  }, 60_000);
});
