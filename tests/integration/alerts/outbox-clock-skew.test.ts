// Two replicas whose clocks are 10 minutes off the database's, one fast and one slow, share one alert
// outbox: a message is due on the database's clock (queued due at its now(), a retry its backoff after
// the now() of the failed try, as the lane's next slot), whichever replica queued or tried it, so a
// page the fast one queued goes out from the slow one at once (not 20 minutes later), and a retry
// waits as long as Slack asked, no less and no more, whichever replica takes it.
import { describe, expect, it } from 'vitest';
import { usePostgresTestDb } from '../../support/db.js';
import { ALERT_TABLES, skewedAlertReplicas, passDeliveryTime, type AlertHarness } from '../../support/alert-fixtures.js';

const MIN = 60_000;
/** Slack's Retry-After for a refused page: its next try and its lane wait that long on the database's clock. */
const RETRY_AFTER_MS = 60_000;
const database = usePostgresTestDb({ truncate: ALERT_TABLES });
const r = skewedAlertReplicas(database);

/** A critical alert stored and its first rung paged (the approvers' DMs queued) by `h`. */
const page = async (h: AlertHarness) => {
  await h.sink.record({ source: 'engine', severity: 'critical', title: 'engine loop stopped', fingerprint: 'engine-down' });
  expect(await h.runtime.escalation.tick()).toBe(1);
};
/** The pages Slack took (a DM, not a line in a DM thread), by person. */
const pagesSent = () => r.slack.callsTo('chat.postMessage')
  .filter((c) => String(c.body.channel).startsWith('U') && !c.body.thread_ts).map((c) => String(c.body.channel)).sort();
/** Slack refuses each person's first page (rate limited for a minute), then takes them. */
const refuseFirstPages = () => {
  const refused = new Set<string>();
  r.slack.on('chat.postMessage', (body) => {
    const channel = String(body.channel);
    if (channel.startsWith('U') && !body.thread_ts && !refused.has(channel)) {
      refused.add(channel);
      return { status: 429, headers: { 'retry-after': String(RETRY_AFTER_MS / 1_000) }, body: { ok: false, error: 'ratelimited' } };
    }
    return { body: { ok: true, channel, ts: `${Date.now() / 1000}` } };
  });
  return refused;
};
const pass = (ms: number) => passDeliveryTime(database().db, null, ms);

describe('an alert outbox shared by a replica 10 minutes fast and one 10 minutes slow', () => {
  it('a page the fast replica queued is sent by the slow one at once', async () => {
    await page(r.fast);
    await r.slow.runtime.delivery.tick();
    expect(pagesSent(), 'the slow replica sent both approvers their page').toEqual(['UAPPROVER1', 'UAPPROVER2']);
  });

  it('a page the slow replica queued is sent by the fast one at once, and once', async () => {
    await page(r.slow);
    await r.fast.runtime.delivery.tick();
    await r.slow.runtime.delivery.tick();
    expect(pagesSent()).toEqual(['UAPPROVER1', 'UAPPROVER2']);
  });

  it('a page the fast replica failed to send is retried by the slow one after Retry-After, not 20 minutes later', async () => {
    const refused = refuseFirstPages();
    await page(r.fast);
    await r.fast.runtime.delivery.tick();
    expect([...refused].sort(), 'both first tries failed on the fast replica').toEqual(['UAPPROVER1', 'UAPPROVER2']);
    expect(pagesSent()).toHaveLength(2);
    await r.slow.runtime.delivery.tick();
    await pass(RETRY_AFTER_MS / 2);
    await r.slow.runtime.delivery.tick();
    expect(pagesSent(), 'not before Retry-After').toHaveLength(2);
    await pass(RETRY_AFTER_MS / 2);
    await r.slow.runtime.delivery.tick();
    expect(pagesSent(), 'the retries went out from the slow replica').toEqual(['UAPPROVER1', 'UAPPROVER1', 'UAPPROVER2', 'UAPPROVER2']);
  });

  it('a page the slow replica failed to send is not retried early by the fast one', async () => {
    refuseFirstPages();
    await page(r.slow);
    await r.slow.runtime.delivery.tick();
    expect(pagesSent()).toHaveLength(2);
    await r.fast.runtime.delivery.tick();
    expect(pagesSent(), 'the fast replica, at once').toHaveLength(2);
    await pass(RETRY_AFTER_MS / 2);
    await r.fast.runtime.delivery.tick();
    expect(pagesSent(), 'the fast replica, before Retry-After').toHaveLength(2);
    await pass(RETRY_AFTER_MS / 2);
    await r.fast.runtime.delivery.tick();
    expect(pagesSent(), 'the retries went out from the fast replica').toEqual(['UAPPROVER1', 'UAPPROVER1', 'UAPPROVER2', 'UAPPROVER2']);
  });
});
