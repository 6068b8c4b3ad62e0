// Owns the words of an alert outside Slack: the headline (email subjects, pages, log lines), how an
// actor is named in a thread line, the page text, and what an email delivery stores. Plain text:
// Slack's Block Kit for alerts (the parent, the repeats) is src/slack/views/alert.ts, the email's
// text src/email/render-notification.ts.
import type { AlertEvent, AlertGroup } from '../db/schema/alerts.js';
import { lateHead, outageMarkOf } from '../domain/alert-outage.js';

export function headline(group: Pick<AlertGroup, 'severity' | 'title' | 'test'>): string {
  return `${group.test ? '[TEST] ' : ''}[${group.severity.toUpperCase()}] ${group.title}`;
}

export function who(actor: string | null | undefined): string {
  if (!actor) return 'someone';
  return /^[UW][A-Z0-9]{2,}$/.test(actor) ? `<@${actor}>` : actor;
}

const utc = (d: Date) => d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');

/**
 * `first`: the event that opened the group (and started its escalation). When it was stored late (kept
 * while the database was away, or its write hung), the page says when it was raised and stored: the
 * person paged now is answering something that happened that long ago.
 */
export function pageMessage(group: AlertGroup, rung: string, first?: Pick<AlertEvent, 'details'>): string {
  return `:rotating_light: You are paged (${rung}) for ${headline(group)} (×${group.count}). ` +
    `Open the thread in the alerts channel and press Acknowledge. Group ${group.id}.` + pageLateLine(first?.details);
}

const PAGE_LATE = ':hourglass: LATE:';

/** A page's LATE line (with its line break) for an event stored late; empty for one stored on time. */
export function pageLateLine(details: Record<string, unknown> | undefined): string {
  const mark = outageMarkOf(details);
  return mark ? `\n:hourglass: ${lateHead(mark, utc)}` : '';
}

/** Whether a page's text already says its alert was stored late. */
export function pageSaysLate(text: string): boolean {
  return text.includes(PAGE_LATE);
}

/** The line under a page sent before its alert was known to be late (the mark was written after it). */
export function pageLateFollowUp(details: Record<string, unknown> | undefined): string {
  const mark = outageMarkOf(details);
  return mark ? `:hourglass: This page's alert was stored late. ${lateHead(mark, utc)}` : '';
}

/** The thread line for an occurrence shown there before it was known to be stored late; empty when it was not. */
export function threadLateLine(details: Record<string, unknown> | undefined): string {
  const mark = outageMarkOf(details);
  return mark ? `:hourglass: An occurrence shown above was stored late. ${lateHead(mark, utc)}` : '';
}

/**
 * What an email delivery stores in the outbox: why it is mailed and which event it names. The mail
 * itself is rendered when it is sent, by the email notifier (src/email/notifier.ts).
 */
export function emailPayload(reason: string, latest?: Pick<AlertEvent, 'id'>): { reason: string; eventId: number | null } {
  return { reason, eventId: latest?.id ?? null };
}
