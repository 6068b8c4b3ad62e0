// The Acknowledge / Resolve / Silence controls on alert messages (built by ../views/alert.ts):
// thin rows over commands/alert-actions.ts. Who may press what is decided per alert by the
// command's `allow` (src/alerts/permissions.ts), applied and trailed once by runCommand; this row
// only turns a refusal into the reply the presser alone sees.
// Slack retries never reach a row twice (the delivery guard), and the actions are idempotent
// anyway: a second press answers "already acknowledged" and adds nothing to the thread.
import { alertAckCommand, alertResolveCommand, alertSilenceCommand } from '../../../commands/alert-actions.js';
import type { AlertAction } from '../../alerts/permissions.js';
import { ALERT_ACTIONS, SILENCE_CHOICES } from '../views/alert.js';
import { AppError, isAppError } from '../../errors.js';
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
  try {
    const result = await req.run(COMMANDS[action], args);
    await req.reply.ephemeral(renderAlertActionDone(result, action));
  } catch (err) {
    if (!isAppError(err, 'forbidden')) throw err;
    await req.reply.ephemeral(renderAlertActionRefused(err.message));
  }
}

export const alertActionRows: ActionRow[] = [
  { actionId: ALERT_ACTIONS.ack, handle: (req) => handleAlertAction(req, 'ack') },
  { actionId: ALERT_ACTIONS.resolve, handle: (req) => handleAlertAction(req, 'resolve') },
  { actionId: ALERT_ACTIONS.silence, handle: (req) => handleAlertAction(req, 'silence') },
];
