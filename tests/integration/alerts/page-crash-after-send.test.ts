// A worker that dies after Slack accepted a page but before it recorded that must not leave the
// person paged twice (nor not at all): the delivery is claimed in its own commit before the send,
// and a worker that finds a claim nobody resolved looks for the message in Slack (the page carries
// its delivery id as message metadata) before posting it again, in the DM Slack named for an earlier
// page to that person (recorded in alert_deliveries: no conversations.list, no im:read). The crash is a
// real one: the worker is a process of its own, killed (SIGKILL) the moment Slack takes its page,
// before it hears back.
import { Writable } from 'node:stream';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alertDeliveries } from '../../../src/db/schema/index.js';
import { markEventStoredLate } from '../../../src/db/queries/alert-events.js';
import { latePagesOnMark } from '../../../src/alerts/late-pages.js';
import { createLogger } from '../../../src/logger.js';
import { childScript } from '../../support/children.js';
import { usePostgresTestDb } from '../../support/db.js';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.js';
import { ALERT_TABLES, alertConfig, alertHarness, passDeliveryTime, type AlertHarness } from '../../support/alert-fixtures.js';

const database = usePostgresTestDb({ truncate: ALERT_TABLES });
const START = '2026-01-05T12:00:00Z';
let slack: FakeSlack;
let h: AlertHarness | undefined;
let worker: ChildProcess | undefined;
/** What Slack holds in each person's DM (the fake names it `D<user id>`), newest first. */
let inbox: Map<string, Array<{ ts: string; text: string; metadata?: unknown }>>;
let seq = 0;
let logs: Array<Record<string, unknown>>;

/** Slack as it is: a DM lands in the person's inbox; channel posts are answered. */
function post(body: Record<string, unknown>) {
  const to = String(body.channel);
  const ts = `${1_700_000_000 + (seq += 1)}.000100`;
  if (to.startsWith('U')) inbox.set(`D${to}`, [{ ts, text: String(body.text), metadata: body.metadata }, ...(inbox.get(`D${to}`) ?? [])]);
  return { body: { ok: true, channel: to.startsWith('U') ? `D${to}` : to, ts } };
}

