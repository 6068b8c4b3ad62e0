// Owns `ctb alerts test`: raise a test alert through the real pipeline, deliver it now through
// every configured channel (Slack thread, email), and record per channel what happened in
// alert_tests, which the go-live audit reads. A critical test alert also starts the escalation,
// so a team can rehearse being paged; the running bot's escalation tick carries it on — through
// the ladder once, never past it, and never as an overdue critical that auto-kill acts on.
// The command steps and delivers only its own test alert: the bot's queued alerts (and their
// escalations) stay with the bot, which sends them with its own Slack and email settings, not the
// shell's.
import { alertGroupById } from '../db/queries/alert-groups.js';
import { deliveriesOfGroup, escalationOfGroup, expediteTestDeliveries, recordAlertTest } from '../db/queries/alert-tests.js';
import { emailConfigured } from '../email/smtp.js';
import { enqueueDelivery } from '../db/queries/alert-outbox.js';
import { emailPayload } from './render.js';
import { createAlertRuntime, type AlertRuntimeDeps, type AlertRuntimeOptions } from './runtime.js';
import { createOutboxAlertSink, slackAlertsChannel } from './sink.js';
import type { Severity } from './types.js';

/** `triedHere`: this process tried to send on the channel (whatever came of it). */
export type ChannelStatus = { status: 'sent' | 'failed' | 'not_configured'; error?: string; triedHere?: boolean };

/**
 * Who sends a message this command left queued: only a running bot with its own settings for the
 * channel (it never reads this shell's), and nothing else. Said, as the command cannot see them.
 */
const LEFT_QUEUED: Record<'slack' | 'email', string> = {
  slack: 'left queued: a running bot sends it only if its own SLACK_BOT_TOKEN and SLACK_ALERTS_CHANNEL are set (this command\'s settings do not reach it); nothing else retries it',
  email: 'left queued: a running bot sends it only if its own SMTP_URL and ALERT_EMAIL_TO are set (this command\'s settings do not reach it); nothing else retries it',
};

export interface AlertTestResult {
  ok: boolean;
  testId: number;
  groupId: number;
  severity: Severity;
  channels: { slack: ChannelStatus; email: ChannelStatus };
  escalation: 'started' | 'not for this severity';
}

/** A test alert runs the real pipeline, so it needs what the pipeline is built from. */
export type AlertTestDeps = AlertRuntimeDeps;

export async function runAlertTest(ctx: AlertTestDeps, input: {
  severity: Severity;
  actor: string;
  /** How long to keep delivering before calling a channel failed (real time). */
  waitMs?: number;
  runtime?: AlertRuntimeOptions;
}): Promise<AlertTestResult> {
  const now = ctx.clock.now();
  const sink = createOutboxAlertSink({ db: ctx.db, clock: ctx.clock, logger: ctx.logger, config: ctx.config });
  const stored = await sink.record({
    source: 'test', severity: input.severity,
    title: `Test alert (${input.severity}) requested by ${input.actor}`,
    fingerprint: `test:${input.severity}:${now.toISOString()}`,
    details: { requestedBy: input.actor, purpose: 'checks that alerts reach every configured channel' },
  });
  // Someone is waiting at the terminal: the test goes ahead of any backlog in its lanes.
  await expediteTestDeliveries(ctx.db, stored.groupId);
  const runtime = createAlertRuntime(ctx, input.runtime);
  const slackOn = slackAlertsChannel(ctx.config) !== null;
  const emailOn = emailConfigured(ctx.config);
  try {
    const group = (await alertGroupById(ctx.db, stored.groupId))!;
    let escalation: AlertTestResult['escalation'] = 'not for this severity';
    const escalationRow = await escalationOfGroup(ctx.db, stored.groupId);
    if (escalationRow) {
      escalation = 'started';
      await runtime.escalation.tick({ groupId: group.id }); // first rung now (with its email); later rungs on the bot's tick
    } else if (emailOn) {
      await enqueueDelivery(ctx.db, { groupId: group.id, kind: 'email', target: 'alert-email', now, payload: emailPayload('test of the alert channels'), relevance: 'always' });
    }
    const deadline = Date.now() + (input.waitMs ?? 15_000);
    let channels = await channelStatus(ctx, stored.groupId, slackOn, emailOn);
    const tried = new Set<'slack' | 'email'>();
    for (;;) {
      const report = await runtime.delivery.tick({ groupId: stored.groupId, triesUntil: deadline }); // this test's messages only
      for (const lane of report.triedLanes) tried.add(lane === 'email' ? 'email' : 'slack');
      channels = await channelStatus(ctx, stored.groupId, slackOn, emailOn);
      const waiting = Object.values(channels).some((c) => c.status === 'failed');
      if (!waiting || Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    for (const name of ['slack', 'email'] as const) {
      const c = channels[name];
      if (tried.has(name)) c.triedHere = true;
      if (c.status === 'failed') c.error = `not delivered in time: ${c.error ?? 'still queued'}; ${LEFT_QUEUED[name]}`;
    }
    const ok = (slackOn || emailOn) && Object.values(channels).every((c) => c.status !== 'failed');
    const testId = await recordAlertTest(ctx.db, { at: now, actor: input.actor, severity: input.severity, groupId: stored.groupId, ok, channels });
    return { ok, testId, groupId: stored.groupId, severity: input.severity, channels, escalation };
  } finally {
    runtime.close();
  }
}

async function channelStatus(ctx: Pick<AlertTestDeps, 'db'>, groupId: number, slackOn: boolean, emailOn: boolean): Promise<AlertTestResult['channels']> {
  const slack: ChannelStatus = { status: 'not_configured' };
  const email: ChannelStatus = { status: 'not_configured' };
  if (slackOn) {
    const [sync] = await deliveriesOfGroup(ctx.db, { groupId, kind: 'slack_sync', limit: 1 });
    const group = await alertGroupById(ctx.db, groupId);
    if (group?.slackTs) Object.assign(slack, { status: 'sent' });
    else Object.assign(slack, { status: 'failed', error: sync?.lastError ?? 'still queued' });
  }
  if (emailOn) {
    const mails = await deliveriesOfGroup(ctx.db, { groupId, kind: 'email' });
    if (mails.some((m) => m.status === 'sent')) Object.assign(email, { status: 'sent' });
    else Object.assign(email, { status: 'failed', error: mails.find((m) => m.lastError)?.lastError ?? 'still queued' });
  }
  return { slack, email };
}
