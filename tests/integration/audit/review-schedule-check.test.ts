// monitoring.review_schedule (checklist 8: the daily/weekly review schedule reaches the team):
// warn when the summaries are off or have not posted lately, pass when one posted in two days.
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { Actor } from '../../../src/app/context.js';
import { scheduledReports } from '../../../src/db/schema/index.js';
import { reviewScheduleCheck } from '../../../src/services/audit/checks/review-schedule.js';
import { runAudit } from '../../../src/services/audit/run-audit.js';
import type { CheckResult } from '../../../src/services/audit/types.js';
import { usePostgresTestDb } from '../../support/db.js';
import { testContext } from '../../support/app-context.js';

const actor: Actor = { id: 'cli:test', source: 'cli' };
const SLACK = { SLACK_BOT_TOKEN: 'xoxb-0000-test-not-a-real-token', SLACK_SIGNING_SECRET: 'sig', SLACK_OPS_CHANNEL: 'C0OPS', SCHEDULE_TZ: 'Europe/Paris' };

const database = usePostgresTestDb({ truncate: ['scheduled_reports'] });

async function run(env: Record<string, string>): Promise<CheckResult> {
  const ctx = await testContext({ database: database(), env }); // ManualClock at 2026-01-05T12:00:00Z
  try {
    return (await runAudit(ctx, { actor, dryRun: true, cwd: '.', checks: [reviewScheduleCheck], only: [reviewScheduleCheck.id] })).results[0]!;
  } finally {
    await ctx.close();
  }
}

const posted = (kind: 'daily' | 'weekly', periodKey: string, at: string, postedAt: string | null) => ({
  kind, periodKey, periodFrom: new Date(Date.parse(at) - 86_400_000), periodTo: new Date(at), claimedBy: 'host:1', claimedAt: new Date(at),
  leaseUntil: new Date(Date.parse(at) + 60_000), postedAt: postedAt ? new Date(postedAt) : null, ...(postedAt ? {} : { lastError: 'channel_not_found' }),
});

describe('monitoring.review_schedule', () => {
  it('warns, naming what to set, when the summaries are off', async () => {
    expect(await run({})).toMatchObject({ status: 'warn', value: 'review summaries off: SLACK_BOT_TOKEN and SLACK_OPS_CHANNEL not set' });
    const { SLACK_OPS_CHANNEL: _c, ...noChannel } = SLACK;
    expect(await run(noChannel)).toMatchObject({ status: 'warn', value: 'review summaries off: SLACK_OPS_CHANNEL not set', fix: expect.stringContaining('daily 0 8 * * *, weekly 0 8 * * 1 (Europe/Paris)') });
  });

  it('warns when scheduled but nothing has posted (a failed attempt does not count)', async () => {
    await database().db.insert(scheduledReports).values(posted('daily', '2026-01-05', '2026-01-05T07:00:00Z', null));
    expect(await run(SLACK)).toMatchObject({ status: 'warn', value: 'daily 0 8 * * *, weekly 0 8 * * 1 (Europe/Paris) to C0OPS; none posted yet' });
  });

  it('passes when a summary posted within two days, and warns when the last one is older', async () => {
    await database().db.insert(scheduledReports).values(posted('daily', '2026-01-05', '2026-01-05T07:00:00Z', '2026-01-05T07:00:05Z'));
    expect(await run(SLACK)).toMatchObject({ status: 'pass', value: expect.stringContaining('last daily 2026-01-05 posted 4h ago'), fix: null });
    await database().db.execute(sql`truncate scheduled_reports`);
    await database().db.insert(scheduledReports).values(posted('weekly', '2025-W52', '2025-12-29T07:00:00Z', '2025-12-29T07:00:05Z'));
    expect(await run(SLACK)).toMatchObject({ status: 'warn', value: expect.stringContaining('last weekly 2025-W52 posted 7d ago'), fix: expect.stringContaining('Summaries stopped') });
  });
});
