// Paging follows what people did to the alert: a silence that ends on a group still open starts
// the ladder again; a page still queued when someone acknowledged, resolved or silenced the group is
// let go (kept, marked cancelled with why), checked when it is about to go out, by whichever process
// sends it; an action waits for a page being sent right now and says in the thread that it went out.
import { and, asc, eq, sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acknowledgeAlert, resolveAlert, silenceAlert } from '../../../src/alerts/actions.js';
import { alertSilenceCommand } from '../../../commands/alert-actions.js';
import { alertsListCommand } from '../../../commands/alerts-list.js';
import { runCommand } from '../../../commands/run-command.js';
import { markAlertResolved, silenceAlertGroup } from '../../../src/db/queries/alert-groups.js';
import { silentLogger } from '../../../src/logger.js';
import type { Notifier } from '../../../src/notifications/notification.js';
import { slackNotifier } from '../../../src/slack/notifier.js';
import { renderAlertActionDone } from '../../../src/slack/views/alert-action.js';
import { alertDeliveries, alertEscalations, alertGroups, alertPages } from '../../../src/db/schema/index.js';
import { usePostgresTestDb } from '../../support/db.js';
import { ctbInShell, type ShellRun } from '../../support/ctb-shell.js';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.js';
import { startTestSmtp, type TestSmtp } from '../../support/smtp.js';
import { ALERT_TABLES, ALERTS_CHANNEL, alertConfig, alertHarness, type AlertHarness, passEscalationTime } from '../../support/alert-fixtures.js';

const database = usePostgresTestDb({ truncate: ALERT_TABLES });
let slack: FakeSlack;
let smtp: TestSmtp;
let h: AlertHarness;
const operator = { id: 'cli:op', source: 'cli' as const };

async function start(overrides: Record<string, string> = {}) {
  h = await alertHarness({
    database: database(),
    config: alertConfig(slack, {
      SMTP_URL: smtp.url, ALERT_EMAIL_TO: 'oncall@example.com', ALERT_EMAIL_FROM: 'ctb <ctb@example.com>',
      // Each call to a Slack that answers 503 is tried three times, as shipped; the pauses between the
      // tries (200 and 400 ms shipped) are the outbox's business here, not these tests'.
      SLACK_RETRY_PAUSE: '10ms',
      ...overrides,
    }),
  });
}

beforeEach(async () => {
  slack = await startFakeSlack();
  smtp = await startTestSmtp({ user: 'alerts', pass: 'smtp-test-pass' });
});
afterEach(async () => {
  await h?.close();
  await slack?.close();
  await smtp?.close();
});

const critical = () => h.sink.record({ source: 'engine', severity: 'critical', title: 'engine loop stopped', fingerprint: 'G' });
const pages = async () =>
  (await database().db.select().from(alertPages).orderBy(asc(alertPages.id))).map((p) => `${p.round}.${p.step}:${p.userId}`);
const escalation = async (groupId: number) =>
  (await database().db.select().from(alertEscalations).where(eq(alertEscalations.groupId, groupId)))[0]!;
const dms = () => slack.callsTo('chat.postMessage').filter((c) => String(c.body.channel).startsWith('U')).map((c) => String(c.body.channel));
const threadTexts = () => slack.callsTo('chat.postMessage').filter((c) => c.body.thread_ts).map((c) => String(c.body.text));
async function drain(rounds = 10) {
  for (let i = 0; i < rounds; i += 1) {
    await passEscalationTime(database().db, h.clock, 1_000);
    await h.runtime.delivery.tick();
  }
}

