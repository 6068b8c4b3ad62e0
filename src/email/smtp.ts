// Owns sending email: one nodemailer SMTP transport built from SMTP_URL (smtp:// or smtps://,
// credentials in the URL). The only place that reveals SMTP_URL. Timeouts are short because the
// alert outbox retries undelivered mail itself. A mail given a `messageKey` gets the Message-ID
// `<key@domain of the From address>` on every try: a resend is the same message to mail clients
// (the domain is already in the From header; nothing else of the sender's setup is named).
// Every mail's subject and text are scrubbed (src/secret-scrub.ts) as they are handed to the
// transport: an alert or a kill reason may quote a secret, and mail leaves the process.
import type { Transporter } from 'nodemailer';
import type { Config } from '../config/env.js';
import { AppError } from '../errors.js';
import { scrubberFor } from '../secret-scrub.js';

export interface Mail {
  to: string[];
  subject: string;
  text: string;
  /** Names the message the same on every try (its Message-ID's left part); without one nodemailer makes one up. */
  messageKey?: string;
}

export interface Mailer {
  send(mail: Mail): Promise<{ messageId: string }>;
  close(): void;
}

/**
 * The right part of our Message-IDs: the From address's domain (nodemailer's own choice for the ids it
 * makes), `ctb` if it has none.
 */
export function messageIdDomain(from: string): string {
  const address = /<([^<>]*)>\s*$/.exec(from)?.[1] ?? from;
  const domain = address.slice(address.lastIndexOf('@') + 1).trim();
  return address.includes('@') && /^[A-Za-z0-9.-]+$|^\[[^\]\s]+\]$/.test(domain) ? domain : 'ctb';
}

/**
 * Whether a failed send certainly did not go out, so the next try is no repeat of it: the SMTP server
 * refused it (4xx/5xx), or it failed before the server could have taken anything: no connection
 * (refused, no such host, no answer or no greeting in time), no login, a message or envelope
 * nodemailer would not send. Any other failure may have come after the server took the mail: a
 * socket timeout or a close once the body is sent is also reported as command `CONN`, so neither the
 * command nor ETIMEDOUT alone says when it came.
 */
export function certainlyNotSentBySmtp(err: unknown): boolean {
  const e = err as { responseCode?: unknown; code?: unknown; syscall?: unknown; message?: unknown } | null;
  if (typeof e?.responseCode === 'number' && e.responseCode >= 400) return true;
  if (e?.syscall === 'connect') return true;
  if (typeof e?.code === 'string' && NOT_SENT_CODES.has(e.code)) return true;
  return e?.code === 'ETIMEDOUT' && typeof e.message === 'string' && BEFORE_GREETING_TIMEOUTS.has(e.message);
}

/** nodemailer's codes for failures that come before any message is handed over. */
const NOT_SENT_CODES: ReadonlySet<string> = new Set(['EDNS', 'EAUTH', 'EENVELOPE', 'EMESSAGE']);
/** nodemailer's ETIMEDOUT messages for the connect and greeting waits (its socket timeout says `Timeout`). */
const BEFORE_GREETING_TIMEOUTS: ReadonlySet<string> = new Set(['Connection timeout', 'Greeting never received']);

/** nodemailer's waits: for the connection, for the server's greeting, and on a silent socket after that. */
const SMTP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 } as const;

/**
 * How long one send can still be under way after it was claimed: each of nodemailer's waits run out
 * once, and a margin for the claim's commit and the lane lock taken again before the send.
 */
export const SMTP_TRY_MAX_MS = SMTP_TIMEOUTS.connectionTimeout + SMTP_TIMEOUTS.greetingTimeout + SMTP_TIMEOUTS.socketTimeout + 5_000;

export function emailConfigured(config: Config): boolean {
  return config.SMTP_URL !== undefined && emailRecipients(config).length > 0;
}

export function emailRecipients(config: Config): string[] {
  return (config.ALERT_EMAIL_TO ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

const markNotSent = (err: unknown): unknown => (typeof err === 'object' && err !== null ? Object.assign(err, { notSent: true }) : err);

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
    ...SMTP_TIMEOUTS,
  };
  const transport: Promise<Transporter> = import('nodemailer').then((m) => m.default.createTransport(options));
  // Seen by no one until send(): a failed import surfaces there, never as an unhandled rejection.
  transport.catch(() => {});
  const from = config.ALERT_EMAIL_FROM ?? `ctb alerts <ctb@${url.hostname}>`;
  const domain = messageIdDomain(from);
  const scrub = scrubberFor(config);
  return {
    async send(mail) {
      const messageId = mail.messageKey === undefined ? {} : { messageId: `<${mail.messageKey}@${domain}>` };
      // nodemailer that failed to load sent nothing.
      const t = await transport.catch((err: unknown) => {
        throw markNotSent(err);
      });
      try {
        const info = await t.sendMail({ from, to: mail.to, subject: scrub(mail.subject), text: scrub(mail.text), ...messageId });
        return { messageId: String(info.messageId) };
      } catch (err) {
        throw certainlyNotSentBySmtp(err) ? markNotSent(err) : err;
      }
    },
    close: () => void transport.then((t) => t.close(), () => {}),
  };
}
