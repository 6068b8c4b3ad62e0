// Checklist 9: an on-call rotation with at least two people and an escalation policy.
// Placeholder until on-call (issue 7) lands; its owner replaces this file's check.
import { notConfiguredYet } from './not-configured.js';

export const onCallCheck = notConfiguredYet({
  id: 'oncall.rotation',
  title: 'On-call rotation (two people or more) and escalation policy',
  checklistSection: 9,
  fix: 'Set a rotation with `ctb oncall set --members U1,U2` once on-call is installed.',
});
