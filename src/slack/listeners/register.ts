// Registers the listener table on a Bolt app. Commands, events and actions go through one
// dispatch (tableDispatch) that finds the table's rows by name in a map, builds the request object
// and runs each row under the one error handler: the delivery guard runs it after the ack, out of
// Bolt's chain (../deliveries.ts), and create-app.ts puts it last in Bolt's global chain, after the
// guard, for what the guard hands on. Bolt runs every registered listener's chain on every request (a
// copy of its middleware list, a spread of the arguments per step, a settle of all of them): with a
// Bolt listener per surface, a slash command went through five chains to reach its one row, and
// through eighteen with a listener per row before that. Acks happen earlier, in the delivery guard
// (../deliveries.ts), so no row can be late for Slack's 3 seconds. View submissions keep a Bolt
// listener per row (registerViewListeners): their ack carries the answer.
import type { AllMiddlewareArgs, AnyMiddlewareArgs, App, BlockAction, Middleware, SlashCommand, ViewSubmitAction } from '@slack/bolt';
import type { webApi } from '@slack/bolt';
import type { AppContext } from '../../app/context.js';
import type { StatusRows } from '../../db/queries/mode-status.js';
import { scrubberFor } from '../../secret-scrub.js';
import type { Delivery } from '../deliveries.js';
import { responseUrlPoster } from '../response-url.js';
import { buildRequest, handleSafely } from './request.js';
import { dispatchSlash, matchSubcommand } from './slash.js';
import type { ActionRow, EventRow, ListenerTable, SlackWaits, SlashCommandRow } from './types.js';

const keyOf = (context: Record<string, unknown>) => (context.delivery as Delivery | undefined)?.key;
/** When the delivery guard took the request in (ms on the context's clock): its response_url's life runs from it. */
const receivedAtOf = (context: Record<string, unknown>) => (typeof context.receivedAt === 'number' ? context.receivedAt : undefined);
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

/** The listener table's side of Bolt: a global middleware, and the same dispatch for the delivery guard. */
export interface TableDispatch {
  /**
   * Bolt global middleware, put last: runs the table's rows for a slash command, an Events API event
   * or a block action, matched as Bolt's app.command(/^\//), app.event(type) and
   * app.action({ type: 'block_actions' }) matched them. Anything else (a view submission) goes on to
   * Bolt's listeners.
   */
  middleware: Middleware<AnyMiddlewareArgs>;
  /**
   * For the delivery guard (../deliveries.ts): the same rows' work for a request the table takes,
   * holding only what they read (the payload, the body, the client), so that the guard can let Bolt
   * finish with the request at its ack; run with a context carrying the delivery (and a status
   * command's status rows). Undefined for anything the middleware hands on to Bolt's listeners.
   */
  detach(args: AnyMiddlewareArgs & AllMiddlewareArgs): ((context: Record<string, unknown>) => Promise<void>) | undefined;
}

/** A request the table takes and has no row for. */
const NOTHING = () => Promise.resolve();

/** Every row's request carries `waits` (default the shipped ones). */
export function tableDispatch(ctx: AppContext, table: ListenerTable, waits?: SlackWaits): TableDispatch {
  const commands = byName<SlashCommandRow>(table.commands, (row) => row.command);
  const events = byName<EventRow>(table.events, (row) => row.event);
  const exactActions = byName<ActionRow>(table.actions.filter((row) => typeof row.actionId === 'string'), (row) => row.actionId as string);
  const patternActions = table.actions.filter((row) => row.actionId instanceof RegExp);
  const hasActions = table.actions.length > 0;
  const scrub = scrubberFor(ctx.config);

  const onCommand = async (command: SlashCommand, client: webApi.WebClient, context: Record<string, unknown>) => {
    const rows = commands.get(command.command);
    if (!rows) return;
    const respond = responseUrlPoster(command.response_url, scrub);
    const statusRead = statusReadOf(context);
    // Each row gets a request of its own (not a named arrow made per command: see src/logger.ts, deferredLogger).
    const source = { ctx, client, userId: command.user_id, deliveryKey: keyOf(context), receivedAt: receivedAtOf(context), respond, channel: command.channel_id, statusRead, waits };
    if (rows.length === 1) return dispatchSlash(rows[0]!, table, command, buildRequest(source));
    await Promise.all(rows.map((row) => dispatchSlash(row, table, command, buildRequest(source))));
  };

  const onEvent = async (rows: EventRow[], e: Record<string, unknown> & { type: string }, body: unknown, client: webApi.WebClient, context: Record<string, unknown>) => {
    const item = e.item as Record<string, unknown> | undefined;
    const userId = typeof e.user === 'string' ? e.user : '';
    const channel = typeof e.channel === 'string' ? e.channel : typeof item?.channel === 'string' ? item.channel : undefined;
    await Promise.all(
      rows.map((row) => {
        const req = buildRequest({ ctx, client, userId, deliveryKey: keyOf(context), channel, waits });
        return handleSafely(req, { event: row.event }, () =>
          row.handle({ ...req, event: e, body: body as Record<string, unknown> & { event_id?: string } }),
        );
      }),
    );
  };

  const onAction = async (action: BlockAction['actions'][number], body: BlockAction, client: webApi.WebClient, context: Record<string, unknown>) => {
    const rows = actionRowsFor(exactActions, patternActions, action.action_id);
    if (rows.length === 0) return;
    const respond = responseUrlPoster(body.response_url, scrub);
    const channel = body.channel?.id;
    const threadTs = body.message?.thread_ts as string | undefined;
    await Promise.all(
      rows.map((row) => {
        const req = buildRequest({ ctx, client, userId: body.user.id, deliveryKey: keyOf(context), receivedAt: receivedAtOf(context), respond, channel, threadTs, waits });
        return handleSafely(req, { action: action.action_id }, () => row.handle({ ...req, action, body }));
      }),
    );
  };

  // Arrows made in a function of their own: they hold the payload, body and client they name, not Bolt's arguments.
  const detach = (args: AnyMiddlewareArgs & AllMiddlewareArgs): ((context: Record<string, unknown>) => Promise<void>) | undefined => {
    const { client, body } = args;
    const { command, event, action } = args as Partial<{ command: SlashCommand; event: Record<string, unknown> & { type?: unknown }; action: BlockAction['actions'][number] }>;
    if (command) {
      return typeof command.command === 'string' && command.command.startsWith('/') ? (context) => onCommand(command, client, context) : NOTHING;
    }
    if (event !== undefined) {
      const rows = typeof event.type === 'string' ? events.get(event.type) : undefined;
      return rows ? (context) => onEvent(rows, event as Record<string, unknown> & { type: string }, body, client, context) : NOTHING;
    }
    if (action && (body as { type?: unknown }).type === 'block_actions') {
      return hasActions ? (context) => onAction(action, body as BlockAction, client, context) : NOTHING;
    }
    return undefined;
  };

  return {
    detach,
    async middleware(args) {
      const run = detach(args);
      if (run) return run(args.context);
      await args.next();
    },
  };
}

/** View submissions: a Bolt listener per row, since the listener's ack carries the answer. */
export function registerViewListeners(app: App, ctx: AppContext, table: ListenerTable, waits?: SlackWaits): void {
  for (const row of table.views) {
    app.view({ callback_id: row.callbackId, type: 'view_submission' }, async ({ view, body, client, context, ack }) => {
      const req = buildRequest({ ctx, client, userId: body.user.id, deliveryKey: keyOf(context), waits });
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