describe('a silence that ends on an alert still open', () => {
  it('pages again from the first rung, with DM and email, and is no longer shown as silenced', async () => {
    await start();
    const { groupId } = await critical();
    await h.runtime.escalation.tick();
    await drain();
    expect(await pages()).toEqual(['1.0:UAPPROVER1', '1.0:UAPPROVER2']);
    expect(smtp.received).toHaveLength(1);

    await silenceAlert({ db: database().db, clock: h.clock, groupId, actor: 'cli:op', durationMs: 20_000 });
    await passEscalationTime(database().db, h.clock, 10_000);
    await critical(); // repeats during the silence: counted, nobody paged
    await h.runtime.escalation.tick();
    expect(await pages()).toHaveLength(2);
    expect(await escalation(groupId)).toMatchObject({ status: 'silenced' });

    await passEscalationTime(database().db, h.clock, 15_000); // the silence ended 5 s ago
    await critical();
    await critical();
    await h.runtime.escalation.tick();
    expect((await pages()).slice(2)).toEqual(['2.0:UAPPROVER1', '2.0:UAPPROVER2']);
    expect(await escalation(groupId)).toMatchObject({ status: 'active', stoppedReason: null, roundBase: 1, round: 2, step: 1 });
    const dmsBefore = dms().length;
    await drain();
    expect(dms().length - dmsBefore).toBe(2);
    expect(smtp.received).toHaveLength(2);
    expect(smtp.received[1]!.raw).toContain('critical alert');
    const thread = threadTexts();
    expect(thread.some((t) => t.includes('The silence is over and this alert is still open'))).toBe(true);
    // The ladder starts over, counted anew: each approver's delivered page is said in both runs.
    expect(thread.filter((t) => t.includes('round 1/2, step 1/'))).toHaveLength(4);

    const list = await runCommand(alertsListCommand, h.ctx, operator, { limit: 50 });
    expect(list.groups[0]).toMatchObject({ id: groupId, silencedUntil: null });
  });

  it('pages again at the end of the silence even when the alert does not fire again', async () => {
    await start();
    const { groupId } = await critical();
    await h.runtime.escalation.tick();
    await silenceAlert({ db: database().db, clock: h.clock, groupId, actor: 'cli:op', durationMs: 60_000 });
    await passEscalationTime(database().db, h.clock, 59_000);
    expect(await h.runtime.escalation.tick()).toBe(0);
    const list = await runCommand(alertsListCommand, h.ctx, operator, { limit: 50 });
    expect(list.groups[0]!.silencedUntil).not.toBeNull(); // still silenced: shown
    await passEscalationTime(database().db, h.clock, 1_000);
    expect(await h.runtime.escalation.tick()).toBe(1);
    expect((await pages()).slice(2)).toEqual(['2.0:UAPPROVER1', '2.0:UAPPROVER2']);
  });

  it('does not page again when someone acknowledged during the silence', async () => {
    await start();
    const { groupId } = await critical();
    await h.runtime.escalation.tick();
    await silenceAlert({ db: database().db, clock: h.clock, groupId, actor: 'cli:op', durationMs: 20_000 });
    await acknowledgeAlert({ db: database().db, clock: h.clock, groupId, actor: 'UAPPROVER1' });
    await passEscalationTime(database().db, h.clock, 30_000);
    await critical();
    await h.runtime.escalation.tick();
    expect(await pages()).toHaveLength(2);
    expect(await escalation(groupId)).toMatchObject({ status: 'stopped', stoppedReason: 'acknowledged by UAPPROVER1' });
  });
});

