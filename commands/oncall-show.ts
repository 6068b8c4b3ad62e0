// `oncall show` / `/oncall who|schedule`: who is on call now and next, the coming shifts, active
// and future overrides, and the escalation policies; each person named is re-checked with Slack
// (deactivated since they were added?), and warned about when a page to them could not be delivered.
import { z } from 'zod';
import { emailConfigured } from '../src/email/smtp.js';
import { slackAlertsChannel } from '../src/alerts/sink.js';
import { loadPolicies, type EscalationPolicy } from '../src/alerts/policy.js';
import { formatHandoff, onCallAt, upcomingShifts, type Shift } from '../src/services/oncall/schedule.js';
import { checkReachable, reachabilityWarnings } from '../src/services/oncall/reachability.js';
import { getRotation, overridesBetween } from '../src/services/oncall/store.js';
import { databaseNow } from '../src/db/queries/database-clock.js';
import { defineCommand } from './define.js';

export interface OncallShowResult {
  ok: boolean;
  rotation: { members: string[]; handoff: string; timeZone: string; updatedBy: string; updatedAt: string } | null;
  now: { primary: string | null; via: 'override' | 'rotation' | 'nobody'; next: string | null; until: string | null };
  fallback: string[];
  upcoming: Array<{ userId: string; startsAt: string; endsAt: string }>;
  overrides: Array<{ id: number; userId: string; startsAt: string; endsAt: string; createdBy: string }>;
  policies: EscalationPolicy[];
  /**
   * The routes a page can take (the facts escalation pages by, src/alerts/escalation.ts): Slack needs
   * SLACK_BOT_TOKEN and SLACK_ALERTS_CHANNEL, email SMTP_URL and ALERT_EMAIL_TO. With neither, nobody is paged.
   */
  routes: { slack: boolean; email: boolean };
  /** People on the rotation or an override whom Slack says cannot be paged (deactivated), or who could not be checked. */
  warnings: string[];
}

/**
 * Said instead of any paging when neither route is configured (escalation then logs "nobody paged for
 * …"): `ctb oncall show` and Slack's /oncall, from the same facts (OncallShowResult.routes).
 */
// Judged from this process's configuration: the process that escalates (the worker) pages with its
// own, so the words name the configuration, not every process.
export const NOBODY_PAGED = 'nobody can be paged with this configuration: no Slack alerts channel (SLACK_BOT_TOKEN + SLACK_ALERTS_CHANNEL) and no email (SMTP_URL + ALERT_EMAIL_TO) are configured here; a bot running with it only logs and stores alerts until one is';

const iso = (d: Date) => d.toISOString();
const shift = (s: Shift) => ({ userId: s.userId, startsAt: iso(s.startsAt), endsAt: iso(s.endsAt) });

export const oncallShowCommand = defineCommand({
  name: 'oncall show',
  summary: 'who is on call now and next, the schedule, overrides and escalation policies',
  role: 'reader',
  args: z.object({ weeks: z.number({ error: 'a whole number of weeks from 1 to 26' }).int('a whole number of weeks from 1 to 26').min(1, 'at least 1 week').max(26, 'at most 26 weeks').default(4) }),
  async run(ctx, args) {
    // The database's now(), as paging judges it: replicas whose clocks differ show the same person.
    const now = await databaseNow(ctx.db);
    const rotation = await getRotation(ctx.db);
    const overrides = await overridesBetween(ctx.db, now, new Date(now.getTime() + 90 * 86_400_000));
    const current = onCallAt(rotation, overrides, now);
    const policies = await loadPolicies(ctx.db, ctx.config);
    const until = current.override?.endsAt ?? current.shift?.endsAt ?? null;
    const people = [...(current.primary ? [current.primary] : []), ...(rotation?.members ?? []), ...overrides.map((o) => o.userId)];
    const reach = await checkReachable(ctx.people, people);
    return {
      ok: current.primary !== null,
      rotation: rotation && {
        members: rotation.members, handoff: formatHandoff(rotation.handoffWeekday, rotation.handoffTime),
        timeZone: rotation.timeZone, updatedBy: rotation.updatedBy, updatedAt: iso(rotation.updatedAt),
      },
      now: { primary: current.primary, via: current.via, next: current.next, until: until && iso(until) },
      fallback: ctx.config.SLACK_APPROVERS,
      upcoming: rotation ? upcomingShifts(rotation, now, args.weeks).map(shift) : [],
      overrides: overrides.map((o) => ({ id: o.id, userId: o.userId, startsAt: iso(o.startsAt), endsAt: iso(o.endsAt), createdBy: o.createdBy })),
      policies: [policies.critical, policies.warning, policies.info],
      routes: { slack: slackAlertsChannel(ctx.config) !== null, email: emailConfigured(ctx.config) },
      warnings: reachabilityWarnings(reach),
    } satisfies OncallShowResult;
  },
});
