import { describe, expect, it } from 'vitest';
import { lateText, OUTAGE_KEY, outageMarkOf, raisedDetails, type OutageMark } from '../../../src/domain/alert-outage.js';
import { emailFor } from '../../../src/email/render-notification.js';
import type { AlertEvent, AlertGroup } from '../../../src/db/schema/alerts.js';

const iso = (d: Date) => d.toISOString();
const mark = (over: Partial<OutageMark> = {}): OutageMark => ({
  raisedAt: '2026-01-05T12:00:00.000Z', storedAt: '2026-01-05T12:02:35.000Z', process: 'host:42:all',
  state: { mode: 'live', halted: false, readAt: '2026-01-05T11:59:00.000Z' }, ...over,
});

describe('an alert stored late, after a database outage', () => {
  it('says when it was raised, how late it was stored, and which state its badge shows', () => {
    const text = lateText(mark(), iso, { badge: true });
    expect(lateText(mark(), iso)).not.toContain('badge'); // a message without the raise's badge (a thread reply, a mail) does not claim it
    expect(text).toContain('LATE: raised at 2026-01-05T12:00:00.000Z by host:42:all while the database was unreachable; stored at 2026-01-05T12:02:35.000Z, 2m 35s late.');
    expect(text).toContain('The badge is the state when it was raised (mode as last read from the database at 2026-01-05T11:59:00.000Z).');
  });

  it('says of a write that was held, not refused, that it waited on the database, not that the database was unreachable', () => {
    const text = lateText(mark({ stalled: true }), iso);
    expect(text).toContain('LATE: raised at 2026-01-05T12:00:00.000Z by host:42:all; its write waited on the database; stored at 2026-01-05T12:02:35.000Z, 2m 35s late.');
    expect(text).not.toContain('unreachable');
  });

  it('says what became of its send without the database, never that a failed one went out', () => {
    const sent = mark({ direct: { status: 'sent', channel: 'C1', ts: '1.2', at: '2026-01-05T12:00:01.000Z' } });
    const now = new Date('2026-01-05T12:03:00Z');
    expect(lateText(sent, iso, { group: { status: 'open', silencedUntil: null, now } }))
      .toContain('It was sent to the alerts channel without the database at 2026-01-05T12:00:01.000Z; escalation and on-call paging start now.');
    // Joined a group someone acknowledged or silenced: it does not start paging.
    expect(lateText(sent, iso, { group: { status: 'acknowledged', silencedUntil: null, now } })).toContain('; its group is acknowledged: it pages no one.');
    expect(lateText(sent, iso, { group: { status: 'open', silencedUntil: new Date('2026-01-05T13:00:00Z'), now } }))
      .toContain('; its group is silenced until 2026-01-05T13:00:00.000Z: no page until then.');
    expect(lateText(sent, iso, { group: { status: 'acknowledged', silencedUntil: null, now } })).not.toContain('start now');
    expect(lateText(sent, iso)).toContain('without the database at 2026-01-05T12:00:01.000Z.'); // a thread line: its group's status is on the parent
    const failed = lateText(mark({ direct: { status: 'failed', error: 'slack unreachable: ECONNREFUSED', at: '2026-01-05T12:00:09.000Z', tries: 3 } }), iso);
    expect(failed).toContain('FAILED (slack unreachable: ECONNREFUSED; 3 tries, the last at 2026-01-05T12:00:09.000Z): this is the first time it reaches Slack.');
    expect(failed).not.toContain('It was sent');
    // A try Slack did not answer may have posted it: never "the first time it reaches Slack".
    const uncertain = lateText(mark({ direct: { status: 'uncertain', error: 'slack timed out after 10s; it may have been delivered', at: '2026-01-05T12:00:09.000Z', tries: 2 } }), iso);
    expect(uncertain).toContain('got no answer (slack timed out after 10s; it may have been delivered; 2 tries, the last at 2026-01-05T12:00:09.000Z): it may have reached Slack');
    expect(uncertain).not.toContain('first time it reaches Slack');
    expect(lateText(mark({ direct: { status: 'dropped', cap: '10 every 10 minutes from one process' } }), iso)).toContain('over the cap of 10 every 10 minutes');
    expect(lateText(mark({ direct: { status: 'repeat' } }), iso)).toContain('one with the same fingerprint was');
    expect(lateText(mark({ direct: { status: 'queued' } }), iso)).toContain('the database answered before its turn');
  });

  it('keeps the mark apart from what the raiser said, and the mail says it is late', () => {
    const details = { holder: 'h1', [OUTAGE_KEY]: mark() };
    expect(outageMarkOf(details)?.process).toBe('host:42:all');
    expect(raisedDetails(details)).toEqual({ holder: 'h1' });
    const at = new Date('2026-01-05T12:00:00Z');
    const group = { id: 7, severity: 'critical', title: 'lease unconfirmed', test: false, source: 'engine', count: 1, firstAt: at, lastAt: at, status: 'open' } as AlertGroup;
    const latest = { id: 1, groupId: 7, at, source: 'engine', severity: 'critical', title: 'lease unconfirmed', details, raiseKey: null } as AlertEvent;
    const mail = emailFor(group, latest, 'on call', undefined);
    expect(mail.text).toContain('LATE: raised at 2026-01-05 12:00:00 UTC');
    expect(mail.text).not.toContain(OUTAGE_KEY);
  });
});
