// /oncall views are pure functions of the on-call command results: tested on their JSON.
import { describe, expect, it } from 'vitest';
import type { OncallShowResult } from '../../../commands/oncall-show.js';
import { renderOncallShow } from '../../../src/cli/render/oncall.js';
import { parseScheduleText } from '../../../src/slack/listeners/oncall-routes.js';
import { policyLine, renderOncallOverride, renderOncallSchedule, renderOncallWho } from '../../../src/slack/views/oncall.js';

const critical = { severity: 'critical' as const, steps: ['oncall', 'next', 'approvers'] as Array<'oncall' | 'next' | 'approvers'>, ackSlaMs: 300_000, maxRounds: 3, email: true, stored: true,
  source: { ackSla: 'stored' as const, maxRounds: 'stored' as const }, envIgnored: [] as string[] };
const quiet = (severity: 'warning' | 'info') => ({ severity, steps: [], ackSlaMs: 300_000, maxRounds: 3, email: false, stored: false,
  source: { ackSla: 'default' as const, maxRounds: 'default' as const }, envIgnored: [] as string[] });

const show = (over: Partial<OncallShowResult> = {}): OncallShowResult => ({
  ok: true,
  rotation: { members: ['UALICE', 'UBOB'], handoff: 'mon 09:00', timeZone: 'Europe/London', updatedBy: 'UOPS1', updatedAt: '2026-01-01T00:00:00.000Z' },
  now: { primary: 'UALICE', via: 'rotation', next: 'UBOB', until: '2026-01-19T09:00:00.000Z' },
  fallback: ['UAPP1', 'UAPP2'],
  upcoming: [
    { userId: 'UALICE', startsAt: '2026-01-12T09:00:00.000Z', endsAt: '2026-01-19T09:00:00.000Z' },
    { userId: 'UBOB', startsAt: '2026-01-19T09:00:00.000Z', endsAt: '2026-01-26T09:00:00.000Z' },
  ],
  overrides: [],
  policies: [critical, quiet('warning'), quiet('info')],
  routes: { slack: true, email: true },
  warnings: [],
  ...over,
});
const json = (x: unknown) => JSON.stringify(x);

describe('/oncall who view', () => {
  it('names who is on call now, until when, and who is next', () => {
    const m = renderOncallWho(show());
    expect(m.text).toBe('On call now: UALICE; next: UBOB');
    expect(json(m.blocks)).toContain('*On call now:* <@UALICE> until <!date^1768813200^');
    expect(json(m.blocks)).toContain('*Next:* <@UBOB>');
    expect(json(m.blocks)).toContain('handoff every mon 09:00 (Europe/London)');
  });

  it('marks an override', () => {
    const m = renderOncallWho(show({ now: { primary: 'UDAVE', via: 'override', next: 'UBOB', until: '2026-01-12T16:00:00.000Z' } }));
    expect(json(m.blocks)).toContain('<@UDAVE> (override)');
  });

  it('says who is paged instead when nobody is on call, approvers or the whole channel', () => {
    const empty = show({ ok: false, rotation: null, now: { primary: null, via: 'nobody', next: null, until: null }, upcoming: [] });
    const m = renderOncallWho(empty);
    expect(m.text).toBe('Nobody is on call. Alerts page the approvers: UAPP1, UAPP2');
    expect(json(m.blocks)).toContain('Alerts page the approvers instead: <@UAPP1>, <@UAPP2>.');
    expect(json(m.blocks)).toContain('No rotation is set');
    expect(json(renderOncallWho({ ...empty, fallback: [] }).blocks)).toContain('alerts page the whole alerts channel');
  });
});

