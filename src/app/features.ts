// The features the running bot starts, in order. Each issue's part of the bot adds itself here.
import { alertsFeature } from './features/alerts.js';
import { healthFeature } from '../http/health.js';
import { statsSummariesFeature } from './features/stats-summaries.js';
import { metricsFeature } from './features/metrics.js';
import { modeFeature } from './features/mode.js';
import { slackFeature } from '../slack/feature.js';
import type { Feature } from './feature.js';
import { engineFeature } from '../engine/feature.js';
import { killOnHardBreach } from '../services/kill/auto-kill.js';
import { createKillFeature } from './features/kill.js';
import type { AppContext } from './context.js';

// The kill switch posts its incident threads through Slack when Slack and SLACK_OPS_CHANNEL are
// configured. The Slack side (and its Web API client) is imported on the first post: a bot without
// Slack never loads it, and one with Slack has it loaded already by the Slack feature.
const slackIncidents = (ctx: AppContext) => (ctx.config.slackEnabled && ctx.config.SLACK_OPS_CHANNEL ? import('../slack/incident-poster.js') : null);
const killFeature = createKillFeature({
  incidentPoster: (ctx) => {
    const slack = slackIncidents(ctx);
    const poster = slack?.then((m) => m.createSlackIncidentPoster(ctx)!);
    return poster ? async (incident, items) => (await poster)(incident, items) : undefined;
  },
  incidentThread: (ctx) => {
    const slack = slackIncidents(ctx);
    const thread = slack?.then((m) => m.createSlackIncidentThread(ctx)!);
    return thread
      ? { update: async (incident, items) => (await thread).update(incident, items), note: async (incident, item) => (await thread).note(incident, item) }
      : undefined;
  },
});

export const features: Feature[] = [healthFeature, metricsFeature, alertsFeature, killFeature, modeFeature, slackFeature, statsSummariesFeature, engineFeature({ onHardBreach: killOnHardBreach })];
