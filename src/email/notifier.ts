// Owns delivering notifications by email: the second notifier behind the one port
// (src/notifications/notification.ts), beside Slack's. It carries the alert mail the escalation
// queues; every other kind is declared below with the reason it is not mailed, and refused if handed
// over. Sent through the SMTP mailer (src/email/smtp.ts); a failure throws and the outbox retries.
import type { Db } from '../db/client.js';
import { carriedKinds, NotCarriedError, type Carriage, type Delivered, type Notification, type Notifier } from '../notifications/notification.js';
import { emailFor } from './render-notification.js';
import { SMTP_TRY_MAX_MS, type Mailer } from './smtp.js';

const CHAT_THREAD = 'a chat thread (its message is updated or replied to in place), which mail cannot do';
const BUTTONS = 'it carries buttons or reactions people act on in Slack';

export const EMAIL_CARRIAGE: Carriage = {
  alert_email: true,
  alert_raised: 'the alerts channel parent with its Acknowledge / Resolve buttons; mail gets alert_email',
  alert_updated: CHAT_THREAD,
  alert_repeated: CHAT_THREAD,
  alert_note: CHAT_THREAD,
  alert_direct: 'sent to the alerts channel while the database is away; its mail is sent by the outbox once it is stored',
  alert_page: 'a page by direct message; the mail of a page is its alert_email',
  incident_opened: BUTTONS,
  incident_update: CHAT_THREAD,
  incident_note: CHAT_THREAD,
  mode_request: BUTTONS,
  mode_changed: 'told in the change request\'s thread, and as an alert (which is mailed by its policy)',
  summary: 'posted to the ops channel only (no mail recipient list for summaries)',
  exit_outcome: CHAT_THREAD,
};

export function emailNotifier(deps: { mailer: Mailer }): Notifier {
  return {
    carries: carriedKinds(EMAIL_CARRIAGE),
    tryUnderWayMs: SMTP_TRY_MAX_MS,
    async notify(_db: Db, n: Notification): Promise<Delivered> {
      if (n.kind !== 'alert_email') throw new NotCarriedError('email', n.kind, String(EMAIL_CARRIAGE[n.kind]));
      const mail = emailFor(n.group, n.latest, n.reason, n.repeat);
      const sent = await deps.mailer.send({ to: n.to, subject: mail.subject, text: mail.text, messageKey: n.messageKey });
      return { channel: n.to.join(','), ts: sent.messageId };
    },
  };
}
