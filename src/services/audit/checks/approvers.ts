// Checklist 6: who approves the switch to live. A live switch needs APPROVALS_NEEDED approvers from
// SLACK_APPROVERS other than its requester: with fewer listed, no switch can ever be approved. That is
// the rule that holds (mode/records.ts); this check warns, not fails, because a failed audit also
// blocks resuming a halted bot, in paper too, where no approver is involved.
import { APPROVALS_NEEDED } from '../../mode/records.js';
import { judgedApprovers } from '../sources/engine-operations.js';
import { defineCheck } from '../types.js';

export const approversCheck = defineCheck({
  id: 'mode.approvers',
  title: `At least ${APPROVALS_NEEDED} approvers can approve a live switch`,
  checklistSection: 6,
  async run(ctx) {
    // The engine's process's SLACK_APPROVERS when it recorded them: a shell's longer list approves nothing.
    const judged = judgedApprovers(ctx);
    const approvers = judged.value;
    const whose = judged.source === 'engine' ? ` (SLACK_APPROVERS of ${judged.from})` : '';
    const details = { approvers, needed: APPROVALS_NEEDED, from: judged.from };
    if (approvers.length < APPROVALS_NEEDED) {
      const listed = approvers.length === 0 ? 'SLACK_APPROVERS is empty' : `SLACK_APPROVERS lists only ${approvers.join(', ')}`;
      return {
        status: 'warn',
        value: `${listed}: a live switch cannot be approved (it needs ${APPROVALS_NEEDED} approvers besides the requester)${whose}`,
        fix: `Set SLACK_APPROVERS to the Slack member ids of at least ${APPROVALS_NEEDED} people who approve going live (comma-separated, e.g. U012AB3CD,U045EF6GH) and restart.`,
        details,
      };
    }
    return { status: 'pass', value: `${approvers.length} approvers: ${approvers.join(', ')} (${APPROVALS_NEEDED} besides the requester must approve)${whose}`, fix: null, details };
  },
});