beforeEach(async () => {
  inbox = new Map();
  slack = await startFakeSlack();
  slack.on('chat.postMessage', post);
  slack.on('conversations.history', (body) => ({ body: { ok: true, messages: inbox.get(String(body.channel)) ?? [], has_more: false } }));
  logs = [];
  const config = alertConfig(slack, { SLACK_APPROVERS: 'UAPPROVER1' });
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  h = await alertHarness({ database: database(), config, logger: createLogger({ config, stdout: false, files: false, destination: sink }) });
});
afterEach(async () => {
  if (worker && worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
  await h?.close();
  await slack.close();
});

/** Runs the worker as its own process until it dies as Slack receives the page (`landed`: whether Slack kept it). */
async function crashWhilePaging(landed: boolean): Promise<void> {
  let died!: Promise<unknown>;
  const pageSeen = new Promise<void>((resolve) => {
    slack.on('chat.postMessage', (body) => {
      if (!String(body.channel).startsWith('U')) return post(body);
      const answer = landed ? post(body) : { status: 503, body: { ok: false, error: 'service_unavailable' } };
      worker!.kill('SIGKILL');
      resolve();
      return answer;
    });
  });
  worker = spawn(process.execPath, [childScript('alert-worker-child'), database().url, slack.url, START, 'UAPPROVER1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  died = once(worker, 'exit');
  await pageSeen;
  await died;
  slack.on('chat.postMessage', post);
}

async function restartAndDrain(): Promise<void> {
  for (let i = 0; i < 8; i += 1) {
    await passDeliveryTime(database().db, h!.clock, 1_000);
    await h!.runtime.delivery.tick();
  }
}

/** The latest page queued. */
const page = async () => (await database().db.select().from(alertDeliveries).where(eq(alertDeliveries.kind, 'slack_dm'))).sort((a, b) => b.id - a.id)[0]!;

/** An earlier alert paged the person, and the page was recorded: its DM is known. */
async function pagedBefore(): Promise<void> {
  await h!.sink.record({ source: 'engine', severity: 'critical', title: 'feed stalled', fingerprint: 'EARLIER' });
  await h!.runtime.escalation.tick();
  await restartAndDrain();
  expect(await page()).toMatchObject({ status: 'sent', result: { channel: 'DUAPPROVER1' } });
}

describe('a worker that dies between Slack accepting a page and recording it', () => {
  it('pages the person once: the worker that takes over finds the page in their recorded DM instead of sending it again', async () => {
    await pagedBefore();
    await h!.sink.record({ source: 'engine', severity: 'critical', title: 'engine loop stopped', fingerprint: 'G' });
    await h!.runtime.escalation.tick();
    await crashWhilePaging(true);
    expect(inbox.get('DUAPPROVER1')).toHaveLength(2);
    expect((await page()).status).toBe('pending'); // nothing recorded: the crash came first

    await restartAndDrain();

    expect(inbox.get('DUAPPROVER1')).toHaveLength(2);
    expect(await page()).toMatchObject({ status: 'sent', result: { channel: 'DUAPPROVER1', ts: inbox.get('DUAPPROVER1')![0]!.ts } });
    // The DM is the one recorded: Slack was asked what it holds, never to list the bot's DMs.
    expect(slack.callsTo('conversations.history').map((c) => c.body.channel)).toEqual(['DUAPPROVER1']);
    expect(slack.callsTo('conversations.list')).toEqual([]);
  });

  it('pages again rather than not at all when Slack will not say what the DM holds (an install without im:history)', async () => {
    await pagedBefore();
    slack.on('conversations.history', () => ({ body: { ok: false, error: 'missing_scope', needed: 'im:history' } }));
    await h!.sink.record({ source: 'engine', severity: 'critical', title: 'engine loop stopped', fingerprint: 'G' });
    await h!.runtime.escalation.tick();
    await crashWhilePaging(true);

    await restartAndDrain();

    expect(slack.callsTo('conversations.history')).toHaveLength(1);
    expect(inbox.get('DUAPPROVER1')).toHaveLength(3);
    expect((await page()).status).toBe('sent');
  });

  it('pages again, and says it could not check, when no earlier page to the person recorded their DM', async () => {
    await h!.sink.record({ source: 'engine', severity: 'critical', title: 'engine loop stopped', fingerprint: 'G' });
    await h!.runtime.escalation.tick();
    await crashWhilePaging(true);

    await restartAndDrain();

    expect(slack.callsTo('conversations.history')).toEqual([]);
    expect(slack.callsTo('conversations.list')).toEqual([]);
    expect(inbox.get('DUAPPROVER1')).toHaveLength(2);
    expect((await page()).status).toBe('sent');
    expect(logs.filter((l) => l.level === 40).map((l) => l.msg)).toContain(
      'could not check whether an interrupted page reached Slack: no earlier page to this person recorded their DM; sending it (it may arrive twice)');
  });

  it('still pages a person whose page never reached Slack before the crash', async () => {
    await h!.sink.record({ source: 'engine', severity: 'critical', title: 'engine loop stopped', fingerprint: 'G' });
    await h!.runtime.escalation.tick();
    await crashWhilePaging(false);
    expect(inbox.get('DUAPPROVER1')).toBeUndefined();

    await restartAndDrain();

    expect(inbox.get('DUAPPROVER1')).toHaveLength(1);
    expect((await page()).status).toBe('sent');
  });
});

describe("a page whose try went unanswered, then its alert's late mark landed (a write that stalled)", () => {
  it('says LATE once, by a line under the copy Slack holds: that copy predates the LATE line its queued text got', async () => {
    await pagedBefore();
    await h!.sink.record({ source: 'engine', severity: 'critical', title: 'engine loop stopped', fingerprint: 'G' });
    await h!.runtime.escalation.tick();
    // Slack takes the page but the answer says it failed: the try may have landed (it did).
    slack.on('chat.postMessage', (body) => {
      const answer = post(body);
      return String(body.channel).startsWith('U') ? { body: { ok: false, error: 'internal_error' } } : answer;
    });
    await passDeliveryTime(database().db, h!.clock, 1_000);
    await h!.runtime.delivery.tick();
    slack.on('chat.postMessage', post);
    expect(inbox.get('DUAPPROVER1')).toHaveLength(2);
    const landed = inbox.get('DUAPPROVER1')![0]!;
    expect(landed.text).not.toContain('LATE');
    const queued = await page();
    expect(queued.status).toBe('pending');

    // The alert's late mark lands now, as sink.ts writes it: the queued page's text gets the LATE line.
    const eventId = Number(queued.payload.eventId);
    const now = h!.clock.now();
    const mark = { raisedAt: '2026-01-05T11:58:00.000Z', storedAt: now.toISOString(), process: 'worker', state: null, stalled: true };
    await database().db.transaction(async (tx) => {
      const marked = await markEventStoredLate(tx, { eventId, mark, now });
      await latePagesOnMark(tx, { ...marked!, eventId, now });
    });
    expect(String((await page()).payload.text)).toContain(':hourglass: LATE:');

    await restartAndDrain();

    // Found in Slack, not posted again; the person's copy lacks LATE, so one line under it says it.
    expect(inbox.get('DUAPPROVER1')).toHaveLength(2);
    expect(await page()).toMatchObject({ status: 'sent', result: { channel: 'DUAPPROVER1', ts: landed.ts } });
    const under = slack.callsTo('chat.postMessage').filter((c) => c.body.thread_ts !== undefined && c.body.channel === 'DUAPPROVER1');
    expect(under).toHaveLength(1);
    expect(under[0]!.body.thread_ts).toBe(landed.ts);
    expect(String(under[0]!.body.text)).toContain('LATE: raised at 2026-01-05 11:58:00 UTC');
  });
});