describe('pages queued when the group is acknowledged or resolved', () => {
  it('resolved while Slack and SMTP were down: no DM, no page note, no email; the resolution still goes out', async () => {
    await start();
    slack.on('chat.postMessage', () => ({ status: 503, body: { ok: false, error: 'service_unavailable' } }));
    smtp.refuseWith = 'mailbox temporarily unavailable';
    const { groupId } = await critical();
    await h.runtime.escalation.tick();
    await drain(3);
    expect(slack.callsTo('chat.postMessage').length).toBeGreaterThan(0); // tried, failed

    await resolveAlert({ db: database().db, clock: h.clock, groupId, actor: 'cli:op' });
    slack.on('chat.postMessage', (body) => ({ body: { ok: true, channel: body.channel, ts: `${Date.now() / 1000}` } }));
    smtp.refuseWith = null;
    slack.calls.length = 0;
    await passEscalationTime(database().db, h.clock, 8_000);
    await drain(20);

    expect(dms()).toEqual([]);
    expect(smtp.received).toHaveLength(0);
    const thread = threadTexts();
    expect(thread.some((t) => t.includes('Acknowledge within'))).toBe(false);
    expect(thread.some((t) => t.includes('Resolved by'))).toBe(true);
    const rows = await database().db.select().from(alertDeliveries).where(eq(alertDeliveries.groupId, groupId));
    const cancelled = rows.filter((r) => r.status === 'cancelled');
    expect(cancelled.map((r) => r.kind).sort()).toEqual(['email', 'slack_dm', 'slack_dm']);
    for (const r of cancelled) expect(r).toMatchObject({ cancelledReason: 'group resolved by cli:op', sentAt: null });
    expect(rows.filter((r) => r.status === 'pending')).toEqual([]);
  });

  it('checks at send time: a group resolved by a process that cancelled nothing still sends no page', async () => {
    await start();
    const { groupId } = await critical();
    await h.runtime.escalation.tick();
    // Another process resolves it (only the group row changes: nothing cancelled there).
    await markAlertResolved(database().db, { id: groupId, actor: 'UOTHER', at: h.clock.now() });
    await drain();
    expect(dms()).toEqual([]);
    expect(smtp.received).toHaveLength(0);
    const cancelled = await database().db.select().from(alertDeliveries)
      .where(and(eq(alertDeliveries.groupId, groupId), eq(alertDeliveries.status, 'cancelled')));
    expect(cancelled).toHaveLength(3); // two DMs and the email (a page's thread line is queued only once it is delivered)
    expect(cancelled.every((r) => r.cancelledReason === 'group resolved by UOTHER' && r.cancelledAt !== null)).toBe(true);
  });

  it('acknowledged: queued pages are let go, the acknowledgement note goes out', async () => {
    await start();
    const { groupId } = await critical();
    await h.runtime.escalation.tick();
    await acknowledgeAlert({ db: database().db, clock: h.clock, groupId, actor: 'UAPPROVER2' });
    await drain();
    expect(dms()).toEqual([]);
    expect(smtp.received).toHaveLength(0);
    const thread = threadTexts();
    expect(thread.some((t) => t.includes('Acknowledged by'))).toBe(true);
    expect(thread.some((t) => t.includes('Acknowledge within'))).toBe(false);
    const [parent] = slack.callsTo('chat.postMessage').filter((c) => c.body.channel === ALERTS_CHANNEL && !c.body.thread_ts);
    expect(parent).toBeDefined();
    const [group] = await database().db.select().from(alertGroups).where(eq(alertGroups.id, groupId));
    expect(group!.status).toBe('acknowledged');
  });
});

describe('acknowledging a page already delivered', () => {
  it('follows each page, in its own thread in the DM, with who acknowledged; the alert thread says it too', async () => {
    await start();
    const { groupId } = await critical();
    await h.runtime.escalation.tick();
    await drain();
    const delivered = await database().db.select().from(alertDeliveries).where(and(eq(alertDeliveries.kind, 'slack_dm'), eq(alertDeliveries.status, 'sent')));
    expect(delivered.map((d) => d.target).sort()).toEqual(['UAPPROVER1', 'UAPPROVER2']);

    await acknowledgeAlert({ db: database().db, clock: h.clock, groupId, actor: 'UAPPROVER2' });
    await drain();
    for (const page of delivered) {
      const { channel, ts } = page.result as { channel: string; ts: string };
      const under = slack.callsTo('chat.postMessage').filter((c) => c.body.channel === channel && c.body.thread_ts === ts).map((c) => String(c.body.text));
      expect(under, `under the page to ${page.target}`).toEqual([expect.stringContaining('Acknowledged by <@UAPPROVER2>: escalation stopped, nobody else is paged for this alert.')]);
    }
    expect(threadTexts().some((t) => t.includes('Acknowledged by <@UAPPROVER2>. Escalation stopped.'))).toBe(true);
  });
});

describe('the acknowledge deadline in a page', () => {
  it('says the real SLA: 30s, 1m 30s', async () => {
    await start({ ESCALATION_ACK_SLA: '30s' });
    await critical();
    await h.runtime.escalation.tick();
    await drain();
    expect(threadTexts().find((t) => t.includes(':pager:'))).toContain('Acknowledge within 30s or it escalates.');
    await h.close();
    await database().db.execute(sql.raw(`truncate ${ALERT_TABLES.join(', ')} restart identity`));
    slack.calls.length = 0;
    await start({ ESCALATION_ACK_SLA: '90s' });
    await critical();
    await h.runtime.escalation.tick();
    await drain();
    expect(threadTexts().find((t) => t.includes(':pager:'))).toContain('Acknowledge within 1m 30s or it escalates.');
  });
});

