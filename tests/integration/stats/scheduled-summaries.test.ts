import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OwnedContext } from '../../../src/app/build-context.js';
import { ManualClock } from '../../../src/clock.js';
import { connectPostgres, type Database } from '../../../src/db/client.js';
import { scheduledReports } from '../../../src/db/schema/index.js';
import { createStatsSummaries } from '../../../src/jobs/stats-summaries.js';
import { statsSummariesFeature } from '../../../src/app/features/stats-summaries.js';
import { markReportPosted, reportPeriod } from '../../../src/services/stats/scheduled-reports.js';
import { testContext } from '../../support/app-context.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { seedHandComputedLedger } from '../../support/factories/stats-ledger-fixture.js';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.js';

describe('reportPeriod', () => {
  it('keys a daily summary by the local date in SCHEDULE_TZ and covers the 24 hours before it', () => {
    const p = reportPeriod('daily', new Date('2026-01-09T23:30:00Z'), 'Europe/Paris');
    expect(p).toEqual({ kind: 'daily', key: '2026-01-10', from: new Date('2026-01-08T23:30:00Z'), to: new Date('2026-01-09T23:30:00Z') });
    expect(reportPeriod('daily', new Date('2026-01-09T23:30:00Z'), 'UTC').key).toBe('2026-01-09');
  });

  it('gives replicas whose clocks differ by seconds the same key and window', () => {
    const a = reportPeriod('daily', new Date('2026-01-10T00:00:00.400Z'), 'UTC');
    const b = reportPeriod('daily', new Date('2026-01-09T23:59:59.700Z'), 'UTC');
    expect(b).toEqual(a);
  });

  it('keys a weekly summary by ISO week, across a year boundary', () => {
    expect(reportPeriod('weekly', new Date('2026-01-05T08:00:00Z'), 'UTC').key).toBe('2026-W02');
    expect(reportPeriod('weekly', new Date('2027-01-01T08:00:00Z'), 'UTC').key).toBe('2026-W53');
    expect(reportPeriod('weekly', new Date('2024-12-30T08:00:00Z'), 'UTC').key).toBe('2025-W01');
  });
});

