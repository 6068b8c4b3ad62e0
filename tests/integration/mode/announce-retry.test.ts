// A request the expiry sweep closed is announced in its Slack thread until Slack has it, and the
// record says what happened: a failed post (Slack down, rate limited) stays pending with its failure
// and attempt recorded and is tried again — after Slack's Retry-After on a 429 — until delivered; a
// refusal no retry can change (the bot not in the channel) is recorded failed, logged at error and
// raised as an alert, and not tried again; an announcer that stopped after Slack took the reply and
// before recording it is taken over by one that finds the reply in the thread and records it, never
// posting it twice; two replicas on one database post it once. The old announcer recorded every
// attempt as announced, delivered or not, and posted again on a takeover.
// Through the real Slack notifier against the fake Slack, on real PostgreSQL.
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { defaultLiveSwitchPorts } from '../../../src/app/live-switch-ports.js';
import { ANNOUNCE_CLAIM_STALE_MS } from '../../../src/services/mode/announce-pending.js';
import { expireOverdueRequests } from '../../../src/services/mode/expire-requests.js';
import { alertConfig } from '../../support/alert-fixtures.js';
import { lineChild } from '../../support/children.js';
import { announceBed } from './announce-bed.js';

const OPS = 'C0OPSANNC';

const bed = announceBed(OPS);
const { overdueRequest, trail, replies, threadPosts, untilDatabaseReaches, rendered } = bed;

