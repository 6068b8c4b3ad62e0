// Owns which notifications Slack carries with this configuration, without loading the Web API
// client: the alert kinds always (their channel travels with them), the ops channel's kinds (the
// incident thread, the live switch, the summaries) only when SLACK_OPS_CHANNEL is set, and never
// the alert mail (src/email's).
import type { Config } from '../config/env.js';
import type { Carriage } from '../notifications/notification.js';

const NO_OPS_CHANNEL = 'SLACK_OPS_CHANNEL is not set';

export function slackCarriage(config: Pick<Config, 'SLACK_OPS_CHANNEL'>): Carriage {
  const ops = config.SLACK_OPS_CHANNEL ? true : NO_OPS_CHANNEL;
  return {
    alert_raised: true,
    alert_updated: true,
    alert_repeated: true,
    alert_note: true,
    alert_direct: true,
    alert_page: true,
    alert_email: 'mail only (src/email); the alerts channel gets the parent and its thread',
    incident_opened: ops,
    incident_update: ops,
    incident_note: ops,
    mode_request: ops,
    mode_changed: ops,
    summary: ops,
    // The message's channel travels with it (the one the button was clicked in).
    exit_outcome: true,
  };
}
