// Registers the listener table on a Bolt app: each row becomes one Bolt listener that builds the
// request object and runs the row under the one error handler. Acks happen earlier, in the
// delivery guard (../deliveries.ts), so no row can be late for Slack's 3 seconds.
import type { App, ViewSubmitAction } from '@slack/bolt';
import type { AppContext } from '../../app/context.js';
import type { Delivery } from '../deliveries.js';
import { buildRequest, handleSafely } from './request.js';
import { dispatchSlash } from './slash.js';
import type { ListenerTable } from './types.js';

const keyOf = (context: Record<string, unknown>) => (context.delivery as Delivery | undefined)?.key;

export function registerListeners(app: App, ctx: AppContext, table: ListenerTable): void {
  for (const row of table.commands) {
    app.command(row.command, async ({ command, client, respond, context }) => {
      const base = buildRequest({ ctx, client, userId: command.user_id, deliveryKey: keyOf(context), respond, channel: command.channel_id });
      await dispatchSlash(row, table, command, base);
    });
  }

  for (const row of table.events) {
    app.event(row.event, async ({ event, body, client, context }) => {
      const e = event as unknown as Record<string, unknown> & { type: string };
      const item = e.item as Record<string, unknown> | undefined;
      const userId = typeof e.user === 'string' ? e.user : '';
      const channel = typeof e.channel === 'string' ? e.channel : typeof item?.channel === 'string' ? item.channel : undefined;
      const req = buildRequest({ ctx, client, userId, deliveryKey: keyOf(context), channel });
      await handleSafely(req, { event: row.event }, () =>
        row.handle({ ...req, event: e, body: body as unknown as Record<string, unknown> & { event_id?: string } }),
      );
    });
  }

  for (const row of table.actions) {
    app.action({ type: 'block_actions', action_id: row.actionId }, async ({ action, body, client, respond, context }) => {
      const channel = body.channel?.id;
      const threadTs = body.message?.thread_ts as string | undefined;
      const req = buildRequest({ ctx, client, userId: body.user.id, deliveryKey: keyOf(context), respond, channel, threadTs });
      await handleSafely(req, { action: action.action_id }, () => row.handle({ ...req, action, body }));
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
