// Owns the words of a notification by email: plain text, times in UTC. Only the kinds the email
// notifier carries are rendered here (src/email/notifier.ts declares the others and why). A mail
// that may repeat an earlier try says so first, in its subject and its first line.
import { headline } from '../alerts/render.js';
import type { AlertEvent, AlertGroup } from '../db/schema/alerts.js';

const utc = (d: Date) => d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');

/** Marks a mail that may repeat one already delivered: its subject's first words. */
export const REPEAT_MARK = '[possibly a repeat]';

/** The first body line of a mail that may repeat an earlier try (whose outcome was never recorded). */
export function repeatLine(earlierTryAt: Date | undefined): string {
  const when = earlierTryAt ? `at ${utc(earlierTryAt)}` : 'earlier (its time was not recorded)';
  return `Possibly a repeat: a try to send this mail began ${when} and was never recorded as sent or refused, so it may have reached you. This is the same alert (same Message-ID).`;
}

export function emailFor(
  group: AlertGroup, latest: AlertEvent | undefined, reason: string, repeat?: { earlierTryAt: Date | undefined },
): { subject: string; text: string } {
  const details = latest && Object.keys(latest.details).length > 0 ? `\nDetails:\n${JSON.stringify(latest.details, null, 2)}\n` : '';
  return {
    subject: `${repeat ? `${REPEAT_MARK} ` : ''}[ctb] ${headline(group)}${reason ? ` (${reason})` : ''}`,
    text: [
      ...(repeat ? [repeatLine(repeat.earlierTryAt), ''] : []),
      `${headline(group)}`,
      `Reason: ${reason}`,
      `Source: ${group.source} · occurrences: ${group.count} · first ${utc(group.firstAt)} · last ${utc(group.lastAt)}`,
      `Status: ${group.status}`,
      details,
      `Acknowledge it in the Slack alerts thread (group ${group.id}) or with \`ctb alerts ack ${group.id}\`.`,
    ].join('\n'),
  };
}