describe('daily and weekly summaries, two replicas on one PostgreSQL database', () => {
  let database: TestDatabase;
  let second: Database;
  let fake: FakeSlack;
  let replicaA: OwnedContext & { clock: ManualClock };
  let replicaB: OwnedContext & { clock: ManualClock };
  const summaries = (ctx: OwnedContext, replica: string) =>
    createStatsSummaries(ctx, { notifier: ctx.notifier! }, { replica, retryDelayMs: 60_000 });
  const setClocks = (at: string, skewMs = 0) => {
    replicaA.clock.set(at);
    replicaB.clock.set(new Date(new Date(at).getTime() + skewMs));
  };
  const posts = () => fake.callsTo('chat.postMessage');

  beforeAll(async () => {
    database = await createPostgresTestDb();
    await seedHandComputedLedger(database.db);
    second = connectPostgres(database.url, { max: 3 });
    fake = await startFakeSlack();
    const env = { SLACK_BOT_TOKEN: 'xoxb-test-token', SLACK_SIGNING_SECRET: 'test-signing', SLACK_API_URL: fake.url, SLACK_OPS_CHANNEL: 'C0OPS', SCHEDULE_TZ: 'Europe/Paris' };
    replicaA = await testContext({ database, env, clock: new ManualClock() });
    replicaB = await testContext({ database: second, env, clock: new ManualClock() });
  });
  afterAll(async () => {
    await replicaA?.close();
    await replicaB?.close();
    await second?.close();
    await database?.close();
    await fake?.close();
  });

  it('posts the daily summary once when both replicas fire at the same minute', async () => {
    setClocks('2026-01-10T11:45:00.250Z', -600); // 12:45 in Paris; B's clock is 0.6 s behind
    const a = summaries(replicaA, 'replica-a');
    const b = summaries(replicaB, 'replica-b');
    const outcomes = await Promise.all([a.fire('daily'), b.fire('daily')]);
    expect(outcomes.sort()).toEqual(['posted', 'taken']);
    expect(posts()).toHaveLength(1);
    const body = posts()[0]!.body;
    expect(body.channel).toBe('C0OPS');
    expect(body.text).toMatch(/Daily summary — 2026-01-10/);
    expect(body.text).toMatch(/paper: 2 closed, 1W\/0L, PnL \+9\.78/); // the 24 hours before 11:45 UTC
    const [row] = await database.db.select().from(scheduledReports).where(eq(scheduledReports.periodKey, '2026-01-10'));
    expect(row).toMatchObject({ kind: 'daily', attempts: 1, lastError: null });
    expect(row!.postedAt).not.toBeNull();
    expect(row!.slackTs).toMatch(/^\d+\.\d+$/);

    // A later firing the same day (a restarted replica, a second cron) posts nothing more.
    setClocks('2026-01-10T11:50:00Z');
    expect(await Promise.all([a.fire('daily'), b.fire('daily')])).toEqual(['taken', 'taken']);
    expect(posts()).toHaveLength(1);
  });

  it('retries a summary whose post failed, from either replica, until it is posted once', async () => {
    let refusals = 1;
    let seq = 0;
    fake.on('chat.postMessage', (body) =>
      refusals-- > 0
        ? { body: { ok: false, error: 'not_in_channel' } }
        : { body: { ok: true, channel: body.channel, ts: `1768000000.${String(++seq).padStart(6, '0')}` } },
    );
    const before = posts().length;
    setClocks('2026-01-12T07:00:00Z'); // Monday 08:00 in Paris
    const a = summaries(replicaA, 'replica-a');
    const b = summaries(replicaB, 'replica-b');
    expect(await a.fire('weekly')).toBe('failed');
    const key = reportPeriod('weekly', new Date('2026-01-12T07:00:00Z'), 'Europe/Paris').key;
    const [failed] = await database.db.select().from(scheduledReports).where(eq(scheduledReports.periodKey, key));
    expect(failed).toMatchObject({ kind: 'weekly', postedAt: null, attempts: 1 });
    expect(failed!.lastError).toMatch(/not_in_channel/);

    expect(await b.fire('weekly')).toBe('taken'); // the period is claimed even though it failed
    expect(await b.retryStale()).toBe(0); // not before the retry delay
    setClocks('2026-01-12T07:01:01Z');
    const retried = await Promise.all([a.retryStale(), b.retryStale()]);
    expect(retried.sort()).toEqual([0, 1]);
    expect(posts().length - before).toBe(2); // the refused attempt and the one that went through
    const [done] = await database.db.select().from(scheduledReports).where(eq(scheduledReports.periodKey, key));
    expect(done).toMatchObject({ attempts: 2, lastError: null });
    expect(done!.postedAt).not.toBeNull();
    setClocks('2026-01-12T07:10:00Z');
    expect(await Promise.all([a.retryStale(), b.retryStale()])).toEqual([0, 0]);
  });

  it('does not post a summary twice when recording the post fails at first', async () => {
    let seq = 0;
    fake.on('chat.postMessage', (body) => ({ body: { ok: true, channel: body.channel, ts: `1769000000.${String(++seq).padStart(6, '0')}` } }));
    const before = posts().length;
    let failures = 2;
    const a = createStatsSummaries(replicaA, {
      notifier: replicaA.notifier!,
      markPosted: async (db, o) => {
        if (failures-- > 0) throw new Error('connection terminated unexpectedly');
        await markReportPosted(db, o);
      },
    }, { replica: 'replica-a', retryDelayMs: 60_000, markRetryDelaysMs: [1, 1] });
    setClocks('2026-01-14T07:00:00Z');
    expect(await a.fire('daily')).toBe('posted');
    expect(posts().length - before).toBe(1);
    const [row] = await database.db.select().from(scheduledReports).where(eq(scheduledReports.periodKey, '2026-01-14'));
    expect(row!.postedAt).not.toBeNull();
    expect(row!.lastError).toBeNull();
    // Long after the lease: nothing is left for the sweep to post again.
    setClocks('2026-01-14T08:00:00Z');
    const b = summaries(replicaB, 'replica-b');
    expect(await b.retryStale()).toBe(0);
    expect(posts().length - before).toBe(1);
  });

  it('catches up, once, a daily summary whose cron time passed while no replica ran', async () => {
    let seq = 0;
    fake.on('chat.postMessage', (body) => ({ body: { ok: true, channel: body.channel, ts: `1770000000.${String(++seq).padStart(6, '0')}` } }));
    // Summaries were posted before (earlier tests); every replica was down at 08:00 Paris on the 20th.
    setClocks('2026-01-20T09:30:00Z');
    const before = posts().length;
    const a = summaries(replicaA, 'replica-a');
    const b = summaries(replicaB, 'replica-b');
    const [ra, rb] = await Promise.all([a.catchUp(), b.catchUp()]);
    const daily = [...ra, ...rb].filter((d) => d.kind === 'daily');
    expect(daily.map((d) => d.firedAt.toISOString())).toEqual(['2026-01-20T07:00:00.000Z', '2026-01-20T07:00:00.000Z']);
    expect(daily.map((d) => d.outcome).sort()).toEqual(['posted', 'taken']);
    const dailyPosts = posts().slice(before).filter((p) => /Daily summary — 2026-01-20/.test(String(p.body.text)));
    expect(dailyPosts).toHaveLength(1);
    // The 24 hours before the missed firing, not before the start.
    const [row] = await database.db.select().from(scheduledReports).where(eq(scheduledReports.periodKey, '2026-01-20'));
    expect(row!.periodTo.toISOString()).toBe('2026-01-20T07:00:00.000Z');
    // Starting again later the same day finds it done.
    setClocks('2026-01-20T15:00:00Z');
    expect((await a.catchUp()).filter((d) => d.kind === 'daily').map((d) => d.outcome)).toEqual(['taken']);
  });

  it('does not open a fresh install with a summary of nothing', async () => {
    const fresh = await createPostgresTestDb();
    const ctx = await testContext({ database: fresh, env: { SLACK_BOT_TOKEN: 'xoxb-test-token', SLACK_SIGNING_SECRET: 'test-signing', SLACK_API_URL: fake.url, SLACK_OPS_CHANNEL: 'C0OPS' }, clock: new ManualClock('2026-01-20T09:30:00Z') });
    try {
      const before = posts().length;
      expect(await summaries(ctx, 'fresh').catchUp()).toEqual([]);
      expect(posts().length).toBe(before);
    } finally {
      await ctx.close();
      await fresh.close();
    }
  });

  it('schedules the daily, weekly and retry jobs in SCHEDULE_TZ', () => {
    const jobs = summaries(replicaA, 'replica-a').jobs();
    expect(jobs.map((j) => [j.name, j.schedule, j.timezone, j.trades])).toEqual([
      ['stats-summary-daily', '0 8 * * *', 'Europe/Paris', false],
      ['stats-summary-weekly', '0 8 * * 1', 'Europe/Paris', false],
      ['stats-summary-retry', '*/1 * * * *', 'Europe/Paris', false],
    ]);
  });

  it('registers the jobs on every replica when Slack and the ops channel are set, and none otherwise', async () => {
    await statsSummariesFeature.start(replicaB, undefined as never, { role: 'web', feed: 'kraken' });
    expect(replicaB.jobs.names()).toEqual(expect.arrayContaining(['stats-summary-daily', 'stats-summary-weekly', 'stats-summary-retry']));
    const unconfigured = await testContext({ database: second, env: { SLACK_OPS_CHANNEL: undefined } });
    await statsSummariesFeature.start(unconfigured, undefined as never, { role: 'worker', feed: 'kraken' });
    expect(unconfigured.jobs.names()).toEqual([]);
    await unconfigured.close();
  });
});
