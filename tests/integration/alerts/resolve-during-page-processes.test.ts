// A page Slack has taken cannot be recalled. When an alert is resolved (here by a button press in
// the web process) while the worker process is handing its page to Slack, the resolve waits for that
// send, the escalation stops there, the alert's thread says the page had gone out, and the person
// paged is told in their page's own thread that it is resolved. Two processes on one database: the
// worker is a child process; the resolve runs in this one.
import { spawn, type ChildProcess } from 'node:child_process';
import { eq, sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveAlert } from '../../../src/alerts/actions.js';
import { alertEscalations, alertPages } from '../../../src/db/schema/index.js';
import { childScript } from '../../support/children.js';
import { usePostgresTestDb } from '../../support/db.js';
import { startFakeSlack, type FakeSlack, type SlackCall } from '../../support/fake-slack.js';
import { ALERT_TABLES, ALERTS_CHANNEL, alertConfig, alertHarness, type AlertHarness, passEscalationTime } from '../../support/alert-fixtures.js';

const database = usePostgresTestDb({ truncate: ALERT_TABLES });
let slack: FakeSlack;
let h: AlertHarness;
let worker: ChildProcess | undefined;
let seq = 0;

beforeEach(async () => {
  slack = await startFakeSlack();
  h = await alertHarness({ database: database(), config: alertConfig(slack, { SLACK_APPROVERS: 'UAPPROVER1' }) });
});
afterEach(async () => {
  if (worker && worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
  await h?.close();
  await slack.close();
});

const answer = (body: Record<string, unknown>) => {
  const to = String(body.channel);
  return { body: { ok: true, channel: to.startsWith('U') ? `D${to}` : to, ts: `${1_700_000_000 + (seq += 1)}.000100` } };
};

/** Waits until `check` holds (the other process's progress), asking every 10 ms; gives up after 10 s. */
async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (let i = 0; i < 1_000; i += 1) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('an alert resolved in the web process while the worker process hands its page to Slack', () => {
  it('waits for the page, stops the escalation, and follows the page with "resolved" in its thread and in the alert thread', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    let pageArrived = false;
    slack.on('chat.postMessage', async (body) => {
      if (String(body.channel).startsWith('U')) {
        pageArrived = true;
        await held; // Slack is slow to take the page
      }
      return answer(body);
    });
    const { groupId } = await h.sink.record({ source: 'engine', severity: 'critical', title: 'engine loop stopped', fingerprint: 'G' });
    await h.runtime.escalation.tick();
    worker = spawn(process.execPath, [childScript('alert-worker-child'), database().url, slack.url, '2026-01-05T12:00:00Z', 'UAPPROVER1'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await until('the page to reach Slack', () => pageArrived);

    const resolving = resolveAlert({ db: database().db, clock: h.clock, groupId, actor: 'UOPERATOR1' });
    await until('the resolve to wait for the send', async () => {
      const rows = await database().db.execute(sql`select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and wait_event = 'advisory'`);
      return (rows as unknown[]).length > 0;
    });
    release();
    const resolved = await resolving;
    expect(resolved.group.status).toBe('resolved');
    const [esc] = await database().db.select().from(alertEscalations).where(eq(alertEscalations.groupId, groupId));
    expect(esc).toMatchObject({ status: 'stopped', stoppedReason: 'resolved by UOPERATOR1' });

    const posts = () => slack.callsTo('chat.postMessage');
    const dm = posts().find((c) => c.body.channel === 'UAPPROVER1')!;
    const resolvedInThread = await until('the resolution in the alert thread', () =>
      posts().find((c) => c.body.channel === ALERTS_CHANNEL && c.body.thread_ts && String(c.body.text).includes('Resolved by')));
    expect(String(resolvedInThread.body.text)).toContain('Already on its way when this was done, and delivered: the page to <@UAPPROVER1>.');
    const inPageThread = await until('the resolution under the page', () =>
      posts().find((c: SlackCall) => c.body.channel === 'DUAPPROVER1' && c.body.thread_ts !== undefined));
    expect(String(inPageThread.body.text)).toContain('Resolved by <@UOPERATOR1>');
    expect(inPageThread.at).toBeGreaterThan(dm.at);

    // The escalation stays stopped: the next rung's deadline passes and nobody else is paged.
    await passEscalationTime(database().db, h.clock, 30 * 60_000);
    await h.runtime.escalation.tick();
    expect((await database().db.select().from(alertPages)).map((p) => p.userId)).toEqual(['UAPPROVER1']);
  });
});
