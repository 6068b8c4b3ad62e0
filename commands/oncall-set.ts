// `oncall set --members U012AB3CD,U045EF6GH [--handoff "mon 09:00"] [--tz Europe/London]
// [--ack-sla 10m] [--max-rounds 3]`: replaces the rotation (the first member is on call from the
// shift running now; a handoff or time zone not given keeps the stored one) and/or changes the
// critical escalation policy. With no policy stored, the first `set` stores it from
// ESCALATION_ACK_SLA / ESCALATION_MAX_ROUNDS so it is explicit, and says that those variables no
// longer apply; --ack-sla / --max-rounds change it afterwards (alone, without --members too).
import { z } from 'zod';
import { loadPolicy, savePolicy, type EscalationPolicy } from '../src/alerts/policy.js';
import { formatDuration, parseDuration } from '../src/config/duration.js';
import { AppError } from '../src/errors.js';
import { databaseNow } from '../src/db/queries/database-clock.js';
import { formatHandoff, isTimeZone, onCallAt, parseHandoff } from '../src/services/oncall/schedule.js';
import { getRotation, saveRotation } from '../src/services/oncall/store.js';
import { checkPeople } from '../src/services/oncall/user-directory.js';
import { parseUserList } from '../src/services/oncall/user-ref.js';
import { defineCommand } from './define.js';

export interface OncallSetResult {
  ok: boolean;
  /** The rotation as it is now; null when none is set (only the policy was changed). */
  members: string[];
  handoff: string;
  timeZone: string;
  /** Whether this run wrote the rotation (false: only the policy changed). */
  rotationChanged: boolean;
  onCallNow: string | null;
  next: string | null;
  policy: EscalationPolicy;
  /** What happened to the policy: stored now from the env/defaults, changed by the options, or left as stored. */
  policyChange: 'stored_from_env' | 'changed' | 'unchanged';
  warnings: string[];
}

const MAX_ACK_SLA_MS = 24 * 3_600_000;

function policyOptions(args: { ackSla?: string | undefined; maxRounds?: number | string | undefined }): { ackSlaMs?: number; maxRounds?: number } {
  const out: { ackSlaMs?: number; maxRounds?: number } = {};
  if (args.ackSla !== undefined) {
    const ms = parseDuration(args.ackSla);
    if (ms === undefined || ms < 30_000 || ms > MAX_ACK_SLA_MS) {
      throw new AppError('usage', 'bad_ack_sla', `--ack-sla: "${args.ackSla}" is not a usable acknowledge deadline; expected a duration from 30s to 24h such as 5m or 15m.`);
    }
    out.ackSlaMs = ms;
  }
  if (args.maxRounds !== undefined) {
    const n = typeof args.maxRounds === 'number' ? args.maxRounds : /^\s*\d+\s*$/.test(args.maxRounds) ? Number(args.maxRounds) : Number.NaN;
    if (!Number.isInteger(n) || n < 1 || n > 20) {
      throw new AppError('usage', 'bad_max_rounds', `--max-rounds: expected a whole number from 1 to 20, got "${String(args.maxRounds)}".`);
    }
    out.maxRounds = n;
  }
  return out;
}

