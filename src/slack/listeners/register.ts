// Registers the listener table on a Bolt app: one Bolt listener per Slack surface (commands, events,
// actions) that finds the table's row by name in a map, builds the request object and runs the row
// under the one error handler. Bolt runs every registered listener's matching chain on every
// request, so a listener per row cost each slash command eighteen chains to find its one row.
// Acks happen earlier, in the delivery guard (../deliveries.ts), so no row can be late for Slack's
// 3 seconds. View submissions keep a listener per row: their ack carries the answer.
import type { App, ViewSubmitAction } from '@slack/bolt';
import type { AppContext } from '../../app/context.js';
import type { StatusRows } from '../../db/queries/mode-status.js';
import type { Delivery } from '../deliveries.js';
import { responseUrlPoster } from '../response-url.js';
import { buildRequest, handleSafely } from './request.js';
import { dispatchSlash, matchSubcommand } from './slash.js';
import type { ActionRow, EventRow, ListenerTable, SlashCommandRow } from './types.js';

const keyOf = (context: Record<string, unknown>) => (context.delivery as Delivery | undefined)?.key;
/** The status rows the delivery's claim read for a status command (deliveries.ts). */
const statusReadOf = (context: Record<string, unknown>) => context.statusRead as StatusRows | undefined;

/** Rows by name; a name given twice keeps every row, in table order (as Bolt ran every match). */
function byName<R>(rows: R[], name: (row: R) => string): Map<string, R[]> {
  const map = new Map<string, R[]>();
  for (const row of rows) map.set(name(row), [...(map.get(name(row)) ?? []), row]);
  return map;
}

/** The action rows for an action_id: exact names from the map, then the pattern rows that match. */
function actionRowsFor(exact: Map<string, ActionRow[]>, patterns: ActionRow[], actionId: string): ActionRow[] {
  const named = exact.get(actionId) ?? [];
  const matched = patterns.filter((row) => (row.actionId as RegExp).test(actionId));
  return matched.length === 0 ? named : [...named, ...matched];
}

/**
 * For the delivery guard: whether a request is a slash command whose subcommand reads the status
 * first (SlashSubcommand.readsStatus), picked as dispatchSlash picks it. A command name given by
 * two rows runs both, so only a name with one row counts.
 */
export function readsStatusFirst(table: ListenerTable): (body: Record<string, unknown>) => boolean {
  const commands = byName<SlashCommandRow>(table.commands, (row) => row.command);
  return (body) => {
    const rows = typeof body.command === 'string' ? commands.get(body.command) : undefined;
    if (rows?.length !== 1) return false;
    return matchSubcommand(rows[0]!, typeof body.text === 'string' ? body.text : '').sub?.readsStatus === true;
  };
}

export function registerListeners(app: App, ctx: AppContext, table: ListenerTable): void {
  const commands = byName<SlashCommandRow>(table.commands, (row) => row.command);
  if (commands.size > 0) {
    app.command(/^\//, async ({ command, client, context }) => {
      const rows = commands.get(command.command);
      if (!rows) return;
      const respond = responseUrlPoster(command.response_url);
      const statusRead = statusReadOf(context);
      const base = () => buildRequest({ ctx, client, userId: command.user_id, deliveryKey: keyOf(context), respond, channel: command.channel_id, statusRead });
      await Promise.all(rows.map((row) => dispatchSlash(row, table, command, base())));
    });
  }

  const events = byName<EventRow>(table.events, (row) => row.event);
  for (const type of events.keys()) {
    const rows = events.get(type)!;
    app.event(type, async ({ event, body, client, context }) => {
      const e = event as unknown as Record<string, unknown> & { type: string };
      const item = e.item as Record<string, unknown> | undefined;
      const userId = typeof e.user === 'string' ? e.user : '';
      const channel = typeof e.channel === 'string' ? e.channel : typeof item?.channel === 'string' ? item.channel : undefined;
      await Promise.all(
        rows.map((row) => {
          const req = buildRequest({ ctx, client, userId, deliveryKey: keyOf(context), channel });
          return handleSafely(req, { event: row.event }, () =>
            row.handle({ ...req, event: e, body: body as unknown as Record<string, unknown> & { event_id?: string } }),
          );
        }),
      );
    });
  }

  const exactActions = byName<ActionRow>(table.actions.filter((row) => typeof row.actionId === 'string'), (row) => row.actionId as string);
  const patternActions = table.actions.filter((row) => row.actionId instanceof RegExp);
  if (table.actions.length > 0) {
    app.action({ type: 'block_actions' }, async ({ action, body, client, context }) => {
      const rows = actionRowsFor(exactActions, patternActions, action.action_id);
      if (rows.length === 0) return;
      const respond = responseUrlPoster(body.response_url);
      const channel = body.channel?.id;
      const threadTs = body.message?.thread_ts as string | undefined;
      await Promise.all(
        rows.map((row) => {
          const req = buildRequest({ ctx, client, userId: body.user.id, deliveryKey: keyOf(context), respond, channel, threadTs });
          return handleSafely(req, { action: action.action_id }, () => row.handle({ ...req, action, body }));
        }),
      );
    });
  }

  for (const row of table.views) {
    app.view({ callback_id: row.callbackId, type: 'view_submission' }, async ({ view, body, client, context, ack }) => {
      const req = buildRequest({ ctx, client, userId: body.user.id, deliveryKey: keyOf(context) });
      let acked = false;
      const ackOnce = async (response?: Record<string, unknown>) => {
        if (acked) return;
        acked = true;
        await ack(response as never);
      };
      try {
        await handleSafely(req, { view: view.callback_id }, () => row.handle({ ...req, view, body: body as ViewSubmitAction, ack: ackOnce }));
      } finally {
        await ackOnce();
      }
    });
  }
}
