// An alert mail the SMTP server took, whose sending worker died (or heard nothing back) before the
// outcome was recorded, is sent again: for a page, twice beats never. The second must be
// recognisably the same alert: every try of one delivery carries one Message-ID (mail clients fold
// them), and a try that finds an earlier one unresolved says in its subject and first line that it
// may be a repeat. A first try, and a retry after the server refused the mail, say no such thing.
// The crash is a real one: the worker is a process of its own, killed (SIGKILL) as the SMTP server
// keeps its mail, before it answers.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { asc, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acknowledgeAlert } from '../../../src/alerts/actions.js';
import { DeliveryWorker } from '../../../src/alerts/delivery-worker.js';
import { createAlertRuntime } from '../../../src/alerts/runtime.js';
import { Secret } from '../../../src/config/secret.js';
import { claimDeliverySend, claimOf, nextClaim } from '../../../src/db/queries/alert-deliveries.js';
import { alertDeliveries } from '../../../src/db/schema/index.js';
import { emailNotifier } from '../../../src/email/notifier.js';
import { createSmtpMailer, SMTP_TRY_MAX_MS, type Mailer } from '../../../src/email/smtp.js';
import { silentLogger } from '../../../src/logger.js';
import { childScript } from '../../support/children.js';
import { usePostgresTestDb } from '../../support/db.js';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.js';
import { readMail, startTestSmtp, type TestSmtp } from '../../support/smtp.js';
import { ALERT_TABLES, alertConfig, alertHarness, passDeliveryTime, type AlertHarness } from '../../support/alert-fixtures.js';

const database = usePostgresTestDb({ truncate: ALERT_TABLES });
const START = '2026-01-05T12:00:00Z';
const SUBJECT = '[ctb] [CRITICAL] engine loop stopped (critical alert, paged UAPPROVER1)';
/** An unmarked mail's first line: the headline. */
const HEADLINE = '[CRITICAL] engine loop stopped';
const REPEAT_SUBJECT = '[ctb] [CRITICAL] engine loop stopped — possibly a repeat (critical alert, paged UAPPROVER1)';
let slack: FakeSlack;
let smtp: TestSmtp;
let h: AlertHarness | undefined;
let worker: ChildProcess | undefined;
const closers: Array<() => void> = [];

