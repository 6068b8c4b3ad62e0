// Owns the words of an alert outside Slack: the headline (email subjects, pages, log lines), how an
// actor is named in a thread line, the page text, and the email. Plain text, times in UTC: Slack's
// Block Kit for alerts (the parent, the repeats) is src/slack/views/alert.ts.
import type { AlertEvent, AlertGroup } from '../db/schema/alerts.js';

const utc = (d: Date) => d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');

export function headline(group: Pick<AlertGroup, 'severity' | 'title' | 'test'>): string {
  return `${group.test ? '[TEST] ' : ''}[${group.severity.toUpperCase()}] ${group.title}`;
}

export function who(actor: string | null | undefined): string {
  if (!actor) return 'someone';
  return /^[UW][A-Z0-9]{2,}$/.test(actor) ? `<@${actor}>` : actor;
}

export function pageMessage(group: AlertGroup, rung: string): string {
  return `:rotating_light: You are paged (${rung}) for ${headline(group)} (×${group.count}). ` +
    `Open the thread in the alerts channel and press Acknowledge. Group ${group.id}.`;
}

export function emailFor(group: AlertGroup, latest: AlertEvent | undefined, reason: string): { subject: string; text: string } {
  const details = latest && Object.keys(latest.details).length > 0 ? `\nDetails:\n${JSON.stringify(latest.details, null, 2)}\n` : '';
  return {
    subject: `[ctb] ${headline(group)}${reason ? ` (${reason})` : ''}`,
    text: [
      `${headline(group)}`,
      `Reason: ${reason}`,
      `Source: ${group.source} · occurrences: ${group.count} · first ${utc(group.firstAt)} · last ${utc(group.lastAt)}`,
      `Status: ${group.status}`,
      details,
      `Acknowledge it in the Slack alerts thread (group ${group.id}) or with \`ctb alerts ack ${group.id}\`.`,
    ].join('\n'),
  };
}
