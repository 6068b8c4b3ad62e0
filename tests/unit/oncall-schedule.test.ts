import { describe, expect, it } from 'vitest';
import type { OncallOverride } from '../../src/db/schema/alerts.js';
import { onCallAt, parseHandoff, scheduledShift, upcomingShifts, type RotationShape } from '../../src/services/oncall/schedule.js';

const rotation = (over: Partial<RotationShape> = {}): RotationShape => ({
  members: ['UALICE', 'UBOB', 'UCAROL'],
  handoffWeekday: 1,
  handoffTime: '09:00',
  timeZone: 'Europe/London',
  // Monday 2026-01-05 09:00 London (GMT) = 09:00 UTC: Alice's first shift starts here.
  anchorAt: new Date('2026-01-05T09:00:00Z'),
  ...over,
});

const override = (userId: string, from: string, to: string, id = 1, createdAt = from): OncallOverride => ({
  id, userId, startsAt: new Date(from), endsAt: new Date(to), createdBy: 'test', createdAt: new Date(createdAt),
});

describe('on-call schedule', () => {
  it('hands off at the local weekday and time, in winter (GMT) and in summer (BST)', () => {
    const r = rotation();
    // Winter: 09:00 London is 09:00 UTC.
    expect(scheduledShift(r, new Date('2026-01-12T08:59:00Z'))!.userId).toBe('UALICE');
    expect(scheduledShift(r, new Date('2026-01-12T09:00:00Z'))!.userId).toBe('UBOB');
    // Summer: 09:00 London is 08:00 UTC, so at 08:30 UTC the handoff has already happened.
    // 2026-06-01 is a Monday, 21 weeks after the anchor: 21 % 3 = 0 → Alice's week starts then.
    expect(scheduledShift(r, new Date('2026-06-01T07:59:00Z'))!.userId).toBe('UCAROL');
    expect(scheduledShift(r, new Date('2026-06-01T08:30:00Z'))!.userId).toBe('UALICE');
    expect(scheduledShift(r, new Date('2026-06-01T08:30:00Z'))!.startsAt.toISOString()).toBe('2026-06-01T08:00:00.000Z');
  });

  it('keeps the weekly rhythm across the daylight-saving change (shifts are whole local weeks)', () => {
    const shifts = upcomingShifts(rotation(), new Date('2026-03-20T12:00:00Z'), 3);
    // UK clocks go forward on 2026-03-29: the handoff stays at 09:00 local, so it moves by an hour in UTC.
    expect(shifts.map((s) => [s.userId, s.startsAt.toISOString()])).toEqual([
      ['UBOB', '2026-03-16T09:00:00.000Z'],
      ['UCAROL', '2026-03-23T09:00:00.000Z'],
      ['UALICE', '2026-03-30T08:00:00.000Z'],
    ]);
  });

  it('picks the right person across a time-zone boundary: a Tokyo handoff is on Sunday in UTC', () => {
    const r = rotation({ timeZone: 'Asia/Tokyo', anchorAt: new Date('2026-01-05T00:00:00Z') });
    // Monday 09:00 Tokyo = Monday 00:00 UTC. Sunday 23:30 UTC is still Alice; Monday 00:30 UTC is Bob.
    expect(scheduledShift(r, new Date('2026-01-11T23:30:00Z'))!.userId).toBe('UALICE');
    expect(scheduledShift(r, new Date('2026-01-12T00:30:00Z'))!.userId).toBe('UBOB');
    // And New York: Monday 09:00 there is 14:00 UTC.
    const ny = rotation({ timeZone: 'America/New_York', anchorAt: new Date('2026-01-05T14:00:00Z') });
    expect(scheduledShift(ny, new Date('2026-01-12T13:59:00Z'))!.userId).toBe('UALICE');
    expect(scheduledShift(ny, new Date('2026-01-12T14:00:00Z'))!.userId).toBe('UBOB');
  });

  it('lets an override win for its time range only, newest override first', () => {
    const r = rotation();
    const overrides = [
      override('UDAVE', '2026-01-06T10:00:00Z', '2026-01-06T12:00:00Z', 1),
      override('UERIN', '2026-01-06T11:00:00Z', '2026-01-06T11:30:00Z', 2),
    ];
    expect(onCallAt(r, overrides, new Date('2026-01-06T09:59:00Z'))).toMatchObject({ primary: 'UALICE', via: 'rotation', next: 'UBOB' });
    // Alice is on call by the rotation while Dave (not a member) holds the pager: she is next, not skipped.
    expect(onCallAt(r, overrides, new Date('2026-01-06T10:30:00Z'))).toMatchObject({ primary: 'UDAVE', via: 'override', next: 'UALICE', successors: ['UALICE', 'UBOB', 'UCAROL'] });
    expect(onCallAt(r, overrides, new Date('2026-01-06T11:15:00Z'))).toMatchObject({ primary: 'UERIN', via: 'override' });
    expect(onCallAt(r, overrides, new Date('2026-01-06T12:00:00Z'))).toMatchObject({ primary: 'UALICE', via: 'rotation' });
  });

  it('skips the primary when choosing next (the scheduled member first), and has nobody for an empty rotation', () => {
    const r = rotation();
    const o = [override('UBOB', '2026-01-06T00:00:00Z', '2026-01-07T00:00:00Z')];
    expect(onCallAt(r, o, new Date('2026-01-06T12:00:00Z'))).toMatchObject({ primary: 'UBOB', next: 'UALICE', successors: ['UALICE', 'UCAROL'] });
    expect(onCallAt(r, [], new Date('2026-01-06T12:00:00Z'))).toMatchObject({ primary: 'UALICE', next: 'UBOB', successors: ['UBOB', 'UCAROL'] });
    expect(onCallAt(rotation({ members: [] }), [], new Date('2026-01-06T12:00:00Z'))).toMatchObject({ primary: null, via: 'nobody', next: null });
    expect(onCallAt(null, [], new Date())).toMatchObject({ primary: null, next: null });
    expect(onCallAt(rotation({ members: ['UALICE'] }), [], new Date('2026-01-06T12:00:00Z'))).toMatchObject({ primary: 'UALICE', next: null });
  });

  it('parses handoffs and names what it expected when it cannot', () => {
    expect(parseHandoff('mon 09:00')).toEqual({ weekday: 1, time: '09:00' });
    expect(parseHandoff('Friday 7:30')).toEqual({ weekday: 5, time: '07:30' });
    expect(parseHandoff('someday 09:00')).toEqual({ error: expect.stringContaining('"mon 09:00"') });
    expect(parseHandoff('mon 25:00')).toHaveProperty('error');
  });
});
