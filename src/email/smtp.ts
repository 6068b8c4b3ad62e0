// Owns sending email: one nodemailer SMTP transport built from SMTP_URL (smtp:// or smtps://,
// credentials in the URL). The only place that reveals SMTP_URL. Timeouts are short because the
// alert outbox retries undelivered mail itself.
import type { Transporter } from 'nodemailer';
import type { Config } from '../config/env.js';
import { AppError } from '../errors.js';

export interface Mail {
  to: string[];
  subject: string;
  text: string;
}

export interface Mailer {
  send(mail: Mail): Promise<{ messageId: string }>;
  close(): void;
}

export function emailConfigured(config: Config): boolean {
  return config.SMTP_URL !== undefined && emailRecipients(config).length > 0;
}

export function emailRecipients(config: Config): string[] {
  return (config.ALERT_EMAIL_TO ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

export function createSmtpMailer(config: Config): Mailer {
  if (!config.SMTP_URL) {
    throw new AppError('config', 'smtp_not_configured', 'Email is not configured: SMTP_URL is not set.', {
      hint: 'Set SMTP_URL (smtp://user:pass@host:587) and ALERT_EMAIL_TO.',
    });
  }
  let url: URL;
  try {
    url = new URL(config.SMTP_URL.reveal());
  } catch {
    throw new AppError('config', 'smtp_url_invalid', 'SMTP_URL is not a URL.', { hint: 'Expected smtp://user:pass@host:587 or smtps://…' });
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw new AppError('config', 'smtp_url_invalid', `SMTP_URL must start with smtp:// or smtps://, got ${url.protocol}//.`);
  }
  // nodemailer is imported when a mailer is built (the alert sender, the audit's email check), not
  // by every command that merely can reach this module.
  const options = {
    host: url.hostname,
    port: url.port ? Number(url.port) : url.protocol === 'smtps:' ? 465 : 587,
    secure: url.protocol === 'smtps:',
    ...(url.username ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } } : {}),
    // A plain local relay (and the test server) speaks no TLS; ?tls=off opts out of STARTTLS upgrade.
    ignoreTLS: url.searchParams.get('tls') === 'off',
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  };
  const transport: Promise<Transporter> = import('nodemailer').then((m) => m.default.createTransport(options));
  // Seen by no one until send(): a failed import surfaces there, never as an unhandled rejection.
  transport.catch(() => {});
  const from = config.ALERT_EMAIL_FROM ?? `ctb alerts <ctb@${url.hostname}>`;
  return {
    async send(mail) {
      const info = await (await transport).sendMail({ from, to: mail.to, subject: mail.subject, text: mail.text });
      return { messageId: String(info.messageId) };
    },
    close: () => void transport.then((t) => t.close(), () => {}),
  };
}
