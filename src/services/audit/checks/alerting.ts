// Checklist 3: alert channels configured and their last test delivery succeeded.
// Placeholder until the alert pipeline (issue 7) lands; its owner replaces this file's check.
import { notConfiguredYet } from './not-configured.js';

export const alertingCheck = notConfiguredYet({
  id: 'alerting.channels',
  title: 'Alert channels configured and last test delivered',
  checklistSection: 3,
  fix: 'Configure SLACK_ALERTS_CHANNEL (and SMTP_URL/ALERT_EMAIL_TO), then run `ctb alerts test` once the alert pipeline is installed.',
});
