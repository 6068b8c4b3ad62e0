// Wires the narrow ports the kill and the live switch post through (IncidentPoster, IncidentThread,
// ModeAnnouncer, declared by those services) to the process's one notifier (ctx.notifier): each call
// becomes a typed notification the notifier renders and delivers. A port exists only when the notifier
// carries its kinds (Slack with SLACK_OPS_CHANNEL): otherwise undefined, and the service does without.
import type { Db } from '../db/client.js';
import { readBotStateRow } from '../db/queries/bot-state-row.js';
import type { Notifier } from '../notifications/notification.js';
import type { IncidentThread } from '../services/kill/incident-thread.js';
import type { IncidentPoster } from '../services/kill/runtime.js';
import type { ModeAnnouncer } from '../services/mode/ports.js';
import type { AppContext } from './context.js';

type WithNotifier = Pick<AppContext, 'db' | 'notifier'>;

/**
 * Whether the bot is halted as the incident's message is drawn (one open on a bot not halted says so);
 * nothing when it cannot be read — the message then says nothing of it, and is still drawn.
 */
async function botHalted(db: Db): Promise<{ botHalted?: boolean }> {
  const row = await readBotStateRow(db).catch(() => undefined);
  return row ? { botHalted: row.halted } : {};
}

/** Posts a new incident's checklist thread through the notifier. */
export function notifiedIncidentPoster(ctx: WithNotifier): IncidentPoster | undefined {
  const { notifier, db } = ctx;
  if (!notifier?.carries.has('incident_opened')) return undefined;
  return async (incident, items) => notifier.notify(db, { kind: 'incident_opened', incident, items, ...(await botHalted(db)) });
}

/** Keeps an incident's thread in step (its checklist message, an answer per item) through the notifier. */
export function notifiedIncidentThread(ctx: WithNotifier): IncidentThread | undefined {
  const { notifier, db } = ctx;
  if (!notifier?.carries.has('incident_update') || !notifier.carries.has('incident_note')) return undefined;
  return {
    async update(incident, items) {
      const { slackChannel: channel, slackTs: ts } = incident;
      if (!channel || !ts) return;
      await notifier.notify(db, { kind: 'incident_update', thread: { channel, ts }, incident, items, ...(await botHalted(db)) });
    },
    async note(incident, item) {
      const { slackChannel: channel, slackTs: ts } = incident;
      if (!channel || !ts) return;
      await notifier.notify(db, { kind: 'incident_note', thread: { channel, ts }, item });
    },
  };
}

/** The live switch's announcer over the notifier; undefined when it cannot carry a change request. */
export function notifiedModeAnnouncer(notifier: Notifier | null, db: Db, callMaxMs?: number): ModeAnnouncer | undefined {
  if (!notifier?.carries.has('mode_request') || !notifier.carries.has('mode_changed')) return undefined;
  return {
    available: true,
    ...(callMaxMs !== undefined ? { callMaxMs } : {}),
    postRequest: (request) => notifier.notify(db, { kind: 'mode_request', request }),
    async postInThread(channel, ts, outcome) {
      await notifier.notify(db, { kind: 'mode_changed', thread: { channel, ts }, outcome });
    },
    async postNotice(outcome) {
      await notifier.notify(db, { kind: 'mode_changed', thread: null, outcome });
    },
    async announceInThread(channel, ts, outcome, opts) {
      const announce = { requestId: outcome.requestId ?? 0, checkSent: opts.checkSent, ...(opts.beforePost ? { beforePost: opts.beforePost } : {}) };
      const delivered = await notifier.notify(db, { kind: 'mode_changed', thread: { channel, ts }, outcome, announce });
      return { ts: delivered.ts, found: delivered.foundText !== undefined };
    },
  };
}
