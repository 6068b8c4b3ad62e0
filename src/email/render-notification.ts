// Owns the words of a notification by email: plain text, times in UTC. Only the kinds the email
// notifier carries are rendered here (src/email/notifier.ts declares the others and why).
import { headline } from '../alerts/render.js';
import type { AlertEvent, AlertGroup } from '../db/schema/alerts.js';

const utc = (d: Date) => d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');

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
