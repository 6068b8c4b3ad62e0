// `alerts ack|resolve|silence <group>`: the Acknowledge / Resolve / Silence buttons, as commands,
// so the terminal and Slack do the same thing and both land in the command log. Who may run them
// is decided per alert by src/alerts/permissions.ts (on-call people may ack and resolve without
// being operators), so the role here is 'reader' and the per-alert check is the command's `allow`,
// which runCommand applies and trails (the Slack buttons add no check of their own).
import { z } from 'zod';
import { acknowledgeAlert, resolveAlert, silenceAlert } from '../src/alerts/actions.js';
import { alertActionPermission, type AlertAction } from '../src/alerts/permissions.js';
import { parseDuration } from '../src/config/duration.js';
import { AppError } from '../src/errors.js';
import { defineCommand, type CommandContext, type Permission } from './define.js';

export interface AlertActionCommandResult {
  ok: boolean;
  groupId: number;
  status: string;
  changed: boolean;
  title: string;
  silencedUntil: string | null;
  acknowledgedBy: string | null;
  resolvedBy: string | null;
  silencedBy: string | null;
  /** A silence of an alert whose escalation had already run out: its last step and round, and when (ISO). */
  escalationEnded: { round: number; step: number; at: string } | null;
}

const groupId = z.coerce.number({ message: 'expected the alert group number shown on the alert' }).int().positive();

const summarise = (r: Awaited<ReturnType<typeof acknowledgeAlert>>, now: Date): AlertActionCommandResult => ({
  ok: true, groupId: r.group.id, status: r.group.status, changed: r.changed, title: r.group.title,
  silencedUntil: r.group.silencedUntil && r.group.silencedUntil > now ? r.group.silencedUntil.toISOString() : null,
  acknowledgedBy: r.group.acknowledgedBy ?? null, resolvedBy: r.group.resolvedBy ?? null, silencedBy: r.group.silencedBy ?? null,
  escalationEnded: r.escalationEnded ? { round: r.escalationEnded.round, step: r.escalationEnded.step, at: r.escalationEnded.at.toISOString() } : null,
});

function allowFor(action: AlertAction) {
  return async (ctx: CommandContext, args: { group: number }): Promise<Permission> => {
    const p = await alertActionPermission({ db: ctx.db, config: ctx.config, actor: ctx.actor, action, groupId: args.group });
    return p.allowed ? { allowed: true } : p;
  };
}

export const alertAckCommand = defineCommand({
  name: 'alerts ack',
  summary: 'acknowledge an alert group: stops its escalation (operators, approvers, on-call people)',
  role: 'reader',
  args: z.object({ group: groupId }),
  allow: allowFor('ack'),
  async run(ctx, args) {
    return summarise(await acknowledgeAlert({ db: ctx.db, clock: ctx.clock, groupId: args.group, actor: ctx.actor.id }), ctx.clock.now());
  },
});

export const alertResolveCommand = defineCommand({
  name: 'alerts resolve',
  summary: 'resolve an alert group: closes its thread; the next such alert opens a new one (operators, approvers, on-call people)',
  role: 'reader',
  args: z.object({ group: groupId, note: z.string().max(500).optional() }),
  allow: allowFor('resolve'),
  async run(ctx, args) {
    return summarise(await resolveAlert({ db: ctx.db, clock: ctx.clock, groupId: args.group, actor: ctx.actor.id, ...(args.note ? { note: args.note } : {}) }), ctx.clock.now());
  },
});

export const alertSilenceCommand = defineCommand({
  name: 'alerts silence',
  summary: 'silence an alert group for a while (1s to 7d, e.g. 30m, 2h, 1d): repeats are counted, not posted or paged (operators, approvers)',
  role: 'reader',
  args: z.object({ group: groupId, duration: z.string() }),
  allow: allowFor('silence'),
  async run(ctx, args) {
    const ms = parseDuration(args.duration);
    if (ms === undefined) throw new AppError('usage', 'bad_duration', `"${args.duration}" is not a duration: expected one from 1s to 7d in s, m, h or d, such as 30m, 2h, 1h30m or 1d.`);
    return summarise(await silenceAlert({ db: ctx.db, clock: ctx.clock, groupId: args.group, actor: ctx.actor.id, durationMs: ms }), ctx.clock.now());
  },
});
