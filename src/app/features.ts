// The features the running bot starts, in order. Each issue's part of the bot adds itself here.
import { alertsFeature } from './features/alerts.js';
import { healthFeature } from '../http/health.js';
import { statsSummariesFeature } from './features/stats-summaries.js';
import { metricsFeature } from './features/metrics.js';
import { modeFeature } from './features/mode.js';
import { slackFeature } from '../slack/feature.js';
import type { Feature } from './feature.js';
import { engineFeature } from './features/engine.js';
import { exitsFeature } from './features/exits.js';
import { killOnHardBreach } from '../services/kill/auto-kill.js';
import { createKillFeature } from './features/kill.js';
import { notifiedIncidentPoster, notifiedIncidentThread } from './notifier-ports.js';

// The kill switch posts its incident threads, and keeps them in step, through the process's
// notifier (Slack with SLACK_OPS_CHANNEL); without one there is no thread.
const killFeature = createKillFeature({ incidentPoster: notifiedIncidentPoster, incidentThread: notifiedIncidentThread });

// The kill switch comes right after /healthz, and Slack (its /kill) next: each routes its kill before any
// read of the database, so a database that goes away or stalls during the rest of the start (alerts, mode,
// the banner's reads) never stands between an operator and the kill. Cancelling is never refused.
export const features: Feature[] = [healthFeature, killFeature, slackFeature, metricsFeature, alertsFeature, modeFeature, exitsFeature, statsSummariesFeature, engineFeature({ onHardBreach: killOnHardBreach })];
