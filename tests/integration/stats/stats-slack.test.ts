// `/stats` through the real Bolt receiver: figures in the channel, the equity chart uploaded into
// that message's thread (files.uploadV2 against the fake Slack), usage for bad text.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { FIXTURE_NOW, seedHandComputedLedger } from '../../support/factories/stats-ledger-fixture.js';
import { OPS_CHANNEL, startSlackHarness, USERS, type SlackHarness } from '../../support/slack-harness.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('/stats in Slack', () => {
  let database: TestDatabase;
  let h: SlackHarness;
  beforeAll(async () => {
    database = await createPostgresTestDb();
    await seedHandComputedLedger(database.db);
    h = await startSlackHarness({ database, clock: new ManualClock(FIXTURE_NOW) });
  });
  afterAll(async () => {
    await h?.close();
    await database?.close();
  });

  it('posts the figures in the channel and the equity chart in their thread', async () => {
    h.fake.on('chat.postMessage', (body) => ({ body: { ok: true, channel: body.channel, ts: '1768040000.000100' } }));
    const res = await h.slash('/stats', '7d', { user: USERS.reader });
    expect(res.status).toBe(200);
    await h.idle();
    const posts = h.fake.callsTo('chat.postMessage');
    expect(posts).toHaveLength(1);
    expect(posts[0]!.body.channel).toBe(OPS_CHANNEL);
    expect(posts[0]!.body.text).toMatch(/^\[PAPER\] Stats — last 7d: paper: 3 closed, 1W\/1L, PnL -0\.61/);

    const [urlCall] = h.fake.callsTo('files.getUploadURLExternal');
    expect(urlCall!.body).toMatchObject({ filename: 'equity-7d.png' });
    const upload = h.fake.calls.find((c) => c.method.startsWith('upload/'));
    expect(upload, 'the PNG was POSTed to the upload_url').toBeDefined();
    const at = upload!.raw.indexOf(PNG_SIGNATURE);
    expect(at).toBeGreaterThanOrEqual(0);
    expect(upload!.raw.length - at).toBeGreaterThan(20_000);
    const [complete] = h.fake.callsTo('files.completeUploadExternal');
    // The chart goes into the thread of the stats message the bot just posted.
    expect(complete!.body).toMatchObject({ channel_id: OPS_CHANNEL, thread_ts: '1768040000.000100' });
    expect(complete!.body.files).toEqual([{ id: 'F0FAKE1', title: 'Equity and drawdown — last 7d' }]);
    const log = await h.commandLog();
    expect(log.at(-1)).toMatchObject({ source: 'slack', actor: USERS.reader, command: 'stats', allowed: true, result: 'ok' });
    // The ack was timed for the Slack ack latency histogram on /metrics.
    const ack = await h.ctx.metrics.getSingleMetricAsString('ctb_slack_ack_duration_seconds');
    expect(ack).toMatch(/ctb_slack_ack_duration_seconds_count\{[^}]*surface="command"[^}]*\} 1$/m);
  });

  it('answers ephemerally, without a chart, when the bot may not post in the channel', async () => {
    h.fake.on('chat.postMessage', () => ({ body: { ok: false, error: 'not_in_channel' } }));
    const uploadsBefore = h.fake.callsTo('files.getUploadURLExternal').length;
    const before = h.responses().length;
    await h.slash('/stats', '24h', { user: USERS.reader });
    await h.idle();
    const [reply] = h.responses().slice(before);
    expect(reply?.response_type).toBe('ephemeral');
    expect(reply?.text).toMatch(/Stats — last 24h: paper: 2 closed/);
    expect(JSON.stringify(reply?.blocks)).toContain('Invite the bot to the channel to get the chart');
    expect(h.fake.callsTo('files.getUploadURLExternal')).toHaveLength(uploadsBefore);
  });

  it('answers bad text with the usage and runs nothing', async () => {
    const before = h.responses().length;
    await h.slash('/stats', 'forever', { user: USERS.reader });
    await h.idle();
    const reply = JSON.stringify(h.responses().slice(before));
    expect(reply).toContain('takes one period: 24h, 7d, 30d, all (default all), got \\"forever\\"');
  });
});