describe('pages queued when the group is silenced', () => {
  it('silenced while Slack and SMTP were down: nothing queued goes out during the silence; paging starts over when it ends', async () => {
    await start();
    slack.on('chat.postMessage', () => ({ status: 503, body: { ok: false, error: 'service_unavailable' } }));
    smtp.refuseWith = 'mailbox temporarily unavailable';
    const { groupId } = await critical();
    await h.runtime.escalation.tick();
    await drain(3);
    expect(dms()).not.toEqual([]); // tried, failed

    const silenced = await silenceAlert({ db: database().db, clock: h.clock, groupId, actor: 'cli:op', durationMs: 60_000 });
    const until = silenced.group.silencedUntil!.toISOString().replace(/\.\d{3}Z$/, 'Z'); // a minute after the database's now()
    slack.on('chat.postMessage', (body) => ({ body: { ok: true, channel: body.channel, ts: `${Date.now() / 1000}` } }));
    smtp.refuseWith = null;
    slack.calls.length = 0;
    await drain(30); // Slack and SMTP are back; the silence has 27 s left

    expect(dms()).toEqual([]);
    expect(smtp.received).toHaveLength(0);
    expect(threadTexts().some((t) => t.includes('Acknowledge within'))).toBe(false);
    expect(threadTexts().find((t) => t.includes(':mute:'))).toContain('paging paused until the silence ends');
    const rows = await database().db.select().from(alertDeliveries).where(eq(alertDeliveries.groupId, groupId));
    const cancelled = rows.filter((r) => r.status === 'cancelled');
    expect(cancelled.map((r) => r.kind).sort()).toEqual(['email', 'slack_dm', 'slack_dm']);
    for (const r of cancelled) expect(r).toMatchObject({ cancelledReason: `group silenced by cli:op until ${until}`, sentAt: null });

    await passEscalationTime(database().db, h.clock, 30_000); // the silence is over, nobody acknowledged: the ladder pages afresh
    await h.runtime.escalation.tick();
    await drain();
    expect(dms().sort()).toEqual(['UAPPROVER1', 'UAPPROVER2']);
    expect(smtp.received).toHaveLength(1);
    expect(threadTexts().some((t) => t.includes('round 1/2, step 1/'))).toBe(true);
  });

  it('checks at send time: a group silenced by a process that cancelled nothing sends no page while the silence lasts', async () => {
    await start();
    const { groupId } = await critical();
    await h.runtime.escalation.tick();
    await silenceAlertGroup(database().db, { id: groupId, actor: 'UOTHER', forMs: 3_600_000 });
    await drain();
    expect(dms()).toEqual([]);
    expect(smtp.received).toHaveLength(0);
    const cancelled = await database().db.select().from(alertDeliveries)
      .where(and(eq(alertDeliveries.groupId, groupId), eq(alertDeliveries.status, 'cancelled')));
    expect(cancelled).toHaveLength(3); // two DMs and the email (a page's thread line is queued only once it is delivered)
    expect(cancelled.every((r) => r.cancelledReason?.startsWith('group silenced by UOTHER until '))).toBe(true);
  });

  // Its verdict is not time, but it pages through both rounds of the ladder first (7 escalation ticks
  // and 70 outbox drains, each a few statements and a Slack or SMTP send): ~2 s on an idle machine,
  // against ~0.2 s for its neighbours, and over 30 s at load ~27 on 2 cores. Nothing in it waits on
  // the wall clock (the ladder and the outbox run on the test's clock), so it is given more time.
  it('silencing after the escalation ran out says nothing was left to pause, and where and when the ladder ended', async () => {
    await start();
    const { groupId } = await critical();
    for (let i = 0; i < 20 && (await escalation(groupId)).status !== 'exhausted'; i += 1) {
      await h.runtime.escalation.tick();
      await drain();
      await passEscalationTime(database().db, h.clock, 5 * 60_000);
    }
    const ended = await escalation(groupId);
    expect(ended).toMatchObject({ status: 'exhausted', round: 2 });
    const endedAt = ended.updatedAt.toISOString().replace(/\.\d{3}Z$/, 'Z');
    await passEscalationTime(database().db, h.clock, 60_000);

    const r = await runCommand(alertSilenceCommand, h.ctx, operator, { group: groupId, duration: '1h' });
    await drain();
    const note = threadTexts().find((t) => t.includes(':mute:'))!;
    expect(note).not.toContain('paging paused');
    expect(note).toContain(`nothing was being paged: the escalation had already run out, at step ${ended.step} of round 2, at ${endedAt}`);
    expect(r).toMatchObject({ escalationEnded: { step: ended.step, round: 2, at: ended.updatedAt.toISOString() } });
    const reply = JSON.stringify(renderAlertActionDone(r, 'silence').blocks);
    expect(reply).not.toContain('nobody is paged until');
    expect(reply).toContain(`Nothing was being paged: the escalation had already run out, at step ${ended.step} of round 2,`);
  }, 120_000);

  it('silencing an acknowledged alert says nobody was being paged, not that paging is paused', async () => {
    await start();
    const { groupId } = await critical();
    await h.runtime.escalation.tick();
    await acknowledgeAlert({ db: database().db, clock: h.clock, groupId, actor: 'UAPPROVER2' });
    const r = await runCommand(alertSilenceCommand, h.ctx, operator, { group: groupId, duration: '1h' });
    await drain();
    const note = threadTexts().find((t) => t.includes(':mute:'));
    expect(note).toBeDefined();
    expect(note).not.toContain('paging paused');
    expect(note).toContain('nobody was being paged: <@UAPPROVER2> had acknowledged it.');
    const reply = JSON.stringify(renderAlertActionDone(r, 'silence').blocks);
    expect(reply).not.toContain('nobody is paged until');
    expect(reply).toContain('Nobody was being paged: it is acknowledged by <@UAPPROVER2>.');
  });
});

