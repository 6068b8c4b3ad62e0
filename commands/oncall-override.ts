// `oncall override @user 2h [--from ISO]`: puts someone on call for a time range, over the rotation.
// `oncall override clear`: ends the override in force and drops the ones still to come.
import { z } from 'zod';
import { formatDuration, parseDuration } from '../src/config/duration.js';
import { AppError } from '../src/errors.js';
import { databaseNow } from '../src/db/queries/database-clock.js';
import { addOverride, clearOverrides } from '../src/services/oncall/store.js';
import { checkPeople } from '../src/services/oncall/user-directory.js';
import { parseUserRef } from '../src/services/oncall/user-ref.js';
import { defineCommand } from './define.js';

export interface OncallOverrideResult {
  ok: boolean;
  id: number;
  userId: string;
  startsAt: string;
  endsAt: string;
  duration: string;
  /** Things the operator should know but that did not stop the override (Slack could not be asked). */
  warnings: string[];
}

export interface OncallOverrideClearResult {
  ok: boolean;
  /** The overrides as they were: one in force now ended at once, later ones deleted. */
  cleared: Array<{ id: number; userId: string; startsAt: string; endsAt: string }>;
}

const MAX_OVERRIDE_MS = 30 * 86_400_000;

export const oncallOverrideCommand = defineCommand({
  name: 'oncall override',
  summary: 'put someone on call for a while (e.g. @alice 2h), over the rotation',
  role: 'operator',
  args: z.object({ user: z.string(), duration: z.string(), from: z.string().optional() }),
  async run(ctx, args) {
    const userId = parseUserRef(args.user);
    const ms = parseDuration(args.duration);
    if (ms === undefined || ms > MAX_OVERRIDE_MS) {
      throw new AppError('usage', 'bad_duration', `"${args.duration}" is not a usable override length: expected a duration up to 30d such as 30m, 2h or 1d.`);
    }
    // "Now" is the database's, which paging judges the override by: from a shell minutes fast it
    // would otherwise start minutes late.
    const now = await databaseNow(ctx.db);
    const startsAt = args.from ? new Date(args.from) : now;
    if (Number.isNaN(startsAt.getTime())) {
      throw new AppError('usage', 'bad_from', `--from: "${args.from}" is not a time; expected ISO 8601 such as 2026-01-31T18:00:00Z.`);
    }
    const endsAt = new Date(startsAt.getTime() + ms);
    if (endsAt.getTime() <= now.getTime()) {
      throw new AppError('usage', 'override_in_past', `That override would end at ${endsAt.toISOString()}, before now (${now.toISOString()}): it would never put anyone on call. Check --from.`);
    }
    const warnings = await checkPeople(ctx.people, [userId]);
    const row = await addOverride(ctx.db, { userId, startsAt, endsAt, actor: ctx.actor.id, now });
    return {
      ok: true, id: row.id, userId, startsAt: row.startsAt.toISOString(), endsAt: row.endsAt.toISOString(), duration: formatDuration(ms), warnings,
    } satisfies OncallOverrideResult;
  },
});

export const oncallOverrideClearCommand = defineCommand({
  name: 'oncall override clear',
  summary: 'end the override in force now and drop the ones still to come (the rotation decides again)',
  role: 'operator',
  args: z.object({}),
  async run(ctx) {
    const cleared = await clearOverrides(ctx.db, await databaseNow(ctx.db));
    return {
      ok: true,
      cleared: cleared.map((o) => ({ id: o.id, userId: o.userId, startsAt: o.startsAt.toISOString(), endsAt: o.endsAt.toISOString() })),
    } satisfies OncallOverrideClearResult;
  },
});
