// Owns the Slack transport's own record: which Slack deliveries (events, slash commands, actions)
// were already taken in, so a retry (X-Slack-Retry-Num) or a duplicate event_id is never applied twice.
import { index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

export const slackDeliveries = pgTable(
  'slack_deliveries',
  {
    /** `event:<event_id>`, `command:<trigger_id>`, `action:<trigger_id>:<action_ts>`, … (see src/slack/deliveries.ts). */
    key: text('key').primaryKey(),
    surface: text('surface').notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true, mode: 'date' }).notNull(),
    retryNum: integer('retry_num'),
  },
  (t) => [index('slack_deliveries_received_at').on(t.receivedAt)],
);

export type SlackDelivery = typeof slackDeliveries.$inferSelect;
