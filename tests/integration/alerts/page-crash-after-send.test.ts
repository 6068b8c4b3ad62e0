// A worker that dies after Slack accepted a page but before it recorded that must not leave the
// person paged twice (nor not at all): the delivery is claimed in its own commit before the send,
// and a worker that finds a claim nobody resolved looks for the message in Slack (the page carries
// its delivery id as message metadata) before posting it again. The crash is a real one: the worker
// is a process of its own, killed (SIGKILL) the moment Slack takes its page, before it hears back.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alertDeliveries } from '../../../src/db/schema/index.js';
import { childScript } from '../../support/children.js';
import { usePostgresTestDb } from '../../support/db.js';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.js';
import { ALERT_TABLES, alertConfig, alertHarness, type AlertHarness } from '../../support/alert-fixtures.js';

const database = usePostgresTestDb({ truncate: ALERT_TABLES });
const START = '2026-01-05T12:00:00Z';
let slack: FakeSlack;
let h: AlertHarness | undefined;
let worker: ChildProcess | undefined;
/** What Slack holds in each person's DM (the fake names it `D<user id>`), newest first. */
let inbox: Map<string, Array<{ ts: string; text: string; metadata?: unknown }>>;
let seq = 0;

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
  slack.on('conversations.list', () => ({
    body: { ok: true, channels: [...inbox.keys()].map((id) => ({ id, is_im: true, user: id.slice(1) })), response_metadata: { next_cursor: '' } },
  }));
  slack.on('conversations.history', (body) => ({ body: { ok: true, messages: inbox.get(String(body.channel)) ?? [], has_more: false } }));
  h = await alertHarness({ database: database(), config: alertConfig(slack, { SLACK_APPROVERS: 'UAPPROVER1' }) });
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
    h!.clock.advance(1_000);
    await h!.runtime.delivery.tick();
  }
}

const page = async () => (await database().db.select().from(alertDeliveries).where(eq(alertDeliveries.kind, 'slack_dm')))[0]!;

describe('a worker that dies between Slack accepting a page and recording it', () => {
  it('pages the person once: the worker that takes over finds the page in Slack instead of sending it again', async () => {
    await h!.sink.record({ source: 'engine', severity: 'critical', title: 'engine loop stopped', fingerprint: 'G' });
    await h!.runtime.escalation.tick();
    await crashWhilePaging(true);
    expect(inbox.get('DUAPPROVER1')).toHaveLength(1);
    expect((await page()).status).toBe('pending'); // nothing recorded: the crash came first

    await restartAndDrain();

    expect(inbox.get('DUAPPROVER1')).toHaveLength(1);
    expect(await page()).toMatchObject({ status: 'sent', result: { channel: 'DUAPPROVER1', ts: inbox.get('DUAPPROVER1')![0]!.ts } });
  });

  it('pages again rather than not at all when Slack will not say what the DM holds (an install without im:read)', async () => {
    slack.on('conversations.list', () => ({ body: { ok: false, error: 'missing_scope', needed: 'im:read' } }));
    await h!.sink.record({ source: 'engine', severity: 'critical', title: 'engine loop stopped', fingerprint: 'G' });
    await h!.runtime.escalation.tick();
    await crashWhilePaging(true);

    await restartAndDrain();

    expect(slack.callsTo('conversations.list')).toHaveLength(1);
    expect(inbox.get('DUAPPROVER1')).toHaveLength(2);
    expect((await page()).status).toBe('sent');
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
