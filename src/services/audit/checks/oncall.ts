// Checklist 9: someone is paged when something breaks. Passes with a rotation of two people or
// more and a stored critical escalation policy that pages — the stored one, which every replica's
// pager follows, never this process's ESCALATION_* (none stored yet fails: nobody can say which
// replica's configuration will page); warns when Slack has not confirmed that each member can be
// paged (or says one cannot), and when no approvers back it up.
import { formatDuration } from '../../../config/duration.js';
import { storedPolicy } from '../../../alerts/policy.js';
import { formatHandoff } from '../../oncall/schedule.js';
import { checkReachable } from '../../oncall/reachability.js';
import { getRotation } from '../../oncall/store.js';
import { judgedApprovers } from '../sources/engine-operations.js';
import { defineCheck } from '../types.js';

export const onCallCheck = defineCheck({
  id: 'oncall.rotation',
  title: 'On-call rotation (two people or more) and escalation policy',
  checklistSection: 9,
  async run(ctx) {
    const rotation = await getRotation(ctx.db);
    const policy = await storedPolicy(ctx.db, 'critical', ctx.config);
    const ladder = !policy ? 'no critical escalation policy stored'
      : policy.steps.length > 0 ? `critical: ${policy.steps.join(' → ')} every ${formatDuration(policy.ackSlaMs)} ×${policy.maxRounds}`
        : 'critical alerts page nobody';
    // The approvers escalation ends with are the engine's process's (when it recorded them), not this shell's.
    const approvers = judgedApprovers(ctx);
    const details = { members: rotation?.members ?? [], policy, approvers: approvers.value.length };
    if (!rotation || rotation.members.length === 0) {
      return { status: 'fail', value: 'no on-call rotation', fix: 'Run `ctb oncall set --members U012AB3CD,U045EF6GH --handoff "mon 09:00" --tz <zone>`.', details };
    }
    if (rotation.members.length < 2) {
      return { status: 'fail', value: `rotation has 1 member (${rotation.members[0]})`, fix: 'Add a second person: `ctb oncall set --members U012AB3CD,U045EF6GH,…` (Slack member ids).', details };
    }
    if (!policy) {
      return {
        status: 'fail', value: ladder, details,
        fix: 'Start the bot (its alert pipeline stores the escalation policy of its configuration, which every replica then follows) or run `ctb oncall set`, which stores it.',
      };
    }
    if (policy.steps.length === 0) {
      return { status: 'fail', value: ladder, fix: 'Store a critical policy that pages: `ctb oncall set` stores the default (on-call → next → approvers).', details };
    }
    const value = `${rotation.members.length} people, handoff ${formatHandoff(rotation.handoffWeekday, rotation.handoffTime)} ${rotation.timeZone}; ${ladder}`;
    // A rotation is stored even when Slack could not check its members: say so here, every run.
    const reach = await checkReachable(ctx.people, rotation.members);
    const notes: string[] = [];
    const fixes: string[] = [];
    if (reach.unreachable.length > 0) {
      notes.push(reach.unreachable.map((u) => `${u.userId} cannot be paged (Slack says ${u.why})`).join(', '));
      fixes.push('Take them off with `ctb oncall set --members …`.');
    }
    if (reach.unchecked) {
      notes.push(`members never verified with Slack: ${reach.unchecked.ids.join(', ')} (${reach.unchecked.why})`);
      fixes.push(ctx.people
        ? 'Run the audit again once Slack answers.'
        : 'Configure Slack (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET) so it can check that each member is a person who can be paged.');
    }
    if (approvers.value.length === 0) {
      notes.push(`no approvers as last rung${approvers.source === 'engine' ? ` (SLACK_APPROVERS of ${approvers.from})` : ''}`);
      fixes.push('Set SLACK_APPROVERS so escalation ends with people, not the whole channel.');
    }
    const withReach = { ...details, unreachable: reach.unreachable, unverified: reach.unchecked?.ids ?? [] };
    if (notes.length > 0) return { status: 'warn', value: `${value}; ${notes.join('; ')}`, fix: fixes.join(' '), details: withReach };
    return { status: 'pass', value, fix: null, details: withReach };
  },
});
