// `oncall set --members U012AB3CD,U045EF6GH [--handoff "mon 09:00"] [--tz Europe/London]`: replaces the rotation.
// The first member is on call from the shift running now. Also stores the critical escalation
// policy (from ESCALATION_ACK_SLA / ESCALATION_MAX_ROUNDS) if none is stored, so it is explicit.
import { z } from 'zod';
import { loadPolicy, savePolicy, type EscalationPolicy } from '../src/alerts/policy.js';
import { AppError } from '../src/errors.js';
import { formatHandoff, isTimeZone, onCallAt, parseHandoff } from '../src/services/oncall/schedule.js';
import { saveRotation } from '../src/services/oncall/store.js';
import { parseUserList } from '../src/services/oncall/user-ref.js';
import { defineCommand } from './define.js';

export interface OncallSetResult {
  ok: boolean;
  members: string[];
  handoff: string;
  timeZone: string;
  onCallNow: string | null;
  next: string | null;
  policy: EscalationPolicy;
  warnings: string[];
}

export const oncallSetCommand = defineCommand({
  name: 'oncall set',
  summary: 'set the on-call rotation: ordered members, weekly handoff day/time and time zone',
  role: 'operator',
  args: z.object({
    members: z.union([z.string(), z.array(z.string())]),
    handoff: z.string().default('mon 09:00'),
    tz: z.string().default('UTC'),
  }),
  async run(ctx, args) {
    const members = parseUserList(args.members);
    const handoff = parseHandoff(args.handoff);
    if ('error' in handoff) throw new AppError('usage', 'bad_handoff', `--handoff: ${handoff.error}`);
    if (!isTimeZone(args.tz)) {
      throw new AppError('usage', 'bad_time_zone', `--tz: "${args.tz}" is not a time zone; expected an IANA name such as Europe/London or America/New_York.`);
    }
    const now = ctx.clock.now();
    const rotation = await saveRotation(ctx.db, {
      members, handoffWeekday: handoff.weekday, handoffTime: handoff.time, timeZone: args.tz, now, actor: ctx.actor.id,
    });
    let policy = await loadPolicy(ctx.db, 'critical', ctx.config);
    if (!policy.stored) policy = await savePolicy(ctx.db, { policy, now, actor: ctx.actor.id });
    const current = onCallAt(rotation, [], now);
    const warnings: string[] = [];
    if (members.length < 2) warnings.push('Only one member: escalation skips "next in rotation" and goes to the approvers. The go-live audit wants two or more.');
    if (ctx.config.SLACK_APPROVERS.length === 0) warnings.push('SLACK_APPROVERS is empty: the last rung (and the fallback when nobody is on call) pages the whole channel.');
    return {
      ok: true, members, handoff: formatHandoff(handoff.weekday, handoff.time), timeZone: args.tz,
      onCallNow: current.primary, next: current.next, policy, warnings,
    } satisfies OncallSetResult;
  },
});
