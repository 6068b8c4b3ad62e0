// The kill switch in Slack: `/kill [reason]` (operators; the reply goes to the channel, the incident
// thread to SLACK_OPS_CHANNEL), the checklist buttons of the incident thread (each does and records
// its item; closing positions is confirmed in Slack's dialog before the click arrives), and
// `/mode resume`. Retries of any of them are dropped by the delivery guard, and the kill itself is
// keyed by the delivery, so a retry reaching another replica joins the same kill.
import { incidentDoneCommand } from '../../../commands/incident-done.js';
import { readIncident } from '../../../commands/incident-show.js';
import { killCommand } from '../../../commands/kill.js';
import { resumeCommand } from '../../../commands/resume.js';
import { INCIDENT_ITEM_ACTION, renderCancelProgress, renderChecklistTick, renderIncident, renderKillReply, renderResume } from '../views/kill.js';
import { RESPONSE_URL_USES } from '../reply.js';
import { commandRoute } from './routes.js';
import type { ActionRow, SlashSubcommand } from './types.js';

export const killRoute: SlashSubcommand = {
  name: null,
  usage: '/kill [reason]',
  summary: 'Cancel every open order, halt the engine and switch to paper',
  role: killCommand.role,
  async handle(req) {
    const result = await req.run(killCommand, { reason: req.rest });
    await req.reply.inChannel(renderKillReply(result));
  },
};

export const modeResumeRoute: SlashSubcommand = commandRoute({
  name: 'resume',
  usage: '/mode resume',
  summary: 'Lift a halt (needs a passing audit since the halt and a done incident checklist); stays in paper',
  command: resumeCommand,
  render: renderResume,
  visibility: 'in_channel',
});

/**
 * With no thread to post in, cancel again's progress lines go through the clicker's response_url,
 * which Slack takes five times: this many lines at most, so that its answer (the tick) and an error
 * reply still have a use each. A line past them is logged, not said.
 */
export const PROGRESS_LINES_VIA_RESPONSE_URL = RESPONSE_URL_USES - 2;

export const incidentItemAction: ActionRow = {
  actionId: INCIDENT_ITEM_ACTION,
  async handle(req) {
    const item = INCIDENT_ITEM_ACTION.exec(req.action.action_id)![1]!;
    const value = 'value' in req.action ? Number(req.action.value) : NaN;
    const incidentId = Number.isInteger(value) && value > 0 ? value : undefined;
    const channel = req.body.channel?.id;
    const ts = req.body.message?.ts;
    const threadTs = (req.body.message?.thread_ts as string | undefined) ?? ts;
    // Cancel again tells, while Kraken is slow, which call missed its deadline: in the incident's
    // thread (or to the clicker) as it happens, not only in the answer that comes once it gives up.
    // One after another, and all before the answer: a line held up (a rate limit's wait) never lands after it.
    let told: Promise<void> = Promise.resolve();
    let linesToClicker = 0;
    const say = (line: string) => {
      const inThread = Boolean(channel && threadTs);
      if (!inThread && ++linesToClicker > PROGRESS_LINES_VIA_RESPONSE_URL) {
        req.logger.info({ line }, 'cancel again: progress line not said, the response_url is kept for the answer');
        return;
      }
      const post = async (): Promise<unknown> => (inThread ? req.reply.post(channel!, renderCancelProgress(line), { threadTs: threadTs! }) : req.reply.ephemeral(renderCancelProgress(line)));
      told = told.then(post).then(() => {}, (err: unknown) => req.logger.warn({ err }, 'cancel again: could not post its progress'));
    };
    // A button with a confirm dialog only fires once the operator confirmed it.
    const result = await req.run(incidentDoneCommand, { item, confirmed: true, ...(incidentId ? { incidentId } : {}) }, item === 'cancel_orders' ? { onKillProgress: say } : {});
    await told;
    if (channel && ts) {
      const view = await readIncident(req.ctx, result.incidentId);
      if (view) await req.reply.update(channel, ts, renderIncident(view.incident, view.items, { botHalted: view.botHalted }));
      await req.reply.post(channel, renderChecklistTick(result), { threadTs: threadTs ?? ts });
    } else {
      await req.reply.ephemeral(renderChecklistTick(result));
    }
  },
};
