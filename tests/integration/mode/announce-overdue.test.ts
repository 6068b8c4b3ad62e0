// A closed request whose outcome Slack keeps refusing is not left pending in silence: once its
// announcement has been pending MODE_ANNOUNCE_ALERT_AFTER, the sweep raises it as an alert through the
// alert pipeline as critical (stored in the outbox, so it goes out by mail and escalation as well as
// Slack, which is what refuses it),
// once however many sweeps find it still pending, and resolves that alert once the outcome is in the
// thread. `ctb mode history` says both. The old sweep retried quietly and raised nothing.
// Through the real Slack notifier against the fake Slack and the real outbox alert sink, on real PostgreSQL.
import { asc, eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createOutboxAlertSink } from '../../../src/alerts/sink.js';
import { systemClock } from '../../../src/clock.js';
import { testConfig } from '../../../src/config/env.js';
import { alertEscalations, alertEvents, alertGroups } from '../../../src/db/schema/index.js';
import { ANNOUNCE_CLAIM_STALE_MS } from '../../../src/services/mode/announce-pending.js';
import { expireOverdueRequests } from '../../../src/services/mode/expire-requests.js';
import { announceBed } from './announce-bed.js';

const OPS = 'C0OPSLATE';

const bed = announceBed(OPS);
/** An alerts channel and mail: where alerts go by default is by severity (alerts/policy.ts). */
const MAILED = {
  SLACK_BOT_TOKEN: 'xoxb-1-2-overdueoverdue', SLACK_SIGNING_SECRET: 'overdue-signing-secret-00000000000', SLACK_ALERTS_CHANNEL: 'C0ALERTS1',
  SMTP_URL: 'smtp://u:p@127.0.0.1:2525', ALERT_EMAIL_TO: 'ops@example.com', ALERT_EMAIL_FROM: 'ctb@example.com',
};
const { overdueRequest, trail, replies, untilDatabaseReaches, rendered } = bed;

