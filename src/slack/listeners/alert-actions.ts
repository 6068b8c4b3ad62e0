// The Acknowledge / Resolve / Silence controls on alert messages (built by src/alerts/render.ts):
// thin rows over commands/alert-actions.ts. Who may press what is decided per alert by
// src/alerts/permissions.ts; a refusal is answered only to the presser and logged as refused.
// Slack retries never reach a row twice (the delivery guard), and the actions are idempotent
// anyway: a second press answers "already acknowledged" and adds nothing to the thread.
import { alertAckCommand, alertResolveCommand, alertSilenceCommand } from '../../../commands/alert-actions.js';
import { recordCommand } from '../../../commands/run-command.js';
import { alertActionPermission, type AlertAction } from '../../alerts/permissions.js';
import { ALERT_ACTIONS, SILENCE_CHOICES } from '../../alerts/render.js';
import { AppError } from '../../errors.js';
import { renderAlertActionDone, renderAlertActionRefused } from '../views/alert-action.js';
import type { ActionRequest, ActionRow } from './types.js';

export interface AlertActionArgs {
  group: number;
  duration?: string;
}

/** Pure: the group (and silence length) an alert control carries: a button's value, a select's option. */
export function parseAlertActionValue(action: AlertAction, raw: { value?: unknown; selected_option?: { value?: unknown } }): AlertActionArgs {
  const value = action === 'silence' ? raw.selected_option?.value : raw.value;
  const text = typeof value === 'string' ? value : '';
  const m = action === 'silence' ? /^(\d{1,12}):(\w+)$/.exec(text) : /^(\d{1,12})$/.exec(text);
  if (!m || (action === 'silence' && !(SILENCE_CHOICES as readonly string[]).includes(m[2]!))) {
    const expected = action === 'silence' ? `"<group>:<${SILENCE_CHOICES.join('|')}>"` : 'an alert group number';
    throw new AppError('usage', 'bad_alert_action', `This ${action} control carried "${text.slice(0, 40)}", expected ${expected}. Use \`ctb alerts ${action} <group>\` instead.`);
  }
  return action === 'silence' ? { group: Number(m[1]), duration: m[2]! } : { group: Number(m[1]) };
}

const COMMANDS = { ack: alertAckCommand, resolve: alertResolveCommand, silence: alertSilenceCommand } as const;

async function handleAlertAction(req: ActionRequest, action: AlertAction): Promise<void> {
  const args = parseAlertActionValue(action, req.action as { value?: unknown; selected_option?: { value?: unknown } });
  const permission = await alertActionPermission({
    db: req.ctx.db, config: req.ctx.config, actor: req.actor, action, groupId: args.group, now: req.ctx.clock.now(),
  });
  if (!permission.allowed) {
    await recordCommand(req.ctx, {
      actor: req.actor, command: COMMANDS[action].name, args: JSON.stringify(args), allowed: false, result: 'refused',
      details: { action: req.action.action_id, channel: req.body.channel?.id },
    });
    await req.reply.ephemeral(renderAlertActionRefused(permission.reason));
    return;
  }
  const result = await req.run(COMMANDS[action], args);
  await req.reply.ephemeral(renderAlertActionDone(result, action));
}

export const alertActionRows: ActionRow[] = [
  { actionId: ALERT_ACTIONS.ack, handle: (req) => handleAlertAction(req, 'ack') },
  { actionId: ALERT_ACTIONS.resolve, handle: (req) => handleAlertAction(req, 'resolve') },
  { actionId: ALERT_ACTIONS.silence, handle: (req) => handleAlertAction(req, 'silence') },
];
