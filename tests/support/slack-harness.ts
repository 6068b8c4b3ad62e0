// Test harness for the Slack app: starts the bot's real HTTP server (health + Slack feature, Bolt's
// HTTPReceiver) on loopback against the local fake Slack Web API, and sends it signed requests the
// way Slack does. Other areas' Slack tests reuse it; keep this API stable.
//
//   const h = await startSlackHarness({ env: { SLACK_OPERATORS: 'UOPS1' } });   // own PostgreSQL db
//   startSlackHarness({ waits: { exitAnswerSeconds: 1 } })   // handlers wait seconds, not the shipped waits
//   const res = await h.slash('/mode', 'status', { user: USERS.reader });       // → { status, text }
//   await h.idle();                                  // wait until the bot finished the work it acked
//   h.responses()                                    // what the bot sent to response_url (JSON bodies)
//   h.fake.callsTo('chat.postMessage')               // Web API calls (chat.*, views.publish, …)
//   await h.event({ type: 'reaction_added', user, reaction, item: { type: 'message', channel, ts } });
//                                                    // (also puts the reaction on the message in h.fake.reactions)
//   await h.action({ actionId: 'alert_ack', value: '42', user, channel, messageTs });
//   await h.viewSubmission({ callbackId: 'oncall_override', values: {...}, user });
//   await h.commandLog()                             // command_log rows, oldest first
//   h.logs()                                         // parsed log lines (objects) the bot wrote
//   await h.close();
//
// Every sender takes SendOptions: { retryNum, retryReason } add X-Slack-Retry-* headers (reuse the
// same triggerId/eventId to model a retry), { timestamp } signs with another time (seconds),
// { signature: null } sends no signature headers, { signature: 'v0=…' } a forged one, { secret } signs
// with another secret. Defaults: USERS below, channel C0TESTOPS, team T0TEST, bot user UBOT0TEST.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { AppContext } from '../../src/app/context.js';
import type { Feature } from '../../src/app/feature.js';
import { startBot, type RunningBot, type StartBotOptions } from '../../src/app/runtime.js';
import type { Clock } from '../../src/clock.js';
import { testConfig } from '../../src/config/env.js';
import type { Database } from '../../src/db/client.js';
import { commandLog, type CommandLogEntry } from '../../src/db/schema/index.js';
import { healthFeature } from '../../src/http/health.js';
import { createLogger } from '../../src/logger.js';
import type { SlackApp } from '../../src/slack/create-app.js';
import { createSlackFeature } from '../../src/slack/feature.js';
import { SLACK_WAITS } from '../../src/slack/listeners/request.js';
import type { ListenerTable, SlackWaits } from '../../src/slack/listeners/types.js';
import { createPostgresTestDb } from './db.js';
import { startFakeSlack, type FakeSlack, type SlackCall } from './fake-slack.js';
import { signedHeaders, slackSignature } from './slack-signing.js';

export const SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';
export const BOT_TOKEN = 'xoxb-1111-2222-testtokenvalue';
export const TEAM_ID = 'T0TEST';
export const BOT_USER_ID = 'UBOT0TEST';
export const BOT_ID = 'B0TEST';
export const OPS_CHANNEL = 'C0TESTOPS';
export const USERS = {
  operator: 'UOPERATOR1',
  approver1: 'UAPPROVER1',
  approver2: 'UAPPROVER2',
  reader: 'UREADER1',
} as const;

export interface SlackHarnessOptions {
  /** Extra or overriding environment (SLACK_OPERATORS, IS_LIVE, APPROVAL_EMOJI, …). */
  env?: Record<string, string | undefined>;
  /** An open, migrated database; default a fresh PostgreSQL test database (closed by close()). */
  database?: Database;
  clock?: Clock;
  /** The listener table; default the bot's own (src/slack/listeners/table.ts). */
  table?: ListenerTable;
  /** How long handlers wait on for handed-over work; default the shipped waits (the exit button's minute). */
  waits?: Partial<SlackWaits>;
  /** Features started before the Slack feature (health is always there). */
  features?: Feature[];
  exchanges?: StartBotOptions['exchanges'];
  /** The live switch's ports (a go-live audit over chosen checks, a snapshot). */
  liveSwitch?: StartBotOptions['liveSwitch'];
}

export interface SendOptions {
  retryNum?: number;
  retryReason?: string;
  /** Seconds since the epoch to sign with (default now). */
  timestamp?: number;
  /** null: no signature headers at all; a string: sent as is (forged). */
  signature?: string | null;
  /** Sign with this secret instead of the bot's. */
  secret?: string;
}

export interface SlashOptions extends SendOptions {
  user?: string;
  channel?: string;
  /** Same triggerId = same delivery (what a Slack retry looks like). Default: a fresh one. */
  triggerId?: string;
}

export interface EventOptions extends SendOptions {
  /** Same eventId = same delivery. Default: a fresh one. */
  eventId?: string;
}

