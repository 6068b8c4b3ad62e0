// Alert times in Slack are date tokens, so each reader sees their own time zone; email stays UTC text.
import { describe, expect, it } from 'vitest';
import { emailFor } from '../../../src/email/render-notification.js';
import { parentMessage, repeatsMessage } from '../../../src/slack/views/alert.js';
import { alertEventRow, alertGroupRow } from '../../support/alert-rows.js';

const t = (iso: string) => Math.floor(Date.parse(iso) / 1000);

describe('alert times', () => {
  it('writes first, last, acknowledged and silenced times in the parent as Slack date tokens with a fallback', () => {
    const group = alertGroupRow({
      status: 'acknowledged', acknowledgedBy: 'U0OPS0001', acknowledgedAt: new Date('2026-01-05T12:03:00Z'),
      lastAt: new Date('2026-01-05T12:02:00Z'), silencedUntil: new Date('2026-01-05T13:00:00Z'), silencedBy: 'U0OPS0001',
    });
    const json = JSON.stringify(parentMessage(group, alertEventRow(), new Date('2026-01-05T12:05:00Z')).blocks);
    for (const iso of ['2026-01-05T12:00:00Z', '2026-01-05T12:02:00Z', '2026-01-05T12:03:00Z', '2026-01-05T13:00:00Z']) {
      expect(json).toContain(`<!date^${t(iso)}^{date_short_pretty} {time}|`);
    }
    expect(json).not.toMatch(/\d\d:\d\d:\d\d UTC/);
  });

  it('dates each repeat in the thread with a token', () => {
    const text = repeatsMessage([alertEventRow({ at: new Date('2026-01-05T12:10:00Z') })], 1);
    expect(text).toContain(`<!date^${t('2026-01-05T12:10:00Z')}^{date_short_pretty} {time}|`);
  });

  it('keeps plain UTC times in email, where Slack tokens would show as markup', () => {
    const mail = emailFor(alertGroupRow(), alertEventRow(), 'page');
    expect(mail.text).toContain('first 2026-01-05 12:00:00 UTC');
    expect(mail.text).not.toContain('<!date');
  });
});
