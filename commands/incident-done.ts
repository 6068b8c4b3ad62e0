// `ctb incident done <item>` and the checklist buttons: does the item where the bot can (cancel
// again, flatten, reconcile) and records who did it and when. Flattening needs a confirmation.
import { z } from 'zod';
import { CHECKLIST, CHECKLIST_KEYS } from '../src/domain/incident-checklist.js';
import { doChecklistItem } from '../src/services/kill/incident.js';
import { defineCommand } from './define.js';

export const incidentDoneArgs = z.object({
  item: z.enum(CHECKLIST_KEYS, { error: `expected one of ${CHECKLIST_KEYS.join(', ')}` }),
  confirmed: z.boolean().optional().default(false),
  note: z.string().trim().max(500, 'expected a note of at most 500 characters').optional(),
  incidentId: z.number({ error: 'an incident number such as 3' }).int('an incident number such as 3').positive('an incident number such as 3').optional(),
});

export const incidentDoneCommand = defineCommand({
  name: 'incident done',
  summary: 'do and tick an item of the incident checklist',
  role: 'operator',
  args: incidentDoneArgs,
  // The items Slack confirms first (close_positions sells every position).
  accountChanging: CHECKLIST.filter((c) => c.confirm).map((c) => c.item),
  run: (ctx, args) => doChecklistItem(ctx, { item: args.item, actor: ctx.actor, confirmed: args.confirmed, note: args.note, incidentId: args.incidentId }),
});
