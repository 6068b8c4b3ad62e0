// One person is one approver: the list the go-live audit and the live switch judge names each person once.
import { describe, expect, it } from 'vitest';
import { approversCheck } from '../../src/services/audit/checks/approvers.js';
import { judgedApprovers } from '../../src/services/audit/sources/engine-operations.js';
import type { AuditContext } from '../../src/services/audit/types.js';

const recordedAt = new Date('2026-12-01T00:00:00Z');
/** What an older engine may have recorded with its gate policy: the same person listed twice. */
function engineRecorded(slackApprovers: string[]): AuditContext['engineLimits'] {
  return { limits: { slackApprovers } as NonNullable<AuditContext['engineLimits']>['limits'], recordedBy: 'h:1 (worker)', recordedAt };
}

describe('approvers are people, each counted once', () => {
  it('a list an engine recorded with one person twice counts that person once: the audit warns, not passes', async () => {
    const ctx = { config: { SLACK_APPROVERS: [] as string[] }, engineLimits: engineRecorded(['U0APPROVA', 'U0APPROVA']) };
    expect(judgedApprovers(ctx).value).toEqual(['U0APPROVA']);
    const result = await approversCheck.run(ctx as unknown as AuditContext, { dryRun: true });
    expect(result).toMatchObject({ status: 'warn', value: expect.stringMatching(/^SLACK_APPROVERS lists only U0APPROVA: a live switch cannot be approved/) });
  });
});