export interface ActionInput extends SendOptions {
  actionId: string;
  value?: string;
  user?: string;
  channel?: string;
  /** ts of the message carrying the button. */
  messageTs?: string;
  threadTs?: string;
  blockId?: string;
  triggerId?: string;
  /** Merged into the payload last (anything else a listener reads). */
  extra?: Record<string, unknown>;
}

export interface ViewInput extends SendOptions {
  callbackId: string;
  /** view.state.values */
  values?: Record<string, Record<string, unknown>>;
  privateMetadata?: string;
  user?: string;
  triggerId?: string;
}

export interface HttpResult {
  status: number;
  text: string;
  /** Headers the bot answered with. */
  headers: Headers;
}

export interface SlackHarness {
  bot: RunningBot;
  ctx: AppContext;
  slack: SlackApp;
  fake: FakeSlack;
  /** http://127.0.0.1:<port> of the bot. */
  url: string;
  slash(command: string, text: string, opts?: SlashOptions): Promise<HttpResult>;
  event(event: Record<string, unknown> & { type: string }, opts?: EventOptions): Promise<HttpResult>;
  action(input: ActionInput): Promise<HttpResult>;
  viewSubmission(input: ViewInput): Promise<HttpResult>;
  /** Sends a raw body to POST /slack/events (signed unless opts say otherwise). */
  send(body: string, contentType: string, opts?: SendOptions): Promise<HttpResult>;
  /** Waits until every request the bot acked has been fully handled. */
  idle(): Promise<void>;
  /** Bodies the bot POSTed to response_url that Slack took (fake-slack.ts: five, within 30 min), oldest first. */
  responses(): Array<Record<string, unknown>>;
  /** Everything sent to Slack that users would see: response_url bodies and chat.* / views.publish calls. */
  outgoing(): SlackCall[];
  commandLog(): Promise<CommandLogEntry[]>;
  /** Log lines the bot wrote (parsed JSON), oldest first. */
  logs(): Array<Record<string, unknown>>;
  close(): Promise<void>;
}

const fresh = (prefix: string) => `${prefix}${randomBytes(6).toString('hex')}`;

