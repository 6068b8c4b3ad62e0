// What the announcement tests (announce-retry, announce-takeover) stand on: real PostgreSQL and the fake
// Slack for the file, a live change request posted in the ops channel and overdue, the sweep's world
// around it (the real Slack notifier and live-switch ports, a logger and an alert sink that keep what
// they get), and readers of the request's trail, its thread and its rendered sign-off.
import { WebClient } from '@slack/web-api';
import { asc, eq, sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { AlertInput, AlertSink } from '../../../src/alerts/types.js';
import { defaultLiveSwitchPorts } from '../../../src/app/live-switch-ports.js';
import { renderSignOff } from '../../../src/cli/commands/mode.js';
import { modeChangeEvents, modeChangeRequests } from '../../../src/db/schema/index.js';
import type { AnnounceRetry } from '../../../src/services/mode/announce-pending.js';
import type { LiveSwitchPorts } from '../../../src/services/mode/ports.js';
import { modeHistory } from '../../../src/services/mode/sign-off.js';
import { slackNotifier } from '../../../src/slack/notifier.js';
import { alertConfig } from '../../support/alert-fixtures.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { startFakeSlack, type FakeSlack, type SlackAnswer } from '../../support/fake-slack.js';
import { resetModeTables } from '../../support/mode-harness.js';

export interface World {
  ctx: { db: TestDatabase['db']; logger: pino.Logger; alerts: AlertSink; announceRetry?: AnnounceRetry };
  ports: LiveSwitchPorts;
  alerts: AlertInput[];
  logs: Array<{ level: number; msg: string } & Record<string, unknown>>;
  requestId: number;
  threadTs: string;
}

type ThreadPostAnswer = (body: Record<string, unknown>) => SlackAnswer | undefined | Promise<SlackAnswer | undefined>;

/** Registers the file's hooks (database and fake Slack for the file; mode tables and Slack's calls reset before each test). */
export function announceBed(ops: string) {
  let database!: TestDatabase;
  let fake!: FakeSlack;
  const bed = {
    get database() {
      return database;
    },
    get fake() {
      return fake;
    },
    /** How the fake answers a reply in a thread (the request message itself always posts); reset to Slack's own answer before each test. */
    answerThreadPost: (() => undefined) as ThreadPostAnswer,

    /** A live change request posted in the ops channel and overdue (its expiry passed), and the sweep's world around it. */
    async overdueRequest(announceRetry?: AnnounceRetry): Promise<World> {
      const posted = await new WebClient('xoxb-0000-test-not-a-real-token', { slackApiUrl: fake.url, retryConfig: { retries: 0 } })
        .chat.postMessage({ channel: ops, text: 'Live change request: switch to LIVE trading' });
      const [request] = await database.db.insert(modeChangeRequests).values({
        requester: 'UOPER0001', requesterSource: 'slack', fromMode: 'paper', toMode: 'live', slackChannel: ops, slackTs: posted.ts!,
        createdAt: sql`now() - interval '40 minutes'`, expiresAt: sql`now() - interval '10 minutes'`,
      }).returning();
      const config = alertConfig(fake, { SLACK_OPS_CHANNEL: ops });
      const logs: World['logs'] = [];
      const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as World['logs'][number]) });
      const alerts: AlertInput[] = [];
      const ports = defaultLiveSwitchPorts(config, slackNotifier({ config, logger }), database.db);
      const ctx = { db: database.db, logger, alerts: { raise: async (a: AlertInput) => void alerts.push(a) }, ...(announceRetry ? { announceRetry } : {}) };
      return { ctx, ports, alerts, logs, requestId: request!.id, threadTs: posted.ts! };
    },

    async trail(requestId: number) {
      return database.db.select().from(modeChangeEvents).where(eq(modeChangeEvents.requestId, requestId)).orderBy(asc(modeChangeEvents.id));
    },

    /** The replies Slack holds in the thread (the fake keeps every message it answered as posted). */
    replies: (w: World) => fake.messages.filter((m) => m.threadTs === w.threadTs),
    threadPosts: (w: World) => fake.callsTo('chat.postMessage').filter((c) => c.body.thread_ts === w.threadTs),

    /** Waits until the database's clock (the one retryAt is written on) has reached `at`. */
    async untilDatabaseReaches(at: string): Promise<void> {
      for (;;) {
        const [row] = (await database.db.execute(sql`select now() >= ${at}::timestamptz as due`)) as unknown as Array<{ due: boolean }>;
        if (row?.due) return;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },

    async rendered(requestId: number): Promise<string> {
      const [record] = await modeHistory({ db: database.db }, { limit: 1, id: requestId });
      return renderSignOff(record!);
    },
  };
  beforeAll(async () => {
    database = await createPostgresTestDb();
    fake = await startFakeSlack();
  });
  afterAll(async () => {
    await fake?.close();
    await database?.close();
  });
  beforeEach(async () => {
    await resetModeTables(database.db);
    fake.calls.length = 0;
    fake.messages.length = 0;
    bed.answerThreadPost = () => undefined;
    fake.on('chat.postMessage', (body) => (typeof body.thread_ts === 'string' ? bed.answerThreadPost(body) : undefined));
  });
  return bed;
}