beforeEach(async () => {
  slack = await startFakeSlack();
  smtp = await startTestSmtp();
  const config = alertConfig(slack, { SLACK_APPROVERS: 'UAPPROVER1', SMTP_URL: smtp.url, ALERT_EMAIL_TO: 'oncall@example.com', ALERT_EMAIL_FROM: 'ctb <ctb@example.com>' });
  h = await alertHarness({ database: database(), config });
});
afterEach(async () => {
  if (worker && worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
  for (const close of closers.splice(0)) close();
  await h?.close();
  await slack.close();
  await smtp.close();
});

/** The alert's mail delivery (one per test). */
const mailRow = async () => {
  const rows = await database().db.select().from(alertDeliveries).where(eq(alertDeliveries.kind, 'email')).orderBy(asc(alertDeliveries.id));
  expect(rows).toHaveLength(1);
  return rows[0]!;
};

/** The Message-ID every try of the delivery carries: its id, group and creation time, at the From address's domain. */
const stableId = (d: Awaited<ReturnType<typeof mailRow>>) => `<alert-delivery-${d.id}.${d.groupId}.${d.createdAt.getTime()}@example.com>`;

const utc = (iso: string) => new Date(iso).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
const repeatLine = (iso: string) => `Still unacknowledged. You may already have this mail: a try at ${utc(iso)} may have gone out.`;

async function raiseCritical(): Promise<void> {
  await h!.sink.record({ source: 'engine', severity: 'critical', title: 'engine loop stopped', fingerprint: 'G' });
  await h!.runtime.escalation.tick();
}

async function drain(tick: () => Promise<unknown> = () => h!.runtime.delivery.tick()): Promise<void> {
  for (let i = 0; i < 4; i += 1) {
    await passDeliveryTime(database().db, h!.clock, 60_000);
    await tick();
  }
}

/** The SMTP mailer, but after the first `times` sends the server took, the sender hears nothing back. */
function hearsNothingBack(times: number): Mailer {
  const real = createSmtpMailer(h!.ctx.config);
  let left = times;
  return {
    async send(mail) {
      const sent = await real.send(mail);
      if (left > 0) {
        left -= 1;
        throw new Error('Timeout');
      }
      return sent;
    },
    close: () => real.close(),
  };
}

/** Raises a critical alert and runs one delivery tick whose mail the server takes while the sender hears nothing back. */
async function firstTryHeardNothing(): Promise<{ runtime: ReturnType<typeof createAlertRuntime>; firstTryAt: string }> {
  const runtime = createAlertRuntime(h!.ctx, { mailer: hearsNothingBack(1) });
  closers.push(() => runtime.close());
  await raiseCritical();
  const firstTryAt = h!.clock.now().toISOString();
  await runtime.delivery.tick();
  return { runtime, firstTryAt };
}

/** A local port nothing listens on (bound, then closed): connecting to it is refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The SMTP mailer whose first `times` sends go to a closed port (the server unreachable), then to the test server. */
async function unreachableFirst(times: number): Promise<Mailer> {
  const url = new URL(smtp.url);
  url.port = String(await closedPort());
  const down = createSmtpMailer({ ...h!.ctx.config, SMTP_URL: new Secret(url.toString()) });
  const up = createSmtpMailer(h!.ctx.config);
  let left = times;
  return {
    async send(mail) {
      if (left > 0) {
        left -= 1;
        return down.send(mail);
      }
      return up.send(mail);
    },
    close: () => {
      down.close();
      up.close();
    },
  };
}

describe('alert mail sent again after its outcome went unrecorded', () => {
  it('a worker killed after the SMTP server took the mail: the next try is the same message, marked as possibly a repeat', async () => {
    await raiseCritical();
    const accepted = new Promise<void>((resolve) => {
      smtp.onAccept = () => {
        worker!.kill('SIGKILL');
        resolve();
      };
    });
    worker = spawn(process.execPath, [childScript('alert-worker-child'), database().url, slack.url, START, 'UAPPROVER1', smtp.url], { stdio: ['ignore', 'pipe', 'inherit'] });
    const died = once(worker, 'exit');
    await accepted;
    await died;
    smtp.onAccept = null;
    expect(smtp.received).toHaveLength(1);
    const unrecorded = await mailRow();
    expect(unrecorded.status).toBe('pending'); // nothing recorded: the crash came first
    const earlierTry = claimOf(unrecorded)?.at;
    expect(earlierTry).toBeDefined();

    await drain();

    expect(smtp.received).toHaveLength(2);
    const [first, again] = smtp.received.map(readMail);
    const row = await mailRow();
    expect(row.status).toBe('sent');
    expect(first!.header('message-id')).toBe(stableId(row));
    expect(again!.header('message-id')).toBe(stableId(row));
    expect(row.result).toMatchObject({ ts: stableId(row) });
    expect(first!.header('subject')).toBe(SUBJECT);
    expect(first!.text.split('\n')[0]).toBe(HEADLINE);
    expect(again!.header('subject')).toBe(REPEAT_SUBJECT);
    expect(again!.text.split('\n')[0]).toBe(repeatLine(earlierTry!));
  });

  it('a try that heard nothing back after the server took the mail: the next one is marked, with when the first began', async () => {
    const { runtime, firstTryAt } = await firstTryHeardNothing();
    expect(smtp.received).toHaveLength(1);
    expect(await mailRow()).toMatchObject({ status: 'pending', attempts: 1, lastError: 'Timeout' });

    await drain(() => runtime.delivery.tick());

    const [first, again] = smtp.received.map(readMail);
    expect(smtp.received).toHaveLength(2);
    const row = await mailRow();
    expect(row.status).toBe('sent');
    expect([first!.header('message-id'), again!.header('message-id')]).toEqual([stableId(row), stableId(row)]);
    expect(first!.header('subject')).toBe(SUBJECT);
    expect(again!.header('subject')).toBe(REPEAT_SUBJECT);
    expect(again!.text.split('\n')[0]).toBe(repeatLine(firstTryAt));
  });

  it('a refusal in between does not clear the mark: a try the server refused never went out, but the one before it may have', async () => {
    const { runtime, firstTryAt } = await firstTryHeardNothing();
    smtp.refuseWith = 'mailbox temporarily unavailable';
    await passDeliveryTime(database().db, h!.clock, 60_000);
    await runtime.delivery.tick();
    expect(await mailRow()).toMatchObject({ status: 'pending', attempts: 2 });
    smtp.refuseWith = null;

    await drain(() => runtime.delivery.tick());

    expect(smtp.received).toHaveLength(2);
    const again = readMail(smtp.received[1]!);
    expect(again.header('subject')).toBe(REPEAT_SUBJECT);
    expect(again.text.split('\n')[0]).toBe(repeatLine(firstTryAt));
  });
});

describe('alert mail that is no repeat', () => {
  it('a first try carries its delivery\'s Message-ID and no repeat mark', async () => {
    await raiseCritical();
    await h!.runtime.delivery.tick();
    expect(smtp.received).toHaveLength(1);
    const mail = readMail(smtp.received[0]!);
    const row = await mailRow();
    expect(row.status).toBe('sent');
    expect(mail.header('message-id')).toBe(stableId(row));
    expect(mail.header('subject')).toBe(SUBJECT);
    expect(mail.text.split('\n')[0]).toBe(HEADLINE);
  });

  it('a retry after the SMTP server refused the mail is not marked: the refused try certainly did not go out', async () => {
    smtp.refuseWith = 'mailbox temporarily unavailable';
    await raiseCritical();
    await h!.runtime.delivery.tick();
    expect(await mailRow()).toMatchObject({ status: 'pending', attempts: 1 });
    smtp.refuseWith = null;

    await drain();

    expect(smtp.received).toHaveLength(1);
    const mail = readMail(smtp.received[0]!);
    expect(mail.header('message-id')).toBe(stableId(await mailRow()));
    expect(mail.header('subject')).toBe(SUBJECT);
    expect(mail.text.split('\n')[0]).toBe(HEADLINE);
  });

  it('a retry after the SMTP server was unreachable is not marked: a try that never connected did not go out', async () => {
    const mailer = await unreachableFirst(1);
    const runtime = createAlertRuntime(h!.ctx, { mailer });
    closers.push(() => runtime.close());
    await raiseCritical();
    await runtime.delivery.tick();
    const failed = await mailRow();
    expect(failed).toMatchObject({ status: 'pending', attempts: 1 });
    expect(failed.lastError).toContain('ECONNREFUSED');
    expect(smtp.received).toHaveLength(0);

    await drain(() => runtime.delivery.tick());

    expect(smtp.received).toHaveLength(1);
    const mail = readMail(smtp.received[0]!);
    expect(await mailRow()).toMatchObject({ status: 'sent', attempts: 1 });
    expect(mail.header('subject')).toBe(SUBJECT);
    expect(mail.text.split('\n')[0]).toBe(HEADLINE);
  });
});

describe('alert mail another process has just claimed', () => {
  // Two processes share the email lane (two replicas, or the bot and `ctb alerts test`): one commits
  // its claim, and before it locks the lane again to send, the other locks it and finds that claim.
  it('is left to that process while its try can last; after that (it crashed) it is sent, marked with when that try began', async () => {
    await raiseCritical();
    const row = await mailRow();
    const otherTryAt = h!.clock.now();
    await claimDeliverySend(database().db, { id: row.id, claim: nextClaim(undefined, { by: 'another-process', at: otherTryAt }) });

    await h!.runtime.delivery.tick();
    await passDeliveryTime(database().db, h!.clock, SMTP_TRY_MAX_MS - 25_000);
    await h!.runtime.delivery.tick();

    expect(smtp.received).toHaveLength(0);
    const left = await mailRow();
    expect(left).toMatchObject({ status: 'pending', attempts: 0 });
    expect(claimOf(left)).toMatchObject({ by: 'another-process', n: 1 });

    await passDeliveryTime(database().db, h!.clock, 30_000);
    await h!.runtime.delivery.tick();

    expect(smtp.received).toHaveLength(1);
    const mail = readMail(smtp.received[0]!);
    expect(await mailRow()).toMatchObject({ status: 'sent' });
    expect(mail.header('subject')).toBe(REPEAT_SUBJECT);
    expect(mail.text.split('\n')[0]).toBe(repeatLine(otherTryAt.toISOString()));
  });
});

describe('a claim whose mail another process took over', () => {
  it('is let go an hour later: an acknowledgement cancelled the mail between its claim and its send', async () => {
    await raiseCritical();
    const { groupId } = await mailRow();
    // The worker's own transactions; after the first (the claim's) commits, someone acknowledges.
    const real = database().db;
    let afterCommit: (() => Promise<void>) | null = () => acknowledgeAlert({ db: real, clock: h!.clock, groupId, actor: 'UAPPROVER1' }).then(() => {});
    const db = new Proxy(real, {
      get(target, prop, receiver) {
        if (prop !== 'transaction') return Reflect.get(target, prop, receiver) as unknown;
        return async (fn: Parameters<typeof real.transaction>[0]) => {
          const result = await target.transaction(fn);
          const hook = afterCommit;
          afterCommit = null;
          await hook?.();
          return result;
        };
      },
    });
    const mailer = createSmtpMailer(h!.ctx.config);
    closers.push(() => mailer.close());
    const worker = new DeliveryWorker({ db, clock: h!.clock, logger: silentLogger(), chat: null, email: emailNotifier({ mailer }), emailTo: ['oncall@example.com'] });

    await worker.tick();
    expect(claimOf(await mailRow())).toMatchObject({ n: 1 });
    expect(await mailRow()).toMatchObject({ status: 'cancelled' });
    expect(smtp.received).toHaveLength(0);
    await passDeliveryTime(real, h!.clock, 30 * 60_000);
    await worker.tick();
    expect(worker.claimsHeld).toBe(1); // its row is never looked at here again

    await passDeliveryTime(real, h!.clock, 31 * 60_000);
    await worker.tick();
    expect(worker.claimsHeld).toBe(0);
  });
});