export const oncallSetCommand = defineCommand({
  name: 'oncall set',
  summary: 'set the on-call rotation (ordered members, weekly handoff, time zone) and the critical escalation SLA/rounds',
  role: 'operator',
  args: z.object({
    members: z.union([z.string(), z.array(z.string())]).optional(),
    handoff: z.string().optional(),
    tz: z.string().optional(),
    ackSla: z.string().optional(),
    maxRounds: z.union([z.number(), z.string()]).optional(),
  }),
  async run(ctx, args) {
    const change = policyOptions(args);
    const policyOnly = args.members === undefined && args.handoff === undefined && args.tz === undefined;
    if (policyOnly && Object.keys(change).length === 0) {
      throw new AppError('usage', 'no_members', 'A rotation needs at least one member: expected --members U012AB3CD,U045EF6GH,… (Slack member ids), or --ack-sla / --max-rounds to change the escalation policy.');
    }
    // The shift running on the database's clock (paging's): a shell minutes off near a handoff still
    // puts the first member on call from the shift paging is in.
    const now = await databaseNow(ctx.db);
    const stored = await getRotation(ctx.db);
    const warnings: string[] = [];
    let rotation = stored;
    if (!policyOnly) {
      if (args.members === undefined) {
        throw new AppError('usage', 'no_members', '--handoff and --tz set the rotation, which needs its members too: add --members U012AB3CD,U045EF6GH,… (in rotation order).');
      }
      const members = parseUserList(args.members);
      // Not given: the stored handoff and time zone stay (a new rotation starts at mon 09:00 UTC).
      const handoff = args.handoff !== undefined ? parseHandoff(args.handoff) : stored ? { weekday: stored.handoffWeekday, time: stored.handoffTime } : parseHandoff('mon 09:00');
      if ('error' in handoff) throw new AppError('usage', 'bad_handoff', `--handoff: ${handoff.error}`);
      const tz = args.tz ?? stored?.timeZone ?? 'UTC';
      if (!isTimeZone(tz)) {
        throw new AppError('usage', 'bad_time_zone', `--tz: "${tz}" is not a time zone; expected an IANA name such as Europe/London or America/New_York.`);
      }
      warnings.push(...(await checkPeople(ctx.people, members)));
      rotation = await saveRotation(ctx.db, { members, handoffWeekday: handoff.weekday, handoffTime: handoff.time, timeZone: tz, now, actor: ctx.actor.id });
      if (members.length < 2) warnings.push('Only one member: escalation skips "next in rotation" and goes to the approvers. The go-live audit wants two or more.');
    }
    let policy = await loadPolicy(ctx.db, 'critical', ctx.config);
    let policyChange: OncallSetResult['policyChange'] = 'unchanged';
    if (Object.keys(change).length > 0) {
      policy = await savePolicy(ctx.db, { policy: { ...policy, ...change }, now, actor: ctx.actor.id, config: ctx.config });
      policyChange = 'changed';
    } else if (!policy.stored) {
      policy = await savePolicy(ctx.db, { policy, now, actor: ctx.actor.id, config: ctx.config });
      policyChange = 'stored_from_env';
    }
    if (policyChange === 'stored_from_env') {
      warnings.push(`The critical escalation policy is now stored (ACK SLA ${formatDuration(policy.ackSlaMs)}, ${policy.maxRounds} round(s)): later changes to ESCALATION_ACK_SLA / ESCALATION_MAX_ROUNDS have no effect; change it with \`ctb oncall set --ack-sla … --max-rounds …\`.`);
    } else if (policyChange === 'unchanged' && policy.envIgnored.length > 0) {
      warnings.push(`${policy.envIgnored.join(' and ')} in this environment ${policy.envIgnored.length > 1 ? 'differ' : 'differs'} from the stored policy and ${policy.envIgnored.length > 1 ? 'are' : 'is'} ignored; change the stored one with \`ctb oncall set --ack-sla … --max-rounds …\`.`);
    }
    if (ctx.config.SLACK_APPROVERS.length === 0) warnings.push('SLACK_APPROVERS is empty: the last rung (and the fallback when nobody is on call) pages the whole channel.');
    const current = rotation ? onCallAt(rotation, [], now) : null;
    return {
      ok: true,
      members: rotation?.members ?? [],
      handoff: rotation ? formatHandoff(rotation.handoffWeekday, rotation.handoffTime) : '',
      timeZone: rotation?.timeZone ?? '',
      rotationChanged: !policyOnly,
      onCallNow: current?.primary ?? null, next: current?.next ?? null, policy, policyChange, warnings,
    } satisfies OncallSetResult;
  },
});