describe('an announcement pending too long', () => {
  it('is raised as an alert once it has been pending MODE_ANNOUNCE_ALERT_AFTER, once, and resolved when delivered', async () => {
    const db = bed.database.db;
    await db.execute(sql`truncate alert_events, alert_groups, alert_deliveries restart identity cascade`);
    const w = await overdueRequest({ claimStaleMs: ANNOUNCE_CLAIM_STALE_MS, backoffMs: () => 0 });
    const alerts = createOutboxAlertSink({ db, clock: systemClock, logger: w.ctx.logger, config: testConfig(MAILED) });
    // A minute at first (no sweep here takes that long), then a second: the alert is due only once it is lowered.
    const config = { MODE_ANNOUNCE_ALERT_AFTER: 60_000 };
    const ctx = { ...w.ctx, alerts, config };
    let slackDown = true;
    bed.answerThreadPost = () => (slackDown ? { body: { ok: false, error: 'service_unavailable' } } : undefined);
    const fingerprint = `mode-announce-overdue-${w.requestId}`;
    const group = async () => (await db.select().from(alertGroups).where(eq(alertGroups.fingerprint, fingerprint)))[0];
    const raisedEvents = async () => {
      const g = await group();
      return g ? db.select().from(alertEvents).where(eq(alertEvents.groupId, g.id)).orderBy(asc(alertEvents.id)) : [];
    };

    await expireOverdueRequests(ctx, w.ports);
    const closing = (await trail(w.requestId))[0]!;
    expect(closing.kind).toBe('expired');
    // Pending, but not for long yet: no alert about it.
    expect(await group()).toBeUndefined();

    config.MODE_ANNOUNCE_ALERT_AFTER = 1_000;
    await untilDatabaseReaches(new Date(closing.at.getTime() + 1_000).toISOString());
    await expireOverdueRequests(ctx, w.ports);
    const raised = await group();
    expect(raised).toMatchObject({ source: 'mode', severity: 'critical', status: 'open' });
    // Escalated (its pages go by direct message and mail), not only posted to the Slack that refuses the announcement.
    expect(await db.select().from(alertEscalations).where(eq(alertEscalations.groupId, raised!.id))).toHaveLength(1);
    expect(raised!.title).toContain(`Live change request #${w.requestId} expired`);
    // How long it has been pending (at least the second waited for), not the threshold.
    expect(raised!.title).toMatch(/has not been told for (\d+[dhm] )*\d+s \(last error/);
    expect(raised!.title).toContain('slack refused: service_unavailable');
    expect((await raisedEvents())[0]!.details).toMatchObject({ requestId: w.requestId, requester: 'UOPER0001', attempts: 2, channel: OPS, threadTs: w.threadTs });
    expect((await trail(w.requestId)).filter((e) => e.kind === 'announce_overdue')).toHaveLength(1);
    expect(await rendered(w.requestId)).toMatch(/announcement: pending — 2 attempts, the last failed: .*; raised as an alert at \S+ for being late$/m);

    // Still pending at the next sweeps: not raised again.
    await expireOverdueRequests(ctx, w.ports);
    await expireOverdueRequests(ctx, w.ports);
    expect(await raisedEvents()).toHaveLength(1);
    expect((await trail(w.requestId)).filter((e) => e.kind === 'announce_overdue')).toHaveLength(1);
    expect(replies(w)).toEqual([]);

    slackDown = false;
    await expireOverdueRequests(ctx, w.ports);
    expect(replies(w)).toHaveLength(1);
    expect(await group()).toMatchObject({ status: 'resolved', resolvedBy: 'system' });
    const kinds = (await trail(w.requestId)).map((e) => e.kind);
    expect(kinds.slice(-2)).toEqual(['announced', 'announce_overdue_resolved']);
    expect(await rendered(w.requestId)).toMatch(/announcement: delivered at \S+ \(5 attempts\); raised as an alert at \S+ for being late, resolved at \S+/);

    await expireOverdueRequests(ctx, w.ports);
    expect((await trail(w.requestId)).map((e) => e.kind)).toEqual(kinds);
    expect(await raisedEvents()).toHaveLength(1);
  });

  it('resolves its alert when the announcement then fails for good, which raises its own', async () => {
    const db = bed.database.db;
    await db.execute(sql`truncate alert_events, alert_groups, alert_deliveries restart identity cascade`);
    const w = await overdueRequest({ claimStaleMs: ANNOUNCE_CLAIM_STALE_MS, backoffMs: () => 0 });
    const alerts = createOutboxAlertSink({ db, clock: systemClock, logger: w.ctx.logger, config: testConfig(MAILED) });
    const ctx = { ...w.ctx, alerts, config: { MODE_ANNOUNCE_ALERT_AFTER: 1_000 } };
    let answer = 'service_unavailable';
    bed.answerThreadPost = () => ({ body: { ok: false, error: answer } });
    await expireOverdueRequests(ctx, w.ports);
    const closing = (await trail(w.requestId))[0]!;
    await untilDatabaseReaches(new Date(closing.at.getTime() + 1_000).toISOString());
    await expireOverdueRequests(ctx, w.ports);
    const fingerprint = `mode-announce-overdue-${w.requestId}`;
    const group = async () => (await db.select().from(alertGroups).where(eq(alertGroups.fingerprint, fingerprint)))[0];
    expect(await group()).toMatchObject({ status: 'open' });

    answer = 'not_in_channel';
    await expireOverdueRequests(ctx, w.ports);
    expect((await trail(w.requestId)).map((e) => e.kind)).toContain('announce_failed');
    expect(await group()).toMatchObject({ status: 'resolved', resolvedBy: 'system' });
    expect((await trail(w.requestId)).map((e) => e.kind).at(-1)).toBe('announce_overdue_resolved');
  });

  it('raises nothing for an announcement delivered before MODE_ANNOUNCE_ALERT_AFTER', async () => {
    const w = await overdueRequest();
    const ctx = { ...w.ctx, config: { MODE_ANNOUNCE_ALERT_AFTER: 1_000 } };
    await expireOverdueRequests(ctx, w.ports);
    const closing = (await trail(w.requestId))[0]!;
    await untilDatabaseReaches(new Date(closing.at.getTime() + 1_000).toISOString());
    await expireOverdueRequests(ctx, w.ports);
    expect((await trail(w.requestId)).map((e) => e.kind)).toEqual(['expired', 'announcing', 'announced']);
    expect(w.alerts.map((a) => a.fingerprint)).toEqual([`mode-request-${w.requestId}`]);
  });
});
