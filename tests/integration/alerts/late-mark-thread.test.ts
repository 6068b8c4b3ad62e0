// A repeat whose write stalled is marked late only once it has committed (alerts/sink.ts): the group's
// sync may post it as a thread reply before that, saying nothing of it. The thread is then told, once,
// whether the reply went out before the mark or was on its way as it landed — on real PostgreSQL
// behind the stall proxy, with a fake Slack holding the calls the test needs held.
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { alertEvents } from '../../../src/db/schema/index.js';
import { usePostgresTestDb } from '../../support/db.js';
import { useAlertOutageBed } from '../../support/alert-outage-bed.js';
import { ALERT_TABLES, ALERTS_CHANNEL, alertConfig } from '../../support/alert-fixtures.js';

const database = usePostgresTestDb({ truncate: [...ALERT_TABLES, 'bot_state'] });
const bed = useAlertOutageBed(database);

const held = () => {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let reached!: () => void;
  const seen = new Promise<void>((r) => (reached = r));
  return { release, released, reached, seen };
};

/** A group with its parent posted, then a repeat whose write stalls and whose direct message Slack holds. */
async function repeatStalled(holdReply: boolean) {
  const clock = new ManualClock('2026-01-05T12:00:00Z');
  const config = alertConfig(bed.slack, { SLACK_RETRY_PAUSE: '10ms', KILL_DB_TIMEOUT: '300ms' });
  const { runtime, sink } = await bed.openAlerts(config, clock);
  const direct = held();
  const reply = held();
  let seq = 0;
  bed.slack.on('chat.postMessage', async (body) => {
    const ok = { body: { ok: true, channel: body.channel, ts: `1700000200.${String((seq += 1)).padStart(6, '0')}` } };
    if (String(body.text).includes('database unreachable')) {
      direct.reached();
      await direct.released;
    }
    if (holdReply && body.thread_ts && String(body.text).includes('Again:')) {
      reply.reached();
      await reply.released;
    }
    return ok;
  });
  const ticks = async (n: number) => {
    for (let i = 0; i < n; i += 1) {
      await runtime.delivery.tick();
      await database().db.execute(sql`update alert_slack_pacing set next_at = 'epoch'`);
    }
  };
  // Stored without the stall watch (a loaded machine could take KILL_DB_TIMEOUT over it): the group and its parent.
  await sink.record({ source: 'engine', severity: 'critical', title: 'lease unconfirmed', fingerprint: 'lease' });
  await ticks(1);
  expect(bed.slack.callsTo('chat.postMessage').filter((c) => !c.body.thread_ts)).toHaveLength(1); // its parent
  bed.proxy.set('stall');
  const raising = sink.raise({ source: 'engine', severity: 'critical', title: 'lease unconfirmed', fingerprint: 'lease' });
  await direct.seen;
  clock.advance(60_000);
  bed.proxy.set('forward');
  const end = Date.now() + 10_000;
  while ((await database().db.select().from(alertEvents)).length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return { sink, runtime, ticks, direct, reply, raising };
}

const lateLines = () => bed.slack.callsTo('chat.postMessage').filter((c) => String(c.body.text).includes('An occurrence shown above was stored late'));

describe('a repeat shown in the thread before its late mark landed', () => {
  it('the thread is told once, under the reply that listed it', async () => {
    const { ticks, direct, raising } = await repeatStalled(false);
    await ticks(2); // the repeat goes into the thread, unmarked
    const replies = bed.slack.callsTo('chat.postMessage').filter((c) => String(c.body.text).includes('Again:'));
    expect(replies).toHaveLength(1);
    expect(String(replies[0]!.body.text)).not.toContain('LATE');
    direct.release();
    await raising;
    await ticks(3);
    expect(lateLines()).toHaveLength(1);
    expect(lateLines()[0]!.body.thread_ts).toBe(replies[0]!.body.thread_ts);
    expect(String(lateLines()[0]!.body.text)).toContain('LATE: raised at 2026-01-05 12:00:00 UTC');
    expect(String(lateLines()[0]!.body.text)).toContain('its write waited on the database; stored at 2026-01-05 12:01:00 UTC, 1m 0s late');
  });

  it('a reply on its way as the mark lands: the sync tells the thread, once', async () => {
    const { runtime, ticks, direct, reply, raising } = await repeatStalled(true);
    const syncing = runtime.delivery.tick();
    await reply.seen;
    direct.release();
    await raising;
    reply.release();
    await syncing;
    await database().db.execute(sql`update alert_slack_pacing set next_at = 'epoch'`);
    await ticks(3);
    expect(lateLines()).toHaveLength(1);
    expect(lateLines()[0]!.body.channel).toBe(ALERTS_CHANNEL);
    expect(String(lateLines()[0]!.body.text)).toContain('LATE: raised at 2026-01-05 12:00:00 UTC');
  });
});