describe('/oncall schedule view', () => {
  it('lists the shifts, overrides and the escalation ladder', () => {
    const m = renderOncallSchedule(show({
      overrides: [{ id: 3, userId: 'UDAVE', startsAt: '2026-01-13T10:00:00.000Z', endsAt: '2026-01-13T12:00:00.000Z', createdBy: 'UOPS1' }],
    }));
    const j = json(m.blocks);
    expect(j).toMatch(/<!date\^1768208400\^[^>]*> → <!date\^1768813200\^[^>]*>: <@UALICE>/);
    expect(j).toContain(': <@UBOB>');
    expect(j).toContain('• <@UDAVE> from');
    expect(j).toContain('(set by <@UOPS1>)');
    expect(j).toContain('critical: on-call → next in rotation → all approvers, every 5m without an ack, up to 3 round(s), with email');
    expect(m.text).toBe('On-call schedule: UALICE on call now; 2 shift(s), 1 override(s)');
  });

  it('says there is no rotation and how to set one', () => {
    const j = json(renderOncallSchedule(show({ rotation: null, upcoming: [] })).blocks);
    expect(j).toContain('No rotation is set');
    expect(j).toContain('ctb oncall set --members');
    expect(j).toContain('*Overrides:* none');
  });

  it('reads the weeks argument or says what is expected', () => {
    expect(parseScheduleText('')).toEqual({ weeks: 4 });
    expect(parseScheduleText(' 8 ')).toEqual({ weeks: 8 });
    for (const bad of ['0', '27', 'two', '4 weeks']) expect(() => parseScheduleText(bad)).toThrow(/number of weeks from 1 to 26/);
  });
});

describe('/oncall override view', () => {
  it('announces the override with its range and who set it', () => {
    const m = renderOncallOverride({ ok: true, id: 7, userId: 'UDAVE', startsAt: '2026-01-12T14:00:00.000Z', endsAt: '2026-01-12T16:00:00.000Z', duration: '2h', warnings: [] }, 'UOPS1');
    expect(m.text).toBe('UDAVE is on call from 2026-01-12T14:00:00.000Z to 2026-01-12T16:00:00.000Z (override for 2h, set by UOPS1)');
    expect(json(m.blocks)).toContain('<@UDAVE> is on call from <!date^1768226400^');
    expect(json(m.blocks)).toContain('Override 7, set by <@UOPS1>');
  });

  it('describes a severity that pages nobody', () => {
    expect(policyLine(quiet('info'), { slack: true, email: true })).toBe('info: posted to the alerts channel, nobody paged');
  });
});

describe('on-call views with no way to page (no Slack alerts channel, no email: the README demo)', () => {
  const none = { slack: false, email: false };
  const NOBODY = 'nobody can be paged with this configuration: no Slack alerts channel (SLACK_BOT_TOKEN + SLACK_ALERTS_CHANNEL) and no email (SMTP_URL + ALERT_EMAIL_TO) are configured here';
  const empty = show({ ok: false, rotation: null, now: { primary: null, via: 'nobody', next: null, until: null }, upcoming: [], fallback: [], routes: none });

  it('ctb oncall show says nobody can be paged and lists no route that is not configured', () => {
    const text = renderOncallShow(empty);
    expect(text).toContain(`On call now: nobody — but ${NOBODY}`);
    expect(text).not.toMatch(/page the approvers|whole channel|, email/);
    expect(text).toMatch(/critical +nobody paged: no Slack alerts channel, no email \(configured ladder: oncall → next → approvers every 5m, 3 round\(s\)\)/);
    expect(text).toMatch(/info +no paging/);
    expect(renderOncallShow(show({ routes: none }))).toContain(`On call now: UALICE — but ${NOBODY}`);
  });

  it('Slack /oncall who and schedule say the same', () => {
    const who = renderOncallWho(empty);
    expect(who.text).toContain(`Nobody is on call, and ${NOBODY}`);
    expect(json(who.blocks)).toContain(NOBODY);
    expect(json(who.blocks)).not.toMatch(/page the approvers|whole (alerts )?channel/);
    expect(json(renderOncallWho(show({ routes: none })).blocks)).toContain(NOBODY);
    const schedule = json(renderOncallSchedule(show({ routes: none })).blocks);
    expect(schedule).toContain('critical: nobody paged (no Slack alerts channel, no email)');
    expect(schedule).not.toContain('with email');
  });

  it('with email only, names email as the one route', () => {
    const emailOnly = { slack: false, email: true };
    expect(renderOncallShow(show({ routes: emailOnly }))).toMatch(/critical +email only \(no Slack alerts channel\) every 5m, 3 round\(s\)/);
    expect(policyLine(critical, emailOnly)).toBe('critical: email only (no Slack alerts channel), every 5m without an ack, up to 3 round(s)');
    expect(policyLine(critical, { slack: true, email: false })).toBe('critical: on-call → next in rotation → all approvers, every 5m without an ack, up to 3 round(s)');
  });
});