describe('a page being sent as the group is resolved from another process', () => {
  it('the resolve waits for the send under way, never commits between the check and the send, and says the page went out', async () => {
    const config = alertConfig(slack, { SMTP_URL: smtp.url, ALERT_EMAIL_TO: 'oncall@example.com', ALERT_EMAIL_FROM: 'ctb <ctb@example.com>' });
    const real = slackNotifier({ config, logger: silentLogger() });
    let resolving: Promise<ShellRun> | undefined;
    // The worker has checked the group and is handing the first page to the notifier: now an
    // operator resolves the alert in a shell. Go on once that resolve has either finished or is
    // waiting for a lock.
    const notifier: Notifier = {
      carries: real.carries,
      async notify(db, n) {
        if (n.kind === 'alert_page' && resolving === undefined) {
          resolving = ctbInShell(['alerts', 'resolve', String(groupOf())], { DATABASE_URL: database().url });
          let exited = false;
          void resolving.then(() => (exited = true));
          while (!exited && !(await resolveWaitsOnALock())) await new Promise((r) => setTimeout(r, 20));
        }
        return real.notify(db, n);
      },
    };
    let statusWhenSlackGotThePage: string | undefined;
    slack.on('chat.postMessage', async (body) => {
      if (String(body.channel).startsWith('U') && statusWhenSlackGotThePage === undefined) {
        const [g] = await database().db.select().from(alertGroups);
        statusWhenSlackGotThePage = g!.status;
      }
      return { body: { ok: true, channel: body.channel, ts: `${Date.now() / 1000}` } };
    });
    h = await alertHarness({ database: database(), config, notifier });
    const { groupId } = await critical();
    groupOf = () => groupId;
    await h.runtime.escalation.tick();
    await drain(1);
    expect(resolving).toBeDefined();
    const shell = await resolving!;
    expect(shell.code, shell.stderr).toBe(0);
    await drain();

    expect(statusWhenSlackGotThePage).toBe('open'); // the page left before the resolve committed, not after
    const pages = slack.callsTo('chat.postMessage').filter((c) => String(c.body.channel).startsWith('U') && !c.body.thread_ts);
    expect(pages.map((c) => String(c.body.channel))).toHaveLength(1); // the other approver's page was let go
    // The shell queued its notes due on the database's clock, whatever its own: this test's worker sends them.
    const notes = (await database().db.select().from(alertDeliveries).where(eq(alertDeliveries.kind, 'slack_thread_note')))
      .map((d) => String(d.payload.text));
    // The group thread's note (the page's own follow-up under the DM, also "Resolved by", says nothing
    // of what was under way); read in no set order, so found by what only the thread's note says.
    const resolved = notes.find((t) => t.includes('Resolved by') && t.includes('The next alert like this opens a new thread'));
    expect(resolved).toContain(`Already on its way when this was done, and delivered: the page to <@${pages[0]!.body.channel}>.`);
    expect(slack.callsTo('chat.postMessage').filter((c) => c.body.channel === pages[0]!.body.channel && c.body.thread_ts).length,
      'the page is followed in its DM thread').toBe(1);
  });
});

let groupOf: () => number = () => 0;

/** Whether a backend of this test's database (the shell's resolve) is waiting for a lock. */
async function resolveWaitsOnALock(): Promise<boolean> {
  const rows = await database().db.execute(sql`
    select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`);
  return (Array.isArray(rows) ? rows : (rows as { rows: unknown[] }).rows).length > 0;
}
