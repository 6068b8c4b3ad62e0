// Owns building the alert pipeline's moving parts from a context: the delivery worker with its two
// notifiers behind the one port — the context's chat notifier (src/slack's, wired by src/app) and
// the email notifier over the SMTP mailer (either may be absent: nothing is queued for an
// unconfigured channel) — the escalation ticker, and the check that whoever a handover puts on
// call can still be paged.
import type { Clock } from '../clock.js';
import type { Config } from '../config/env.js';
import type { Db } from '../db/client.js';
import { emailNotifier } from '../email/notifier.js';
import { createSmtpMailer, emailConfigured, emailRecipients, type Mailer } from '../email/smtp.js';
import type { Notifier } from '../notifications/notification.js';
import { DeliveryWorker } from './delivery-worker.js';
import { EscalationTicker } from './escalation.js';
import { HandoverCheck } from './handover-check.js';
import type { Logger } from '../logger.js';
import type { Registry } from 'prom-client';
import type { AlertSink } from './types.js';
import type { UserDirectory } from '../services/oncall/user-directory.js';

/** What the pipeline is built from: the database, time, logs, settings, metrics, the chat notifier and the sink whose overdue hooks the escalation feeds. */
export interface AlertRuntimeDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  config: Config;
  metrics: Registry;
  notifier: Notifier | null;
  alerts: AlertSink;
  /** Slack's users.info for the handover check; absent or null without Slack. */
  people?: UserDirectory | null | undefined;
}

export interface AlertRuntimeOptions {
  /** The chat notifier for the alerts channel (default: the context's). */
  slack?: Notifier | null;
  mailer?: Mailer | null;
}

export interface AlertRuntime {
  delivery: DeliveryWorker;
  escalation: EscalationTicker;
  handover: HandoverCheck;
  slack: Notifier | null;
  mailer: Mailer | null;
  close(): void;
}

export function createAlertRuntime(ctx: AlertRuntimeDeps, opts: AlertRuntimeOptions = {}): AlertRuntime {
  const slack = opts.slack !== undefined ? opts.slack : ctx.notifier;
  const mailer = opts.mailer !== undefined ? opts.mailer : emailConfigured(ctx.config) ? createSmtpMailer(ctx.config) : null;
  const delivery = new DeliveryWorker({
    db: ctx.db, clock: ctx.clock, logger: ctx.logger, chat: slack, email: mailer ? emailNotifier({ mailer }) : null, emailTo: emailRecipients(ctx.config),
  });
  const escalation = new EscalationTicker({
    db: ctx.db, clock: ctx.clock, logger: ctx.logger, config: ctx.config, metrics: ctx.metrics,
    overdue: ctx.alerts.overdueHooks,
  });
  const handover = new HandoverCheck({ db: ctx.db, clock: ctx.clock, logger: ctx.logger, people: ctx.people, alerts: ctx.alerts });
  return { delivery, escalation, handover, slack, mailer, close: () => mailer?.close() };
}
