// Owns building the alert pipeline's moving parts from a context: the delivery worker with the
// configured Slack sender and SMTP mailer (either may be absent: nothing is queued for an
// unconfigured channel), and the escalation ticker.
import type { AppContext } from '../app/context.js';
import { createSmtpMailer, emailConfigured, emailRecipients, type Mailer } from '../email/smtp.js';
import { DeliveryWorker } from './delivery-worker.js';
import { createAlertSlackSender, type SlackSender } from './slack-sender.js';
import { EscalationTicker } from './escalation.js';
import { slackAlertsChannel, type OutboxAlertSink } from './sink.js';

export interface AlertRuntimeOptions {
  slack?: SlackSender | null;
  mailer?: Mailer | null;
}

export interface AlertRuntime {
  delivery: DeliveryWorker;
  escalation: EscalationTicker;
  slack: SlackSender | null;
  mailer: Mailer | null;
  close(): void;
}

export function createAlertRuntime(ctx: AppContext, opts: AlertRuntimeOptions = {}): AlertRuntime {
  const slack = opts.slack !== undefined ? opts.slack : slackAlertsChannel(ctx.config) ? createAlertSlackSender(ctx.config) : null;
  const mailer = opts.mailer !== undefined ? opts.mailer : emailConfigured(ctx.config) ? createSmtpMailer(ctx.config) : null;
  const delivery = new DeliveryWorker({
    db: ctx.db, clock: ctx.clock, logger: ctx.logger, slack, mailer, emailTo: emailRecipients(ctx.config),
  });
  const escalation = new EscalationTicker({
    db: ctx.db, clock: ctx.clock, logger: ctx.logger, config: ctx.config, metrics: ctx.metrics,
    overdue: (ctx.alerts as Partial<OutboxAlertSink>).overdueHooks,
  });
  return { delivery, escalation, slack, mailer, close: () => mailer?.close() };
}
