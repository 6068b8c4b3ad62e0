// The checklist's "cancel again" button in Slack, while a venue does not answer: each call that missed
// its deadline is said in the incident's thread as it happens (as `ctb kill` prints its own), not only
// in the answer once the cancel gives up. The venue that stalls is paper, whose calls wait on the
// database (its table held locked) under the database's deadline (KILL_DB_TIMEOUT, short here); Kraken
// is the fake Kraken through the real adapter. Signed requests on the real Bolt receiver.
import { afterEach, describe, expect, it } from 'vitest';
import { createKillFeature } from '../../../src/app/features/kill.js';
import { notifiedIncidentPoster, notifiedIncidentThread } from '../../../src/app/notifier-ports.js';
import { persistKill } from '../../../src/services/kill/persist-kill.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { startFakeKraken, type FakeKraken } from '../../support/fake-kraken.js';
import { until } from '../../support/held-kraken.js';
import { whileTableLocked } from '../../support/kill-context.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';
import { OPS_CHANNEL, startSlackHarness, USERS, type SlackHarness } from '../../support/slack-harness.js';

let database: TestDatabase | undefined;
let kraken: FakeKraken | undefined;
let h: SlackHarness | undefined;
afterEach(async () => {
  await h?.close();
  await kraken?.close();
  await database?.close();
});

/** The bot with the kill feature, a fake Kraken and a kill `killId` already recorded: its incident. */
async function killedWithButton(killId: string, env: Record<string, string> = {}) {
  database = await createPostgresTestDb();
  kraken = await startFakeKraken({ apiKey: TEST_API_KEY, secret: TEST_API_SECRET });
  h = await startSlackHarness({
    database,
    env: {
      KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url, KRAKEN_RATE_LIMIT: 'false',
      KILL_DB_TIMEOUT: '300ms', KILL_CONFIRM_WAIT: '1ms', KILL_CONFIRM_ATTEMPTS: '1', ...env,
    },
    features: [createKillFeature({ incidentPoster: notifiedIncidentPoster, incidentThread: notifiedIncidentThread })],
  });
  const { incident } = await persistKill(database.db, { killId, at: new Date(), actor: USERS.operator, trigger: 'manual', reason: 'drill', cancelReport: {} });
  return incident;
}

describe('the cancel again button while a venue does not answer', () => {
  it('says in the incident thread, as it happens, which call missed its deadline', async () => {
    const incident = await killedWithButton('drill-1');
    const threadTs = '1700000000.000100';
    const inThread = () => h!.fake.callsTo('chat.postMessage').filter((c) => c.body.thread_ts === threadTs).map((c) => String(c.body.text));
    const line = ':hourglass_flowing_sand: Cancel again: paper: CancelAll (try 1) did not answer within 0.3 s.';

    // The lock is let go once the answer is in the thread (paper's calls give up at KILL_DB_TIMEOUT).
    await whileTableLocked(database!.url, 'paper_orders', async () => {
      await h!.action({ actionId: 'incident_item_cancel_orders', value: String(incident.id), user: USERS.operator, channel: OPS_CHANNEL, messageTs: threadTs });
      await until(() => inThread().some((t) => t.includes('NOT ALL CONFIRMED')));
    });
    await h!.idle();

    const said = inThread();
    // The line came before the answer, which says what was not confirmed.
    const told = said.findIndex((t) => t.endsWith(line));
    const answer = said.findIndex((t) => t.includes('NOT ALL CONFIRMED'));
    expect(told, said.join('\n')).toBeGreaterThanOrEqual(0);
    expect(answer, said.join('\n')).toBeGreaterThan(told);
  }, 60_000);
});

describe('the cancel again button when Slack rate-limits its progress line', () => {
  it('posts the line (after Slack\'s wait) before the answer, never after it', async () => {
    const incident = await killedWithButton('drill-2');
    const threadTs = '1700000000.000200';
    // What the thread shows, in the order Slack took it: the first progress line is refused once for the rate limit.
    const shown: string[] = [];
    let refused = false;
    let seq = 0;
    h!.fake.on('chat.postMessage', (body) => {
      const text = String(body.text);
      if (body.thread_ts === threadTs && text.includes('did not answer') && !refused) {
        refused = true;
        return { status: 429, headers: { 'retry-after': '1' }, body: { ok: false, error: 'ratelimited' } };
      }
      if (body.thread_ts === threadTs) shown.push(text);
      return { body: { ok: true, channel: body.channel ?? OPS_CHANNEL, ts: `1700000001.${String(++seq).padStart(6, '0')}`, message: { text } } };
    });

    await whileTableLocked(database!.url, 'paper_orders', async () => {
      await h!.action({ actionId: 'incident_item_cancel_orders', value: String(incident.id), user: USERS.operator, channel: OPS_CHANNEL, messageTs: threadTs });
      await until(() => shown.some((t) => t.includes('NOT ALL CONFIRMED')));
    });
    await h!.idle();

    expect(refused).toBe(true);
    const told = shown.findIndex((t) => t.includes('CancelAll (try 1) did not answer'));
    const answer = shown.findIndex((t) => t.includes('NOT ALL CONFIRMED'));
    expect(told, shown.join('\n')).toBeGreaterThanOrEqual(0);
    expect(answer, shown.join('\n')).toBeGreaterThan(told);
  }, 60_000);
});

describe('the cancel again button with no thread to post its progress in', () => {
  it('says at most three lines through the clicker\'s response_url, so Slack still takes its answer', async () => {
    const incident = await killedWithButton('drill-3', { KILL_CONFIRM_ATTEMPTS: '3', KILL_CALL_TIMEOUT: '1s', KILL_CONFIRM_WAIT: '1500ms' });
    // Kraken answers neither call: its rounds say a line per missed deadline, and paper two more.
    const releases = [kraken!.hold('CancelAll'), kraken!.hold('OpenOrders')];
    // A press Slack sends with no channel and no message (nothing to thread under): every word goes through the response_url.
    await whileTableLocked(database!.url, 'paper_orders', async () => {
      await h!.action({ actionId: 'incident_item_cancel_orders', value: String(incident.id), user: USERS.operator, extra: { channel: undefined, message: undefined, container: { type: 'view' } } });
      await until(() => h!.fake.calls.some((c) => c.method.includes('respond/') && String(c.body.text).includes('NOT ALL CONFIRMED')));
    });
    await h!.idle();
    for (const release of releases) release();

    const uses = h!.fake.calls.filter((c) => c.method.includes('respond/'));
    const notSaid = h!.logs().filter((l) => l.msg === 'cancel again: progress line not said, the response_url is kept for the answer');
    // The venue's rounds say more lines than the response_url could take with the answer.
    expect(notSaid.length, uses.map((c) => String(c.body.text)).join('\n')).toBeGreaterThan(0);
    expect(uses.filter((c) => c.refused)).toEqual([]);
    expect(uses.length).toBeLessThanOrEqual(4);
    expect(String(uses.at(-1)!.body.text)).toContain('NOT ALL CONFIRMED');
  }, 60_000);
});
