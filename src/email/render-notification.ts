// Owns the words of a notification by email: plain text, times in UTC. Only the kinds the email
// notifier carries are rendered here (src/email/notifier.ts declares the others and why). A mail
// that may repeat an earlier try says so in its subject, right after the headline (a phone's preview
// shows the severity and headline first), and in its first line.
import { headline } from '../alerts/render.js';
import { lateText, outageMarkOf, raisedDetails } from '../domain/alert-outage.js';
import type { AlertEvent, AlertGroup } from '../db/schema/alerts.js';

const utc = (d: Date) => d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');

/** Marks a mail that may repeat one already delivered: its subject's words after the headline. */
export const REPEAT_MARK = '— possibly a repeat';

/**
 * The first body line of a mail that may repeat an earlier try (whose outcome was never recorded).
 * Only mail for a group nobody has acknowledged, resolved or silenced is sent (checked as it goes).
 */
export function repeatLine(earlierTryAt: Date | undefined): string {
  const which = earlierTryAt ? `a try at ${utc(earlierTryAt)}` : 'an earlier try (its time was not recorded)';
  return `Still unacknowledged. You may already have this mail: ${which} may have gone out.`;
}

export function emailFor(
  group: AlertGroup, latest: AlertEvent | undefined, reason: string, repeat?: { earlierTryAt: Date | undefined },
): { subject: string; text: string } {
  const raised = latest ? raisedDetails(latest.details) : {};
  const details = Object.keys(raised).length > 0 ? `\nDetails:\n${JSON.stringify(raised, null, 2)}\n` : '';
  const mark = outageMarkOf(latest?.details);
  return {
    subject: `[ctb] ${headline(group)}${repeat ? ` ${REPEAT_MARK}` : ''}${reason ? ` (${reason})` : ''}`,
    text: [
      ...(repeat ? [repeatLine(repeat.earlierTryAt), ''] : []),
      `${headline(group)}`,
      ...(mark ? [lateText(mark, utc, { group: { status: group.status, silencedUntil: group.silencedUntil, now: new Date() } })] : []),
      `Reason: ${reason}`,
      `Source: ${group.source} · occurrences: ${group.count} · first ${utc(group.firstAt)} · last ${utc(group.lastAt)}`,
      `Status: ${group.status}`,
      details,
      `Acknowledge it in the Slack alerts thread (group ${group.id}) or with \`ctb alerts ack ${group.id}\`.`,
    ].join('\n'),
  };
}
