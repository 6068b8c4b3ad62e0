// The features the running bot starts, in order. Each issue's part of the bot adds itself here.
import { alertsFeature } from '../alerts/feature.js';
import { healthFeature } from '../http/health.js';
import { statsSummariesFeature } from '../jobs/stats-summaries-feature.js';
import { metricsFeature } from '../metrics/feature.js';
import { modeFeature } from '../services/mode/mode-feature.js';
import { slackFeature } from '../slack/feature.js';
import type { Feature } from './feature.js';
import { engineFeature } from '../engine/feature.js';
import { killOnHardBreach } from '../services/kill/auto-kill.js';
import { createKillFeature } from '../services/kill/kill-feature.js';
import { createSlackIncidentPoster, createSlackIncidentThread } from '../slack/incident-poster.js';

// The kill switch posts its incident threads through Slack when Slack is configured.
const killFeature = createKillFeature({ incidentPoster: createSlackIncidentPoster, incidentThread: createSlackIncidentThread });

export const features: Feature[] = [healthFeature, metricsFeature, alertsFeature, killFeature, modeFeature, slackFeature, statsSummariesFeature, engineFeature({ onHardBreach: killOnHardBreach })];
