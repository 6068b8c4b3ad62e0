// Owns how each notification reads in Slack, before the badge: one pure renderer per kind over the
// views that draw it (alerts, the incident checklist, the live switch, the stats summary).
import type { Notification } from '../notifications/notification.js';
import { directAlertMessage, parentMessage, repeatsMessage } from './views/alert.js';
import { renderChecklistAnswer, renderIncident } from './views/kill.js';
import { section, type SlackMessage } from './views/message.js';
import { renderChangeRequest, renderModeOutcome } from './views/mode-change.js';
import { renderExitRequest } from './views/exit.js';
import { renderStatsSummary } from './views/stats.js';

/** Pure: the message a notification reads as (the alert mail is not Slack's: see carriage.ts). */
export function renderNotification(n: Exclude<Notification, { kind: 'alert_email' }>): SlackMessage {
  switch (n.kind) {
    case 'alert_raised':
      return parentMessage(n.group, n.latest, n.now);
    case 'alert_updated':
      return parentMessage(n.group, n.latest, n.now, true);
    case 'alert_direct':
      return directAlertMessage({ alert: n.alert, raisedAt: n.raisedAt, process: n.process, dropped: n.dropped, cap: n.cap, modeReadAt: n.state?.readAt });
    case 'alert_repeated': {
      const text = repeatsMessage(n.events, n.total);
      return { text, blocks: [section(text)] };
    }
    case 'alert_note':
    case 'alert_page':
      return { text: n.text, blocks: [section(n.text)] };
    case 'incident_opened':
    case 'incident_update':
      return renderIncident(n.incident, n.items, n.botHalted === undefined ? {} : { botHalted: n.botHalted });
    case 'incident_note':
      return renderChecklistAnswer(n.item);
    case 'mode_request':
      return renderChangeRequest(n.request);
    case 'mode_changed':
      return renderModeOutcome(n.outcome);
    case 'exit_outcome':
      return renderExitRequest({ target: n.target, request: n.request, engineNote: null }, n.requestedBy);
    case 'summary':
      return renderStatsSummary({ kind: n.summary, periodKey: n.periodKey, report: n.report });
  }
}