export async function startSlackHarness(opts: SlackHarnessOptions = {}): Promise<SlackHarness> {
  const fake = await startFakeSlack();
  fake.on('auth.test', () => ({
    body: { ok: true, url: 'https://test.slack.com/', team: 'Test', user: 'ctb', team_id: TEAM_ID, user_id: BOT_USER_ID, bot_id: BOT_ID },
  }));
  const dir = mkdtempSync(join(tmpdir(), 'ctb-slack-'));
  const config = testConfig({
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: fake.url,
    SLACK_OPERATORS: USERS.operator,
    SLACK_APPROVERS: `${USERS.approver1},${USERS.approver2}`,
    SLACK_OPS_CHANNEL: OPS_CHANNEL,
    DATA_DIR: join(dir, 'data'),
    LOG_DIR: join(dir, 'logs'),
    HOST: '127.0.0.1',
    PORT: '0',
    ...opts.env,
  });
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const logger = createLogger({ config, stdout: false, files: false, destination: sink, destinationLevel: 'debug' });
  const ownsDatabase = opts.database === undefined;
  const database = opts.database ?? (await createPostgresTestDb());
  let slack: SlackApp | undefined;
  const slackFeature = createSlackFeature({
    ...(opts.table ? { table: opts.table } : {}),
    ...(opts.waits ? { waits: { ...SLACK_WAITS, ...opts.waits } } : {}),
    onStarted: (s) => {
      slack = s;
    },
  });
  let bot: RunningBot;
  try {
    bot = await startBot({
      config,
      logger,
      database,
      role: 'web',
      feed: 'replay',
      port: 0,
      features: [healthFeature, ...(opts.features ?? []), slackFeature],
      ...(opts.clock ? { clock: opts.clock } : {}),
      ...(opts.exchanges ? { exchanges: opts.exchanges } : {}),
      ...(opts.liveSwitch ? { liveSwitch: opts.liveSwitch } : {}),
    });
  } catch (err) {
    await fake.close();
    if (ownsDatabase) await database.close();
    throw err;
  }
  const url = `http://127.0.0.1:${bot.port}`;
  const responseUrl = (id: string) => fake.responseUrl(id);

  async function send(body: string, contentType: string, o: SendOptions = {}): Promise<HttpResult> {
    const headers: Record<string, string> = { 'content-type': contentType };
    if (o.signature !== null) {
      const ts = o.timestamp ?? Math.floor(Date.now() / 1000);
      Object.assign(headers, signedHeaders(o.secret ?? SIGNING_SECRET, body, ts));
      if (typeof o.signature === 'string') headers['x-slack-signature'] = o.signature;
    }
    if (o.retryNum !== undefined) headers['x-slack-retry-num'] = String(o.retryNum);
    if (o.retryReason !== undefined) headers['x-slack-retry-reason'] = o.retryReason;
    const res = await fetch(`${url}/slack/events`, { method: 'POST', headers, body });
    return { status: res.status, text: await res.text(), headers: res.headers };
  }
  const sendPayload = (payload: Record<string, unknown>, o: SendOptions) =>
    send(new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), 'application/x-www-form-urlencoded', o);

  return {
    bot,
    ctx: bot.ctx,
    get slack() {
      return slack!;
    },
    fake,
    url,
    send,
    slash(command, text, o = {}) {
      const triggerId = o.triggerId ?? fresh('trg');
      const form = new URLSearchParams({
        token: 'legacy-verification-token',
        team_id: TEAM_ID,
        team_domain: 'test',
        channel_id: o.channel ?? OPS_CHANNEL,
        channel_name: 'ops',
        user_id: o.user ?? USERS.reader,
        user_name: 'someone',
        command,
        text,
        api_app_id: 'A0TEST',
        is_enterprise_install: 'false',
        response_url: responseUrl(triggerId),
        trigger_id: triggerId,
      });
      return send(form.toString(), 'application/x-www-form-urlencoded', o);
    },
    event(event, o = {}) {
      const sent = { event_ts: `${Math.floor(Date.now() / 1000)}.000200`, ...event };
      // The reaction is on the message in Slack before its event is sent (reactions.get sees it).
      const item = event.item as { type?: string; channel?: string; ts?: string } | undefined;
      if ((event.type === 'reaction_added' || event.type === 'reaction_removed') && item?.type === 'message' && item.channel && item.ts) {
        fake.reactions.apply({
          channel: item.channel, ts: item.ts, name: String(event.reaction), user: String(event.user), added: event.type === 'reaction_added', eventTs: String(sent.event_ts),
        });
      }
      const body = {
        token: 'legacy-verification-token',
        team_id: TEAM_ID,
        api_app_id: 'A0TEST',
        event: sent,
        type: 'event_callback',
        event_id: o.eventId ?? fresh('Ev'),
        event_time: Math.floor(Date.now() / 1000),
        authorizations: [{ team_id: TEAM_ID, user_id: BOT_USER_ID, is_bot: true, is_enterprise_install: false }],
      };
      return send(JSON.stringify(body), 'application/json', o);
    },
    action(a) {
      const triggerId = a.triggerId ?? fresh('trg');
      const channel = a.channel ?? OPS_CHANNEL;
      const messageTs = a.messageTs ?? '1700000000.000100';
      return sendPayload(
        {
          type: 'block_actions',
          user: { id: a.user ?? USERS.reader, username: 'someone', team_id: TEAM_ID },
          api_app_id: 'A0TEST',
          token: 'legacy-verification-token',
          container: { type: 'message', message_ts: messageTs, channel_id: channel, is_ephemeral: false },
          trigger_id: triggerId,
          team: { id: TEAM_ID, domain: 'test' },
          channel: { id: channel, name: 'ops' },
          message: { type: 'message', ts: messageTs, text: '', ...(a.threadTs ? { thread_ts: a.threadTs } : {}) },
          response_url: responseUrl(triggerId),
          actions: [
            {
              action_id: a.actionId,
              block_id: a.blockId ?? 'block',
              type: 'button',
              ...(a.value !== undefined ? { value: a.value } : {}),
              action_ts: `${Math.floor(Date.now() / 1000)}.000300`,
            },
          ],
          ...a.extra,
        },
        a,
      );
    },
    viewSubmission(v) {
      return sendPayload(
        {
          type: 'view_submission',
          team: { id: TEAM_ID, domain: 'test' },
          user: { id: v.user ?? USERS.reader, username: 'someone', team_id: TEAM_ID },
          api_app_id: 'A0TEST',
          token: 'legacy-verification-token',
          trigger_id: v.triggerId ?? fresh('trg'),
          view: {
            id: fresh('V'),
            team_id: TEAM_ID,
            type: 'modal',
            callback_id: v.callbackId,
            private_metadata: v.privateMetadata ?? '',
            hash: fresh('h'),
            state: { values: v.values ?? {} },
            blocks: [],
          },
        },
        v,
      );
    },
    idle: () => slack!.idle(),
    responses: () => fake.calls.filter((c) => c.method.includes('respond/') && !c.refused).map((c) => c.body),
    outgoing: () =>
      fake.calls.filter((c) => (c.method.includes('respond/') && !c.refused) || c.method.startsWith('chat.') || c.method === 'views.publish'),
    commandLog: () => bot.ctx.db.select().from(commandLog).orderBy(commandLog.id),
    logs: () => lines,
    async close() {
      try {
        await bot.stop();
      } finally {
        await fake.close();
        if (ownsDatabase) await database.close();
      }
    },
  };
}

/** A signature for arbitrary bytes (for tests that build their own requests). */
export { slackSignature };