describe('announcing a request the expiry sweep closed', () => {
  it('keeps a failed post pending with its failure and attempt, tries it again after the backoff, then records it delivered', async () => {
    const w = await overdueRequest({ claimStaleMs: ANNOUNCE_CLAIM_STALE_MS, backoffMs: (attempt) => 300 * attempt });
    let refusals = 1;
    bed.answerThreadPost = () => (refusals-- > 0 ? { body: { ok: false, error: 'service_unavailable' } } : undefined);

    await expireOverdueRequests(w.ctx, w.ports);
    const first = await trail(w.requestId);
    expect(first.map((e) => e.kind)).toEqual(['expired', 'outcome_alerted', 'announcing', 'announce_pending']);
    const failed = first.at(-1)!;
    expect(failed.details).toMatchObject({ attempt: 1, error: 'slack refused: service_unavailable' });
    expect(Date.parse(String(failed.details['retryAt'])) - failed.at.getTime()).toBe(300);
    expect(replies(w)).toEqual([]);
    expect(await rendered(w.requestId)).toContain(`announcement: pending — 1 attempt, the last failed: slack refused: service_unavailable; next try at ${String(failed.details['retryAt'])}`);
    expect(w.logs.some((l) => l.level === 40 && l.requestId === w.requestId && String(l.msg).includes('still pending'))).toBe(true);

    await untilDatabaseReaches(String(failed.details['retryAt']));
    await expireOverdueRequests(w.ctx, w.ports);
    const after = await trail(w.requestId);
    expect(after.map((e) => e.kind)).toEqual(['expired', 'outcome_alerted', 'announcing', 'announce_pending', 'announcing', 'announced']);
    expect(after.at(-1)!.details).toMatchObject({ attempt: 2, found: false, ts: replies(w)[0]?.ts });
    // The second attempt looked in the thread first (the first may have reached Slack), then posted once.
    expect(bed.fake.callsTo('conversations.replies')).toHaveLength(1);
    expect(replies(w).map((m) => [m.text.includes(`#${w.requestId} expired`), m.metadata])).toEqual([
      [true, { event_type: 'ctb_mode_announcement', event_payload: { request_id: w.requestId } }],
    ]);
    // The request's alert was raised once, with the first claim, not again with the retry.
    expect(w.alerts.map((a) => a.fingerprint)).toEqual([`mode-request-${w.requestId}`]);
    expect(await rendered(w.requestId)).toMatch(/announcement: delivered at \S+ \(2 attempts\)/);

    await expireOverdueRequests(w.ctx, w.ports);
    expect(threadPosts(w)).toHaveLength(2);
  });

  it('waits the Retry-After of a 429 before the next try, not the backoff, and does not post meanwhile', async () => {
    const w = await overdueRequest();
    let limited = 1;
    bed.answerThreadPost = () => (limited-- > 0 ? { status: 429, headers: { 'retry-after': '2' }, body: { ok: false, error: 'ratelimited' } } : undefined);

    await expireOverdueRequests(w.ctx, w.ports);
    const pending = (await trail(w.requestId)).at(-1)!;
    expect(pending.kind).toBe('announce_pending');
    expect(pending.details).toMatchObject({ attempt: 1, retryAfterMs: 2_000 });
    expect(Date.parse(String(pending.details['retryAt'])) - pending.at.getTime()).toBe(2_000);
    // Before Retry-After has passed a sweep leaves it alone.
    await expireOverdueRequests(w.ctx, w.ports);
    expect(threadPosts(w)).toHaveLength(1);
    expect((await trail(w.requestId)).map((e) => e.kind)).toEqual(['expired', 'outcome_alerted', 'announcing', 'announce_pending']);

    await untilDatabaseReaches(String(pending.details['retryAt']));
    await expireOverdueRequests(w.ctx, w.ports);
    expect((await trail(w.requestId)).map((e) => e.kind)).toEqual(['expired', 'outcome_alerted', 'announcing', 'announce_pending', 'announcing', 'announced']);
    expect(threadPosts(w)).toHaveLength(2);
    expect(threadPosts(w)[1]!.at - threadPosts(w)[0]!.at).toBeGreaterThanOrEqual(1_900);
    expect(replies(w)).toHaveLength(1);
  });

  it('records a refusal no retry can change as failed for good, logs it at error, raises it as an alert, and does not try again', async () => {
    const w = await overdueRequest({ claimStaleMs: ANNOUNCE_CLAIM_STALE_MS, backoffMs: () => 0 });
    bed.answerThreadPost = () => ({ body: { ok: false, error: 'not_in_channel' } });

    await expireOverdueRequests(w.ctx, w.ports);
    const events = await trail(w.requestId);
    expect(events.map((e) => e.kind)).toEqual(['expired', 'outcome_alerted', 'announcing', 'announce_failed']);
    expect(events.at(-1)!.details).toMatchObject({ attempt: 1, error: 'slack refused: not_in_channel', permanent: true });
    const errors = w.logs.filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ requestId: w.requestId, error: 'slack refused: not_in_channel', channel: OPS, threadTs: w.threadTs });
    expect(w.alerts.map((a) => [a.fingerprint, a.severity])).toEqual([[`mode-request-${w.requestId}`, 'info'], [`mode-announce-${w.requestId}`, 'warning']]);
    expect(w.alerts[1]!.title).toContain('not_in_channel');
    expect(await rendered(w.requestId)).toMatch(/announcement: FAILED for good at \S+ after 1 attempt: slack refused: not_in_channel/);

    await expireOverdueRequests(w.ctx, w.ports);
    await expireOverdueRequests(w.ctx, w.ports);
    expect(threadPosts(w)).toHaveLength(1);
    expect(await trail(w.requestId)).toHaveLength(4);
  });

  it('takes over from an announcer that stopped after Slack took the reply and before recording it: finds the reply, records it, posts nothing', async () => {
    const w = await overdueRequest({ claimStaleMs: 2_000, backoffMs: () => 0 });
    // The first announcer stops (its recording fails) right after Slack took its reply.
    await bed.database.db.execute(sql.raw(`
      create function ctb_t_announcer_stops() returns trigger language plpgsql as $$ begin
        if new.kind in ('announced', 'announce_pending') then raise exception 'the announcer stopped'; end if;
        return new; end $$;
      create trigger ctb_t_announcer_stops before insert on mode_change_events for each row execute function ctb_t_announcer_stops();`));
    try {
      await expect(expireOverdueRequests(w.ctx, w.ports)).rejects.toThrow(/the announcer stopped|Failed query/);
    } finally {
      await bed.database.db.execute(sql.raw('drop trigger ctb_t_announcer_stops on mode_change_events; drop function ctb_t_announcer_stops();'));
    }
    expect(replies(w)).toHaveLength(1);
    expect((await trail(w.requestId)).map((e) => e.kind)).toEqual(['expired', 'outcome_alerted', 'announcing']);
    // Its claim goes stale.
    const claim = (await trail(w.requestId)).find((e) => e.kind === 'announcing')!;
    await untilDatabaseReaches(new Date(claim.at.getTime() + 2_001).toISOString());

    await expireOverdueRequests(w.ctx, w.ports);
    expect(replies(w)).toHaveLength(1);
    expect(threadPosts(w)).toHaveLength(1);
    const events = await trail(w.requestId);
    expect(events.map((e) => e.kind)).toEqual(['expired', 'outcome_alerted', 'announcing', 'announcing', 'announced']);
    expect(events.at(-1)!.details).toMatchObject({ attempt: 2, found: true, ts: replies(w)[0]!.ts });
    expect(w.alerts).toHaveLength(1);
    expect(await rendered(w.requestId)).toContain('found in the thread, posted by an earlier attempt');
  });

  it('leaves the reply to a process that can post in Slack when the sweeping one cannot, instead of recording it announced; raises the alert all the same', async () => {
    const w = await overdueRequest();
    const noSlack = defaultLiveSwitchPorts(alertConfig(null), null, bed.database.db);
    await expireOverdueRequests(w.ctx, noSlack);
    expect((await trail(w.requestId)).map((e) => e.kind)).toEqual(['expired', 'outcome_alerted']);
    expect(w.alerts.map((a) => a.fingerprint)).toEqual([`mode-request-${w.requestId}`]);
    expect(await rendered(w.requestId)).toContain('announcement: pending — not tried yet');

    await expireOverdueRequests(w.ctx, w.ports);
    expect((await trail(w.requestId)).map((e) => e.kind)).toEqual(['expired', 'outcome_alerted', 'announcing', 'announced']);
    expect(replies(w)).toHaveLength(1);
    expect(w.alerts).toHaveLength(1);
  });

  it('two replicas sweeping one database, Slack failing the first post: the reply is posted once and recorded once', async () => {
    const w = await overdueRequest();
    let refusals = 1;
    // Each post takes a moment, so the other replica sweeps while one is under way.
    bed.answerThreadPost = async () => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      return refusals-- > 0 ? { body: { ok: false, error: 'service_unavailable' } } : undefined;
    };
    const replicas = await Promise.all([0, 1].map(() => lineChild('announce-child', [bed.database.url, bed.fake.url, OPS, '200'])));
    for (const r of replicas) r.send('go');
    for (const r of replicas) expect(await r.next()).toBe('done');
    for (const r of replicas) await r.exitClean();

    const kinds = (await trail(w.requestId)).map((e) => e.kind);
    expect(kinds).toEqual(['expired', 'outcome_alerted', 'announcing', 'announce_pending', 'announcing', 'announced']);
    expect(threadPosts(w)).toHaveLength(2);
    expect(replies(w)).toHaveLength(1);
  }, 60_000);
});
