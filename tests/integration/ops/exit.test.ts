// /exit and `ctb exit`: an operator closes one open trade (or all) through the engine's own order
// path. The engine runs in its own context (the worker) beside the request runner; Slack and the CLI
// are other processes on the same database that hand the exit over as an engine request.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { runCli } from '../../../src/cli/program.js';
import { systemClock } from '../../../src/clock.js';
import { execute } from '../../../src/db/client.js';
import { alertEvents, engineRequests, orderIntents, trades } from '../../../src/db/schema/index.js';
import { updateBotState } from '../../../src/services/bot-state.js';
import { waitForEngineRequest } from '../../../src/services/engine-requests/store.js';
import { startRequestRunner } from '../../../src/services/engine-requests/runner.js';
import { EXIT_WAIT_FOR_ENGINE_MS, exitRequestParams, exitTradeHandler } from '../../../src/engine/exit-request.js';
import { setRunningEngine } from '../../../src/engine/manual-exit.js';
import { EXIT_SHOWN_GRACE_MS, tellUnshownExits } from '../../../src/services/exits/tell-exit.js';
import { recordingIo } from '../../support/cli-io.js';
import { insertTrades, openTrade } from '../../support/factories/ledger.js';
import { createPostgresTestDb, emptyTablesSql, type TestDatabase } from '../../support/db.js';
import { roundTripCloses } from '../../support/engine.js';
import { startIdleEngine, type IdleEngine } from '../../support/idle-engine.js';
import { BOT_TOKEN, OPS_CHANNEL, SIGNING_SECRET, startSlackHarness, USERS, type SlackHarness } from '../../support/slack-harness.js';
import { startBotProcess, waitUntil, type BotProcess } from '../../support/bot-process.js';
import { signedHeaders } from '../../support/slack-signing.js';
import { freePort } from '../../support/free-port.js';

const CTB = fileURLToPath(new URL('../../../bin/ctb.js', import.meta.url));
let database: TestDatabase;
let h: SlackHarness;
let worker: IdleEngine | undefined;
const webs: BotProcess[] = [];

beforeAll(async () => {
  database = await createPostgresTestDb();
  h = await startSlackHarness({ database });
}, 120_000);
afterAll(async () => {
  await h?.close();
  await database?.close();
});
beforeEach(async () => {
  await execute(database.db, sql.raw(emptyTablesSql(['order_intents', 'fills', 'trades', 'equity_snapshots', 'paper_balances', 'paper_orders', 'risk_events', 'bot_state', 'engine_requests', 'engine_lease', 'alert_events'])));
  h.fake.calls.length = 0;
});
afterEach(async () => {
  for (const web of webs.splice(0)) {
    web.kill('SIGKILL');
    await web.exited;
  }
  await worker?.stop();
  worker = undefined;
});

/**
 * How long the engine's process leaves an answer nobody showed to its requester before telling it:
 * shorter than the shipped EXIT_SHOWN_GRACE_MS (5 s), for the cases that wait for it to be told.
 */
const SHOWN_GRACE_MS = 2_000;
/**
 * The grace in the cases where a requester shows the answer and the engine's process must not tell it,
 * or fails to show it and must not mark it shown: room for a requester slowed by a loaded machine. They
 * do not wait it out: once the requester is done, the answer is aged past it on the database's clock
 * and swept (`sweptPastTheGrace`).
 */
const ROOMY_GRACE_MS = 20_000;
/**
 * The grace in the cases whose requester is gone before the answer (it exited, or was killed): nothing
 * can show the answer, so the grace only delays the telling they wait for. They do not wait it out.
 */
const GONE_REQUESTER_GRACE_MS = 200;

/** A worker whose engine opened one position on the V's cross up and now idles. */
async function workerWithOpenTrade(env: Record<string, string> = {}, opts: { exitShownGraceMs?: number } = {}): Promise<number> {
  worker = await startIdleEngine(database, roundTripCloses().slice(0, 24), { env, exitShownGraceMs: opts.exitShownGraceMs ?? SHOWN_GRACE_MS });
  await worker.settled();
  const open = await database.db.select().from(trades);
  expect(open).toHaveLength(1);
  return open[0]!.id;
}

/** A running engine as the lease shows it (heartbeat now), armed for live (IS_LIVE=true) or not. */
async function engineHolding(armed: boolean): Promise<void> {
  await execute(database.db, sql`insert into engine_lease (holder_id, host, pid, role, feed, armed, has_kraken_keys, acquired_at, heartbeat_at)
    values ('worker-1:7:abc', 'worker-1', 7, 'worker', 'kraken', ${armed}, ${armed}, now(), now())`);
}

/**
 * What the engine's process tells of request `id` once its grace is long past, and any hold of its
 * requester's lapsed: its answer noticed, and its telling claimed, an hour earlier on the database's
 * clock; then swept once (its periodic sweep stopped first, so that one sweep is all that runs).
 * `holdsLapse: false` ages the answer alone: a hold its requester kept (instead of giving it back) still
 * stops that sweep.
 */
async function sweptPastTheGrace(id: number, opts: { holdsLapse?: boolean } = {}): Promise<number> {
  await worker!.stopSweep();
  if (opts.holdsLapse === false) await execute(database.db, sql`update engine_requests set answer_noticed_at = now() - interval '1 hour' where id = ${id}`);
  else await execute(database.db, sql`update engine_requests set answer_noticed_at = now() - interval '1 hour', outcome_claimed_at = outcome_claimed_at - interval '1 hour' where id = ${id}`);
  return worker!.sweepExits();
}

/** Request `id` as if it had been written `ago` earlier, on the database's clock (its TTL runs from there). */
async function writtenAgo(id: number, ago: string): Promise<void> {
  await execute(database.db, sql`update engine_requests set params = params || jsonb_build_object('writtenAt', to_char((now() - ${ago}::interval) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) where id = ${id}`);
}

/** What the running engine's process told the alert channel about exits. */
const exitAlerts = () => worker!.t.alerts.raised.filter((a) => String(a.fingerprint).startsWith('exit_request:'));
/** Waits up to `ms` for the engine's process to tell the alert channel about an exit (its sweep runs every 200 ms). */
async function exitAlertsWithin(ms: number) {
  for (const until = Date.now() + ms; Date.now() < until && exitAlerts().length === 0;) await new Promise((r) => setTimeout(r, 20));
  return exitAlerts();
}
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A pending exit's "queued N ago; expires in M" (exitQueuedPhrase) in `text`: N no more than the time
 * since `since` (when the test asked, whatever the machine's load made of the wait), and N and M
 * together EXIT_REQUEST_TTL (10m; each is rounded down to the second). Returns N in seconds.
 */
function expectQueuedWithin(text: string, since: number): number {
  const m = /queued (?:(\d+)m )?(\d+)s ago; expires in (?:(\d+)m)? ?(?:(\d+)s)? \(EXIT_REQUEST_TTL 10m\)/.exec(text);
  expect(m, text).not.toBeNull();
  const age = Number(m![1] ?? 0) * 60 + Number(m![2]);
  const left = Number(m![3] ?? 0) * 60 + Number(m![4] ?? 0);
  expect(age).toBeLessThanOrEqual(Math.ceil((Date.now() - since) / 1000));
  expect(age + left).toBeGreaterThanOrEqual(599);
  expect(age + left).toBeLessThanOrEqual(600);
  return age;
}
/** How long the button waits for the engine's answer in the tests that wait it out (it ships waiting 60 s). */
const BUTTON_WAIT_SECONDS = 1;


/** `ctb start --role web` (Slack over HTTP, no engine) on the test database, talking to the fake Slack. */
async function webReplica(): Promise<{ bot: BotProcess; url: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'exits-web-'));
  const port = await freePort();
  const bot = startBotProcess(['start', '--role', 'web'], {
    PATH: process.env.PATH ?? '', HOME: dir, DATABASE_URL: database.url, MARKET_FEED: 'replay', PORT: String(port), HOST: '127.0.0.1',
    DATA_DIR: join(dir, 'data'), LOG_DIR: join(dir, 'logs'), LOG_LEVEL: 'warn',
    SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: h.fake.url, SLACK_OPERATORS: USERS.operator, SLACK_OPS_CHANNEL: OPS_CHANNEL,
  }, dir);
  webs.push(bot);
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(async () => (await fetch(`${url}/healthz`).then((r) => r.status).catch(() => 0)) > 0, 60_000, () => bot.output().slice(-3000));
  return { bot, url };
}

/** Spawns `ctb exit <id> --yes --wait <wait>` as the operator's shell and SIGKILLs it once its request is written. */
async function killedWhilePending(id: number, wait: string): Promise<void> {
  const child = spawn(process.execPath, [CTB, 'exit', String(id), '--yes', '--wait', wait], {
    env: { ...process.env, DATABASE_URL: database.url, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'ignore'],
  });
  const died = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  for (let i = 0; i < 1500 && (await database.db.select().from(engineRequests)).length === 0; i++) await pause(20);
  child.kill('SIGKILL');
  expect(await died).toBe('SIGKILL');
}

const exitIntents = async () => (await database.db.select().from(orderIntents)).filter((i) => i.purpose === 'exit');
const lastReply = () => h.responses().at(-1)!;
const posts = () => h.fake.callsTo('chat.postMessage');
const updates = () => h.fake.callsTo('chat.update');

async function cli(...argv: string[]) {
  return cliWith({}, ...argv);
}

async function cliWith(env: Record<string, string>, ...argv: string[]) {
  const io = recordingIo({ DATABASE_URL: database.url, ...env });
  const code = await runCli(argv, io);
  return { code, out: io.out(), err: io.err() };
}

describe('/exit in Slack', () => {
  it('shows what it would sell behind a confirm button; the click exits through the engine and the channel sees pending → done', async () => {
    const id = await workerWithOpenTrade();
    await h.slash('/exit', `${id} spread widening`, { user: USERS.operator });
    await h.idle();
    const preview = lastReply();
    expect(preview.response_type).toBe('ephemeral');
    expect(String(preview.text)).toMatch(new RegExp(`Exit trade #${id}\\? Confirm with the button: nothing is sent until then`));
    const button = (preview.blocks as Array<{ type: string; elements?: Array<Record<string, any>> }>).find((b) => b.type === 'actions')!.elements![0]!;
    expect(button).toMatchObject({ action_id: 'exit_trade_confirm', style: 'danger', confirm: { title: { text: `Exit trade #${id}?` } } });
    expect(await exitIntents()).toEqual([]);
    expect(await database.db.select().from(engineRequests)).toEqual([]);

    const confirmedAt = Date.now();
    await h.action({ actionId: 'exit_trade_confirm', value: button.value, user: USERS.operator });
    await h.idle();
    expect(String(posts().at(-1)!.body.text)).toMatch(new RegExp(`Exit of trade #${id} \\(request #1\\): pending`));
    // Pending shows how long it has waited and when it expires.
    expect(JSON.stringify(posts().at(-1)!.body.blocks)).toMatch(/Still queued: queued \d+s ago; expires in [^(]+ \(EXIT_REQUEST_TTL 10m\) unless an engine carries it out first, and then nothing is sold\./);
    expectQueuedWithin(JSON.stringify(posts().at(-1)!.body.blocks), confirmedAt);
    expect(String(updates().at(-1)!.body.text)).toMatch(new RegExp(`Exit of trade #${id} \\(request #1\\): done — #${id} closed: sold 0\\.0\\d+ BTC/USD at \\d+`));

    const [trade] = await database.db.select().from(trades);
    expect(trade).toMatchObject({ id, status: 'closed' });
    // The engine's own order path: an exit intent with a client order id, filled, in the ledger.
    expect(await exitIntents()).toEqual([expect.objectContaining({ tradeId: id, status: 'filled', clientOrderId: expect.stringMatching(/^[0-9a-f-]{36}$/) })]);
    expect(await database.db.select().from(engineRequests)).toEqual([expect.objectContaining({ kind: 'exit_trade', status: 'done', requestedBy: USERS.operator, params: { target: id, reason: 'spread widening', mode: 'paper', waitMs: 60_000, writtenAt: expect.any(String) } })]);
    expect(worker!.engine.openTradeIds()).toEqual([]);
    // The button's wait read the answer itself, and its message shows it: the alert channel is not told it too.
    expect((await database.db.select().from(engineRequests))[0]).toMatchObject({ answerShownAt: expect.any(Date) });
    expect(exitAlerts()).toEqual([]);
  });

  it('the confirm asks for the trades its preview listed: a trade opened after the preview is not in the request', async () => {
    const id = await workerWithOpenTrade();
    await h.slash('/exit', 'all', { user: USERS.operator });
    await h.idle();
    const button = (lastReply().blocks as Array<{ type: string; elements?: Array<Record<string, any>> }>).find((b) => b.type === 'actions')!.elements![0]!;
    expect(JSON.parse(button.value)).toEqual({ t: 'all', m: 'paper', i: [id] });
    await worker!.runner.stop();
    await insertTrades(database.db, [openTrade({ quantity: '0.001', entryPrice: '100', entryIntentId: 9004 })]);
    await h.action({ actionId: 'exit_trade_confirm', value: button.value, user: USERS.operator });
    for (let i = 0; i < 500 && posts().length < 1; i++) await new Promise((r) => setTimeout(r, 20));
    expect((await database.db.select().from(engineRequests)).map((r) => r.params)).toEqual([{ target: 'all', mode: 'paper', tradeIds: [id], waitMs: 60_000, writtenAt: expect.any(String) }]);
    worker!.restartRunner();
    await h.idle();
  });

  it('a confirm whose preview listed another book than the bot trades now is refused at the click, and nothing is asked', async () => {
    await workerWithOpenTrade();
    await h.slash('/exit', 'all', { user: USERS.operator });
    await h.idle();
    const button = (lastReply().blocks as Array<{ type: string; elements?: Array<Record<string, any>> }>).find((b) => b.type === 'actions')!.elements![0]!;
    await updateBotState(database.db, systemClock, { mode: 'live' });
    await engineHolding(true);
    await h.action({ actionId: 'exit_trade_confirm', value: button.value, user: USERS.operator });
    await h.idle();
    expect(String(lastReply().text)).toContain('The exit you confirmed listed the paper book, but the bot trades live now: nothing was sent.');
    expect(await database.db.select().from(engineRequests)).toEqual([]);
  });

  it('refuses a reader at the slash command and at the button, and sends nothing', async () => {
    const id = await workerWithOpenTrade();
    await h.slash('/exit', String(id), { user: USERS.reader });
    await h.idle();
    expect(String(lastReply().text)).toMatch(/not allowed to run `\/exit <trade-id\|all> \[reason\]`/);
    await h.action({ actionId: 'exit_trade_confirm', value: JSON.stringify({ t: id }), user: USERS.reader });
    await h.idle();
    expect(String(lastReply().text)).toMatch(/You are not allowed to run exit: it needs the operator role/);
    expect(await database.db.select().from(engineRequests)).toEqual([]);
    expect(await exitIntents()).toEqual([]);
  });

  it('answers an unknown trade id, bad text and a closed trade with what is wrong', async () => {
    await h.slash('/exit', '4242', { user: USERS.operator });
    await h.idle();
    // Slack's words in Slack: the terminal's (`ctb trades`) are the CLI's own.
    expect(String(lastReply().text)).toMatch(/There is no trade #4242\. \/trades lists the open ones\./);
    expect(String(lastReply().text)).not.toContain('ctb trades');
    await h.slash('/exit', 'the-big-one', { user: USERS.operator });
    await h.idle();
    expect(JSON.stringify(lastReply().blocks)).toMatch(/Expected a trade id such as 12 \(see \/trades or ctb trades\) or \\"all\\", got \\"the-big-one\\"/);
    await h.slash('/exit', '', { user: USERS.operator });
    await h.idle();
    expect(JSON.stringify(lastReply().blocks)).toContain('`/exit` needs a trade id');
    expect(await database.db.select().from(engineRequests)).toEqual([]);
  });

  it('refuses while halted, naming the halt, at the command and in the engine', async () => {
    const id = await workerWithOpenTrade();
    await updateBotState(database.db, worker!.t.clock, { halted: true, haltedReason: 'fills look wrong', haltedBy: USERS.operator });
    await h.slash('/exit', String(id), { user: USERS.operator });
    await h.idle();
    expect(String(lastReply().text)).toMatch(/Trading is halted \(fills look wrong, by UOPERATOR1\): no order can be sent, exits included/);
    // A confirm clicked before the halt is refused the same way, and nothing reaches the engine.
    await h.action({ actionId: 'exit_trade_confirm', value: JSON.stringify({ t: id }), user: USERS.operator });
    await h.idle();
    expect(String(lastReply().text)).toMatch(/Trading is halted/);
    expect(await database.db.select().from(engineRequests)).toEqual([]);
    expect(await exitIntents()).toEqual([]);
  });

  it('an exit answered after the Slack process that posted its pending message died: the message is updated with the answer, once, and the alert channel is not told', async () => {
    // Every process has the Slack token (one environment): the engine's worker too.
    const id = await workerWithOpenTrade({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: h.fake.url });
    await worker!.runner.stop();
    // The web replica that takes the click is another process, killed (SIGKILL) while its button waits for the answer.
    const web = await webReplica();
    const click = new URLSearchParams({ payload: JSON.stringify({
      type: 'block_actions', user: { id: USERS.operator, username: 'op', team_id: 'T0TEST' }, api_app_id: 'A0TEST', token: 'legacy', trigger_id: 'trgWEB1',
      team: { id: 'T0TEST', domain: 'test' }, channel: { id: OPS_CHANNEL, name: 'ops' },
      container: { type: 'message', message_ts: '1700000000.000100', channel_id: OPS_CHANNEL, is_ephemeral: false },
      message: { type: 'message', ts: '1700000000.000100', text: '' }, response_url: `${h.fake.url.replace(/\/api\/$/, '')}/respond/trgWEB1`,
      actions: [{ action_id: 'exit_trade_confirm', block_id: 'exit_confirm', type: 'button', value: JSON.stringify({ t: id, m: 'paper' }), action_ts: '1700000000.000300' }],
    }) }).toString();
    // Answered 503 until its Slack app has started (gated-receiver.ts): nothing is handled before that.
    let status = 0;
    await waitUntil(async () => {
      status = (await fetch(`${web.url}/slack/events`, { method: 'POST', body: click, headers: { 'content-type': 'application/x-www-form-urlencoded', ...signedHeaders(SIGNING_SECRET, click) } })).status;
      return status !== 503;
    }, 60_000, () => web.bot.output().slice(-3000));
    expect(status).toBe(200);
    await waitUntil(async () => ((await database.db.select().from(engineRequests))[0]?.replyMessages ?? []).length > 0, 30_000, () => web.bot.output().slice(-3000));
    const pending = posts().find((p) => /request #1\): pending/.test(String(p.body.text)))!;
    const [asked] = await database.db.select().from(engineRequests);
    expect(asked!.replyMessages).toEqual([{ channel: OPS_CHANNEL, ts: expect.any(String) }]);
    const ts = asked!.replyMessages![0]!.ts;
    expect(pending).toBeDefined();
    web.bot.kill('SIGKILL');
    await web.bot.exited;

    worker!.restartRunner();
    expect(await waitForEngineRequest(database.db, 1, { timeoutMs: 10_000 })).toMatchObject({ status: 'done' });
    const ofMessage = () => updates().filter((u) => u.body.ts === ts);
    await waitUntil(() => ofMessage().length > 0, 15_000, () => 'the exit message to be updated');
    expect(String(ofMessage()[0]!.body.text)).toMatch(new RegExp(`Exit of trade #${id} \\(request #1\\): done — #${id} closed: sold`));
    expect(ofMessage()[0]!.body.channel).toBe(OPS_CHANNEL);
    // Claimed once: the message is updated before the telling is marked (it commits after); once it is,
    // and with what the engine's process had under way finished (its runner's follow-up, its sweep),
    // neither it nor another replica sweeping tells anything more.
    await waitUntil(async () => (await database.db.select().from(engineRequests))[0]?.outcomeToldAt != null, 20_000, () => 'the exit to be marked told');
    await worker!.runner.stop();
    await worker!.stopSweep();
    expect(await tellUnshownExits(h.ctx)).toBe(0);
    expect(await worker!.sweepExits()).toBe(0);
    expect(ofMessage()).toHaveLength(1);
    expect(exitAlerts()).toEqual([]);
    expect((await database.db.select().from(engineRequests))[0]).toMatchObject({ answerShownAt: expect.any(Date), outcomeToldAt: expect.any(Date) });
  }, 90_000);

  // The exit button waits its minute on for the engine's answer (SLACK_WAITS). These two wait out the
  // whole wait, so they click a Slack app of their own whose button waits BUTTON_WAIT_SECONDS: the
  // same steps in seconds. `h` is that app while they run (the helpers above read it).
  describe('with the button waiting seconds, not its minute', () => {
    let minute: SlackHarness;
    beforeAll(async () => {
      minute = h;
      h = await startSlackHarness({ database, waits: { exitAnswerSeconds: BUTTON_WAIT_SECONDS } });
    }, 120_000);
    afterAll(async () => {
      await h.close();
      h = minute;
    });

    it("the button's late pending update cannot leave the message pending: an answer the sweep showed meanwhile is shown again after it", async () => {
      const id = await workerWithOpenTrade({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: h.fake.url });
      await worker!.runner.stop();
      // Slack applies each update when it answers it; the button's pending one is held until the sweep's answer was applied.
      const applied: Array<{ ts: string; text: string }> = [];
      let holding = false;
      let release: () => void = () => {};
      const released = new Promise<void>((r) => (release = r));
      h.fake.on('chat.update', async (body) => {
        const text = String(body.text);
        if (/\): pending/.test(text) && !holding) {
          holding = true;
          await released;
        }
        applied.push({ ts: String(body.ts), text });
        return { body: { ok: true, channel: body.channel, ts: body.ts } };
      });
      try {
        await h.action({ actionId: 'exit_trade_confirm', value: JSON.stringify({ t: id, m: 'paper' }), user: USERS.operator });
        await waitUntil(() => holding, 30_000, () => 'the button to update its message as still pending');
        worker!.restartRunner();
        expect(await waitForEngineRequest(database.db, 1, { timeoutMs: 10_000 })).toMatchObject({ status: 'done' });
        await waitUntil(() => applied.some((u) => /\(request #1\): done/.test(u.text)), 30_000, () => 'the sweep to show the answer');
        release();
        await h.idle();
        const [request] = await database.db.select().from(engineRequests);
        // The button's own wait, recorded for whoever tells the answer after it: this app's, not the minute.
        expect(request!.params['waitMs']).toBe(BUTTON_WAIT_SECONDS * 1000);
        const ts = (request!.replyMessages ?? [])[0]!.ts;
        const ofMessage = applied.filter((u) => u.ts === ts);
        expect(ofMessage.map((u) => /\): (\w+)/.exec(u.text)?.[1])).toEqual(['done', 'pending', 'done']);
        expect(exitAlerts()).toEqual([]);
      } finally {
        release();
        h.fake.on('chat.update', (body) => ({ body: { ok: true, channel: body.channel ?? 'C0FAKE', ts: String(body.ts), message: { text: body.text } } }));
      }
    }, 60_000);

    it('a button message nothing will update says the alert channel is told, not that it is updated: posted through response_url, or not recorded on its request', async () => {
      await insertTrades(database.db, [openTrade({ quantity: '0.001', entryIntentId: 9201 }), openTrade({ quantity: '0.002', entryIntentId: 9202 }), openTrade({ quantity: '0.003', entryIntentId: 9203 })]);
      const [viaUrl, unrecorded, recorded] = (await database.db.select().from(trades).orderBy(trades.id)).map((t) => t.id);
      // No engine takes them: each button waits out its wait and ends pending.
      // A click that names no channel: its messages go through response_url, which nothing records.
      await h.action({ actionId: 'exit_trade_confirm', value: JSON.stringify({ t: viaUrl, m: 'paper' }), user: USERS.operator, extra: { channel: undefined } });
      await waitUntil(async () => (await database.db.select().from(engineRequests)).length === 1, 30_000, () => 'the first exit to be asked');
      // The next message's record on its request fails.
      await execute(database.db, sql.raw(`create function exits_refuse_reply() returns trigger language plpgsql as $$ begin
        if new.reply_messages is distinct from old.reply_messages and (new.params ->> 'target')::bigint = ${unrecorded} then raise exception 'reply not recorded'; end if; return new; end $$;
        create trigger exits_refuse_reply before update on engine_requests for each row execute function exits_refuse_reply()`));
      try {
        await h.action({ actionId: 'exit_trade_confirm', value: JSON.stringify({ t: unrecorded, m: 'paper' }), user: USERS.operator });
        await h.action({ actionId: 'exit_trade_confirm', value: JSON.stringify({ t: recorded, m: 'paper' }), user: USERS.operator });
        await h.idle();
      } finally {
        await execute(database.db, sql.raw('drop trigger if exists exits_refuse_reply on engine_requests; drop function if exists exits_refuse_reply()'));
      }
      const requestOf = async (trade: number) => (await database.db.select().from(engineRequests)).find((r) => r.params['target'] === trade)!;
      const [a, b, c] = [await requestOf(viaUrl!), await requestOf(unrecorded!), await requestOf(recorded!)];
      expect([a.status, b.status, c.status]).toEqual(['pending', 'pending', 'pending']);
      expect([a, b, c].map((r) => r.params['waitMs'])).toEqual([BUTTON_WAIT_SECONDS * 1000, BUTTON_WAIT_SECONDS * 1000, BUTTON_WAIT_SECONDS * 1000]);
      expect([a.replyMessages ?? [], b.replyMessages ?? [], (c.replyMessages ?? []).length]).toEqual([[], [], 1]);
      const lastOf = (id: number, sent: Array<{ body: Record<string, unknown> }>) => JSON.stringify(sent.filter((m) => String(m.body['text']).includes(`(request #${id}): pending`)).at(-1)?.body['blocks']);
      const told = 'The alert channel is told how it ends (this message is not updated).';
      const updated = 'This message is updated with how it ends';
      const viaUrlLast = lastOf(a.id, h.responses().map((body) => ({ body })));
      expect(viaUrlLast).toContain(told);
      expect(viaUrlLast).not.toContain(updated);
      expect(lastOf(b.id, updates())).toContain(told);
      expect(lastOf(b.id, updates())).not.toContain(updated);
      expect(lastOf(c.id, updates())).toContain(updated);
    }, 60_000);

  });

  it('an answer the button is still showing when the grace is over is not told again: a sweep leaves it to the button, however slow Slack is', async () => {
    // The engine's worker can update Slack too (one environment): it would update the message itself.
    const id = await workerWithOpenTrade({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: h.fake.url });
    let holding = false;
    let release: () => void = () => {};
    const released = new Promise<void>((r) => (release = r));
    h.fake.on('chat.update', async (body) => {
      if (/\(request #1\): done/.test(String(body.text)) && !holding) {
        holding = true;
        await released;
      }
      return { body: { ok: true, channel: body.channel, ts: body.ts } };
    });
    try {
      await h.action({ actionId: 'exit_trade_confirm', value: JSON.stringify({ t: id, m: 'paper' }), user: USERS.operator });
      await waitUntil(() => holding, 60_000, () => 'the button to update its message with the answer');
      // Slack takes longer than the grace: on the database's clock, the answer was noticed well before it.
      await execute(database.db, sql`update engine_requests set answer_noticed_at = now() - ${EXIT_SHOWN_GRACE_MS * 3} * interval '1 millisecond' where id = 1`);
      expect(await tellUnshownExits(h.ctx)).toBe(0);
      release();
      await h.idle();
    } finally {
      release();
      h.fake.on('chat.update', (body) => ({ body: { ok: true, channel: body.channel ?? 'C0FAKE', ts: String(body.ts), message: { text: body.text } } }));
    }
    expect(updates().filter((u) => /\(request #1\): done/.test(String(u.body.text)))).toHaveLength(1);
    expect((await database.db.select().from(engineRequests))[0]).toMatchObject({ answerShownAt: expect.any(Date), outcomeToldAt: null });
    expect(await tellUnshownExits(h.ctx)).toBe(0);
    expect(exitAlerts()).toEqual([]);
  }, 120_000);

  it('applies a retried click once, and a second click joins the exit still pending', async () => {
    const id = await workerWithOpenTrade();
    await worker!.runner.stop(); // the engine's process is slow to take it: the request stays pending
    const value = JSON.stringify({ t: id });
    await h.action({ actionId: 'exit_trade_confirm', value, user: USERS.operator, triggerId: 'trgEXIT1' });
    await h.action({ actionId: 'exit_trade_confirm', value, user: USERS.operator, triggerId: 'trgEXIT1', retryNum: 1, retryReason: 'http_timeout' });
    await h.action({ actionId: 'exit_trade_confirm', value, user: USERS.operator });
    // Both handlers now wait on the pending request (h.idle() would wait with them): wait for their posts.
    for (let i = 0; i < 500 && posts().length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    const requests = await database.db.select().from(engineRequests);
    expect(requests).toEqual([expect.objectContaining({ status: 'pending' })]);
    expect(posts().map((p) => String(p.body.text))).toEqual([
      expect.stringMatching(/request #1\): pending/),
      expect.stringMatching(/request #1\): pending/),
    ]);
    expect(posts().filter((p) => JSON.stringify(p.body.blocks).includes('already pending'))).toHaveLength(1);
    // The engine's process takes it now: one exit, one sale.
    worker!.restartRunner();
    await h.idle();
    expect(await exitIntents()).toHaveLength(1);
    expect((await database.db.select().from(trades))[0]!.status).toBe('closed');
  });
});

describe('ctb exit', () => {
  it('without --yes shows what it would sell and sends nothing; with --yes the engine exits it', async () => {
    const id = await workerWithOpenTrade();
    const dry = await cli('exit', String(id));
    // A preview did what was asked: exit 0 (README: 1 is a failed check or work that could not be done).
    expect(dry.code).toBe(0);
    expect(dry.out).toMatch(new RegExp(`Would sell at market:\\n  #${id} paper BTC/USD 0\\.0\\d+ \\(entry [\\d,]+\\.\\d{2}, test-ma\\)\\nNothing was sent\\. Re-run with --yes to exit trade #${id}\\.`));
    expect(await database.db.select().from(engineRequests)).toEqual([]);

    const done = await cli('exit', String(id), '--yes', '--reason', 'manual close');
    expect(done.code).toBe(0);
    expect(done.out).toMatch(new RegExp(`Exit of trade #${id} \\(request #1\\): DONE\\n  #${id} closed: sold`));
    expect((await database.db.select().from(trades))[0]!.status).toBe('closed');
    // The requester saw the answer: the alert channel is not told.
    expect(worker!.t.alerts.raised.filter((a) => String(a.fingerprint).startsWith('exit_request:'))).toEqual([]);

    const again = await cli('exit', String(id), '--yes');
    expect(again.code).toBe(1);
    expect(again.err).toMatch(new RegExp(`Trade #${id} is already closed`));
  });

  it('exits all open trades; with none open says so', async () => {
    await workerWithOpenTrade();
    const all = await cli('exit', 'all', '--yes', '--json');
    expect(all.err).toBe('');
    expect(all.code).toBe(0);
    expect(JSON.parse(all.out)).toMatchObject({ target: 'all', status: 'done', request: { results: [expect.objectContaining({ ok: true, status: 'closed' })] } });
    expect((await cli('exit', 'all', '--yes')).out).toBe('No open trades: nothing to exit.\n');
  });

  it('shows the request pending while no engine takes it, and done once one does', async () => {
    const id = await workerWithOpenTrade();
    await worker!.runner.stop();
    const pending = await cli('exit', String(id), '--yes', '--wait', '1');
    expect(pending.code).toBe(1);
    expect(pending.out).toMatch(new RegExp(`Exit of trade #${id} requested \\(request #1\\): PENDING — no engine has answered yet`));
    expect((await database.db.select().from(trades))[0]!.status).toBe('open');
    worker!.restartRunner();
    const done = await waitForEngineRequest(database.db, 1, { timeoutMs: 10_000 });
    expect(done).toMatchObject({ status: 'done', result: { summary: expect.stringMatching(new RegExp(`^#${id} closed: sold`)) } });
    expect((await database.db.select().from(trades))[0]!.status).toBe('closed');
  });

  it('an exit no engine took within EXIT_REQUEST_TTL is never carried out: the engine that starts later sells nothing and the alert channel is told', async () => {
    const id = await workerWithOpenTrade();
    await worker!.runner.stop();
    const askedAt = Date.now();
    const queued = await cli('exit', String(id), '--yes', '--wait', '1');
    expect(queued.code).toBe(1);
    expect(queued.out).toMatch(/PENDING — no engine has answered yet\. Still queued: queued \d+s ago; expires in [^(]+ \(EXIT_REQUEST_TTL 10m\) unless an engine carries it out first, and then nothing is sold\./);
    // It waited its 1 s for an answer before saying so.
    expect(expectQueuedWithin(queued.out, askedAt)).toBeGreaterThanOrEqual(1);
    expect(queued.out).toContain('the alert channel is told how it ends');
    expect((await database.db.select().from(engineRequests))[0]!.params).toMatchObject({ waitMs: 1000 });
    // The engine's process comes back two hours later.
    await writtenAgo(1, '2 hours');
    worker!.restartRunner();
    const expired = await waitForEngineRequest(database.db, 1, { timeoutMs: 10_000 });
    expect(expired).toMatchObject({ status: 'failed', result: { expired: true } });
    expect(String(expired!.result!['summary'])).toMatch(/^Expired: not carried out — it waited 2h( \d+s)? for an engine, longer than EXIT_REQUEST_TTL \(10m\): nothing was sent\. Ask for the exit again/);
    expect(await exitIntents()).toEqual([]);
    expect((await database.db.select().from(trades))[0]!.status).toBe('open');
    // Told by the engine's follow-up for this exit, or else by the sweep within its 200 ms: not in the
    // request's own transaction, so it is waited for as the other tellings are.
    expect(await exitAlertsWithin(10_000)).toEqual([expect.objectContaining({
      source: 'engine', severity: 'warning', fingerprint: 'exit_request:1',
      title: expect.stringMatching(new RegExp(`^Exit of trade #${id} asked by cli:\\S+ \\(confirmed at \\S+\\), request #1: expired: nothing was sold — Expired: not carried out`)),
    })]);
  });

  it('an exit carried out after its requester stopped waiting is told to the alert channel', async () => {
    const id = await workerWithOpenTrade({}, { exitShownGraceMs: GONE_REQUESTER_GRACE_MS });
    await worker!.runner.stop();
    expect((await cli('exit', String(id), '--yes', '--wait', '0')).code).toBe(1);
    worker!.restartRunner();
    expect(await waitForEngineRequest(database.db, 1, { timeoutMs: 10_000 })).toMatchObject({ status: 'done' });
    expect(await exitAlertsWithin(10_000)).toEqual([expect.objectContaining({
      severity: 'info', fingerprint: 'exit_request:1', title: expect.stringMatching(new RegExp(`request #1: carried out — #${id} closed: sold`)),
    })]);
  });

  it('a `ctb exit` killed while pending and answered within its wait: the alert channel is told shortly after the answer, once', async () => {
    const id = await workerWithOpenTrade({}, { exitShownGraceMs: GONE_REQUESTER_GRACE_MS });
    await worker!.runner.stop();
    // A 60-second wait the shell will never finish: it dies at once, and the engine answers well within the wait.
    await killedWhilePending(id, '60');
    worker!.restartRunner();
    expect(await waitForEngineRequest(database.db, 1, { timeoutMs: 10_000 })).toMatchObject({ status: 'done' });
    const answered = Date.now();
    expect(await exitAlertsWithin(15_000)).toEqual([expect.objectContaining({
      severity: 'info', fingerprint: 'exit_request:1', title: expect.stringMatching(new RegExp(`^Exit of trade #${id} asked by cli:\\S+ \\(confirmed at \\S+\\), request #1: carried out — #${id} closed: sold`)),
    })]);
    // Within the grace after the answer, long before the dead shell's minute would have run out.
    expect(Date.now() - answered).toBeLessThan(15_000);
    // The alert is raised inside the transaction that marks the exit told: the mark shows once it commits.
    await waitUntil(async () => (await database.db.select().from(engineRequests))[0]?.outcomeToldAt != null, 20_000, () => 'the exit to be marked told');
    const [row] = await database.db.select().from(engineRequests);
    expect(row).toMatchObject({ answerShownAt: null, outcomeToldAt: expect.any(Date) });
    // Once: with what the engine's process had under way finished, a sweep after the telling tells nothing.
    await worker!.runner.stop();
    await worker!.stopSweep();
    expect(await worker!.sweepExits()).toBe(0);
    expect(exitAlerts()).toHaveLength(1);
  }, 60_000);

  it('a `ctb exit` that printed the answer marks it shown: the alert channel is not told it, after the grace either', async () => {
    const id = await workerWithOpenTrade({}, { exitShownGraceMs: ROOMY_GRACE_MS });
    const done = await cli('exit', String(id), '--yes', '--wait', '5');
    expect(done.out).toMatch(/\(request #1\): DONE/);
    expect((await database.db.select().from(engineRequests))[0]).toMatchObject({ answerShownAt: expect.any(Date), outcomeToldAt: null });
    expect(await sweptPastTheGrace(1)).toBe(0);
    expect(exitAlerts()).toEqual([]);
    expect((await database.db.select().from(engineRequests))[0]).toMatchObject({ outcomeToldAt: null });
  }, 30_000);

  // The next three wait for their requester to end, then sweep once past the grace (sweptPastTheGrace):
  // whatever it marked is there by then, where a short grace could let the sweep tell before a
  // requester that wrongly marks the answer shown got to it; the hold it took while showing is not
  // aged, so one it failed to give back stops the telling.
  it('a `ctb exit` whose answer never reached the terminal does not mark it shown: the alert channel is told it', async () => {
    const id = await workerWithOpenTrade({}, { exitShownGraceMs: ROOMY_GRACE_MS });
    const io = recordingIo({ DATABASE_URL: database.url });
    // The terminal went away before the answer was printed.
    io.stdout = { write: () => { throw new Error('the terminal went away'); } };
    expect(await runCli(['exit', String(id), '--yes', '--wait', '20'], io)).toBe(1);
    expect(io.err()).toContain('the terminal went away');
    expect((await database.db.select().from(engineRequests))[0]).toMatchObject({ status: 'done', answerShownAt: null });
    expect(await sweptPastTheGrace(1, { holdsLapse: false })).toBe(1);
    expect(exitAlerts()).toEqual([expect.objectContaining({
      severity: 'info', fingerprint: 'exit_request:1', title: expect.stringMatching(new RegExp(`request #1: carried out — #${id} closed: sold`)),
    })]);
  }, 60_000);

  it('a `ctb exit` whose stdout pipe closed during its wait (its `| tee`, its ssh session died) does not mark the answer shown: the alert channel is told it', async () => {
    const id = await workerWithOpenTrade({}, { exitShownGraceMs: ROOMY_GRACE_MS });
    await worker!.runner.stop();
    const child = spawn(process.execPath, [CTB, 'exit', String(id), '--yes', '--wait', '60'], {
      env: { ...process.env, DATABASE_URL: database.url, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => (err += String(d)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await waitUntil(async () => (await database.db.select().from(engineRequests)).length === 1, 30_000, () => err);
    // The reader of its stdout goes away while it waits; the engine answers after.
    child.stdout.destroy();
    worker!.restartRunner();
    expect(await exited).toBe(1);
    expect(err).toContain('The answer of exit request #1 could not be printed (write EPIPE): the alert channel is told how it ends.');
    expect((await database.db.select().from(engineRequests))[0]).toMatchObject({ status: 'done', answerShownAt: null });
    expect(await sweptPastTheGrace(1, { holdsLapse: false })).toBe(1);
    expect(exitAlerts()).toEqual([expect.objectContaining({
      severity: 'info', fingerprint: 'exit_request:1', title: expect.stringMatching(new RegExp(`request #1: carried out — #${id} closed: sold`)),
    })]);
  }, 90_000);

  it('a `ctb exit` whose stdout reports the write failed after taking it (EPIPE on its callback) does not mark the answer shown', async () => {
    const id = await workerWithOpenTrade({}, { exitShownGraceMs: ROOMY_GRACE_MS });
    const io = recordingIo({ DATABASE_URL: database.url });
    const stdout = new Writable({ write: (_chunk, _encoding, done) => done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })) });
    stdout.on('error', () => undefined); // as ctb's own stdout (run-main.ts)
    io.stdout = stdout;
    expect(await runCli(['exit', String(id), '--yes', '--wait', '20'], io)).toBe(1);
    expect(io.err()).toContain('could not be printed (write EPIPE): the alert channel is told how it ends.');
    expect((await database.db.select().from(engineRequests))[0]).toMatchObject({ status: 'done', answerShownAt: null });
    expect(await sweptPastTheGrace(1, { holdsLapse: false })).toBe(1);
    expect(exitAlerts()).toEqual([expect.objectContaining({ severity: 'info', fingerprint: 'exit_request:1' })]);
  }, 60_000);

  it('a requester that joins a queued exit extends its wait: the answer it shows is not told to the alert channel too', async () => {
    // The first requester's wait has been over for longer than the grace: without the join's, the answer would be due at once.
    const id = await workerWithOpenTrade({}, { exitShownGraceMs: ROOMY_GRACE_MS });
    await worker!.runner.stop();
    expect((await cli('exit', String(id), '--yes', '--wait', '0')).code).toBe(1);
    // The first requester's wait (none) is long over; a second operator asks the same exit and waits 20 s.
    await writtenAgo(1, '1 minute');
    const joining = cli('exit', String(id), '--yes', '--wait', '20');
    const waitOf = async () => Number((await database.db.select().from(engineRequests))[0]!.params['waitMs']);
    await waitUntil(async () => (await waitOf()) > 0, 10_000, () => 'the join to extend the wait');
    expect(await waitOf()).toBeGreaterThanOrEqual(80_000);
    worker!.restartRunner();
    const joined = await joining;
    expect(joined.out).toMatch(/\(request #1\): DONE/);
    expect(await sweptPastTheGrace(1)).toBe(0);
    expect(exitAlerts()).toEqual([]);
    expect((await database.db.select().from(engineRequests))[0]).toMatchObject({ answerShownAt: expect.any(Date), outcomeToldAt: null });
  }, 40_000);

  it('a `ctb exit --wait` killed while pending leaves its wait in the request: the engine that runs it after that wait tells the alert channel', async () => {
    const id = await workerWithOpenTrade({}, { exitShownGraceMs: GONE_REQUESTER_GRACE_MS });
    await worker!.runner.stop();
    // The operator's shell, another process, dies (SIGKILL: no handler runs) while the exit is pending.
    await killedWhilePending(id, '2');
    const [asked] = await database.db.select().from(engineRequests);
    expect(asked).toMatchObject({ status: 'pending', params: { target: id, mode: 'paper', waitMs: 2000, writtenAt: expect.any(String) } });
    // The engine's process takes it once the dead requester's wait is over on the database's clock:
    // written 3 s earlier there, its 2 s wait is over (nothing shows it now but that clock).
    await writtenAgo(1, '3 seconds');
    const [over] = await execute<{ over: boolean }>(database.db, sql`select now() > (params ->> 'writtenAt')::timestamptz + interval '2 seconds' as over from engine_requests where id = 1`);
    expect(over?.over).toBe(true);
    worker!.restartRunner();
    expect(await waitForEngineRequest(database.db, 1, { timeoutMs: 10_000 })).toMatchObject({ status: 'done' });
    expect(await exitAlertsWithin(10_000)).toEqual([expect.objectContaining({
      severity: 'info', fingerprint: 'exit_request:1', title: expect.stringMatching(new RegExp(`^Exit of trade #${id} asked by cli:\\S+ \\(confirmed at \\S+\\), request #1: carried out — #${id} closed: sold`)),
    })]);
  }, 60_000);

  it('ctb trades and /trades list a queued exit: the trades it closes, who asked, since when and when it expires', async () => {
    const id = await workerWithOpenTrade();
    await worker!.runner.stop();
    const askedAt = Date.now();
    expect((await cli('exit', String(id), '--yes', '--wait', '0')).code).toBe(1);
    const listed = await cli('trades');
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(new RegExp(`Exits queued \\(1\\) — asking again for these trades is refused while they are:\\n  request #1: exit of trade #${id}, asked by cli:\\S+: queued \\d+s ago; expires in [^(]+ \\(EXIT_REQUEST_TTL 10m\\) unless an engine carries it out first`));
    expectQueuedWithin(listed.out, askedAt);
    const json = JSON.parse((await cli('trades', '--json')).out) as { pendingExits: unknown[] };
    expect(json.pendingExits).toEqual([expect.objectContaining({ requestId: 1, target: id, tradeIds: [id], status: 'pending', ttlMs: 600_000, waitedMs: expect.any(Number) })]);
    await h.slash('/trades', '', { user: USERS.reader });
    await h.idle();
    expect(JSON.stringify(lastReply().blocks)).toMatch(new RegExp(`request #1: exit of trade #${id}, asked by \u0060cli:[^\u0060]+\u0060: queued \\d+s ago; expires in`));
    expectQueuedWithin(JSON.stringify(lastReply().blocks), askedAt);
    // Carried out, it is no longer listed.
    worker!.restartRunner();
    expect(await waitForEngineRequest(database.db, 1, { timeoutMs: 10_000 })).toMatchObject({ status: 'done' });
    expect((await cli('trades')).out).not.toContain('Exits queued');
  });

  it('refuses a second exit of a trade another queued exit closes, naming that exit; an identical one still joins it', async () => {
    const id = await workerWithOpenTrade();
    await worker!.runner.stop();
    expect((await cli('exit', 'all', '--yes', '--wait', '0')).code).toBe(1);
    const one = await cli('exit', String(id), '--yes', '--wait', '0');
    expect(one.code).toBe(1);
    expect(one.err).toMatch(new RegExp(`Trade #${id} already has an exit queued \\(request #1, the exit of every listed trade \\(#${id}\\) asked by cli:\\S+\\): nothing new was asked\\. Ask again once it has ended if the trade is still open\\.`));
    expect(one.err).toContain('ctb trades shows the queued exits and when each expires.');
    const same = await cli('exit', 'all', '--yes', '--wait', '0');
    expect(same.out).toMatch(/request #1, already pending/);
    expect(await database.db.select().from(engineRequests)).toHaveLength(1);
    // The other way round: `all` while one of its trades has its own exit queued.
    await execute(database.db, sql`update engine_requests set status = 'failed', finished_at = now() where id = 1`);
    expect((await cli('exit', String(id), '--yes', '--wait', '0')).code).toBe(1);
    const all = await cli('exit', 'all', '--yes', '--wait', '0');
    expect(all.code).toBe(1);
    expect(all.err).toMatch(new RegExp(`Trade #${id} already has an exit queued \\(request #2, the exit of trade #${id} asked by cli:\\S+\\): nothing new was asked\\. Every listed trade has one, so nothing is left to ask`));
    expect((await database.db.select().from(engineRequests).orderBy(engineRequests.id)).map((r) => r.id)).toEqual([1, 2]);
    worker!.restartRunner();
    expect(await waitForEngineRequest(database.db, 2, { timeoutMs: 10_000 })).toMatchObject({ status: 'done' });
    expect(await exitIntents()).toHaveLength(1);
  });

  it('exit all leaves out a trade another queued exit already closes and asks for the rest, naming what it left out and why', async () => {
    await insertTrades(database.db, [openTrade({ quantity: '0.001', entryPrice: '100', entryIntentId: 9101 }), openTrade({ quantity: '0.002', entryPrice: '100', entryIntentId: 9102 })]);
    const [a, b] = (await database.db.select().from(trades).orderBy(trades.id)).map((t) => t.id);
    expect((await cli('exit', String(a), '--yes', '--wait', '0')).code).toBe(1);
    const all = await cli('exit', 'all', '--yes', '--wait', '0');
    expect(all.code).toBe(1);
    expect(all.err).toBe('');
    expect(all.out).toMatch(/\(request #2\): PENDING/);
    expect(all.out).toMatch(new RegExp(`\\nLeft out: trade #${a}, which already has an exit queued \\(request #1, the exit of trade #${a} asked by cli:\\S+\\): not asked again\\.`));
    const rows = await database.db.select().from(engineRequests).orderBy(engineRequests.id);
    expect(rows.map((r) => [r.id, r.params['target'], r.params['tradeIds'] ?? null])).toEqual([[1, a, null], [2, 'all', [b]]]);
    // Asked again, every listed trade has an exit queued: refused, naming both.
    const again = await cli('exit', 'all', '--yes', '--wait', '0');
    expect(again.code).toBe(1);
    expect(again.err).toMatch(new RegExp(`Trades #${a}, #${b} already have an exit queued \\(request #1, the exit of trade #${a} asked by cli:\\S+; request #2, the exit of every listed trade \\(#${b}\\) asked by cli:\\S+\\): nothing new was asked\\. Every listed trade has one`));
    expect(await database.db.select().from(engineRequests)).toHaveLength(2);
    // Once the exit of the rest ended, --json lists as asked only the trade it asks for now, and which it left out.
    await execute(database.db, sql`update engine_requests set status = 'failed', finished_at = now() where id = 2`);
    const json = JSON.parse((await cli('exit', 'all', '--yes', '--wait', '0', '--json')).out) as { trades: Array<{ id: number }>; request: { requestId: number; skippedTradeIds: number[] } };
    expect([json.request.requestId, json.trades.map((t) => t.id), json.request.skippedTradeIds]).toEqual([3, [b], [a]]);
  });

  it('exit all overlapping another queued exit all of hundreds of trades names a few and counts the rest: its request stays one the engine and ctb trades read', async () => {
    const many = 600;
    await insertTrades(database.db, Array.from({ length: many }, (_, i) => openTrade({ quantity: '0.001', entryIntentId: 20_000 + i })));
    expect((await cli('exit', 'all', '--yes', '--wait', '0')).code).toBe(1);
    // One more trade opens; `all` again leaves out the 600 the first exit closes and asks for the new one.
    await insertTrades(database.db, [openTrade({ quantity: '0.001', entryIntentId: 20_000 + many })]);
    const ids = (await database.db.select().from(trades).orderBy(trades.id)).map((t) => t.id);
    const newest = ids.at(-1)!;
    const all = await cli('exit', 'all', '--yes', '--wait', '0');
    expect(all.err).toBe('');
    expect(all.out).toMatch(/\(request #2\): PENDING/);
    const left = `Left out: trades ${ids.slice(0, 10).map((id) => `#${id}`).join(', ')} and ${many - 10} more, which already have an exit queued (request #1, the exit of every listed trade (${ids.slice(0, 10).map((id) => `#${id}`).join(', ')} and ${many - 10} more) asked by cli:`;
    expect(all.out).toContain(left);
    const request = (await database.db.select().from(engineRequests).orderBy(engineRequests.id))[1]!;
    // What the engine reads: the request parses, and asks for the new trade alone.
    const parsed = exitRequestParams.safeParse(request.params);
    expect(parsed.success).toBe(true);
    expect([parsed.data?.tradeIds, parsed.data?.skipped?.tradeIds.length]).toEqual([[newest], many]);
    expect((await cli('trades')).out).toContain(`request #2: exit of every listed trade (#${newest}), asked by cli:`);
  }, 60_000);

  it('EXIT_REQUEST_TTL runs from the writing alone, the same for the engine as for what closes expired exits: a later joinedAt buys no time', async () => {
    const id = await workerWithOpenTrade();
    await worker!.runner.stop();
    expect((await cli('exit', String(id), '--yes', '--wait', '0')).code).toBe(1);
    // Written 11 minutes ago; a join time as a kill's follow-up carries, a minute ago.
    await writtenAgo(1, '11 minutes');
    await execute(database.db, sql`update engine_requests set params = params || jsonb_build_object('joinedAt', to_char((now() - interval '1 minute') at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) where id = 1`);
    worker!.restartRunner();
    const done = await waitForEngineRequest(database.db, 1, { timeoutMs: 10_000 });
    expect(done).toMatchObject({ status: 'failed', result: { expired: true } });
    expect(String(done!.result!['summary'])).toMatch(/^Expired: not carried out — it waited 11m( \d+s)? for an engine/);
    expect(await exitIntents()).toEqual([]);
    expect((await database.db.select().from(trades))[0]!.status).toBe('open');
  });

  it('an identical exit asked again after the first expired unanswered closes the first as expired, tells the alert channel, and queues a new one', async () => {
    await insertTrades(database.db, [openTrade({ quantity: '0.001', entryPrice: '100', entryIntentId: 9005 })]);
    expect((await cli('exit', 'all', '--yes', '--wait', '0')).code).toBe(1);
    await writtenAgo(1, '11 minutes');
    const again = await cli('exit', 'all', '--yes', '--wait', '0');
    expect(again.out).toMatch(/requested \(request #2\): PENDING/);
    expect(again.out).not.toContain('already pending');
    const rows = await database.db.select().from(engineRequests).orderBy(engineRequests.id);
    expect(rows.map((r) => [r.id, r.status, r.error])).toEqual([
      [1, 'failed', 'Expired: not carried out — it waited for an engine longer than EXIT_REQUEST_TTL (10m): nothing was sent. Ask for the exit again if the trade should still be closed.'],
      [2, 'pending', null],
    ]);
    const told = await database.db.select().from(alertEvents);
    expect(told).toEqual([expect.objectContaining({ source: 'engine', severity: 'warning', title: expect.stringContaining('request #1: expired: nothing was sold') })]);
  });

  it('the CLI waits no longer than --wait; an exit that outlives EXIT_REQUEST_TTL in that wait is closed as expired by the CLI, and it exits 1', async () => {
    await insertTrades(database.db, [openTrade({ quantity: '0.001', entryPrice: '100', entryIntentId: 9006 })]);
    const started = Date.now();
    // The shortest wait the CLI takes (1 s: it counts whole seconds), and a TTL well inside it.
    const r = await cliWith({ EXIT_REQUEST_TTL: '300ms' }, 'exit', 'all', '--yes', '--wait', '1');
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(r.code).toBe(1);
    expect(r.out).toContain('(request #1): FAILED\n  Expired: not carried out — it waited for an engine longer than EXIT_REQUEST_TTL (300ms): nothing was sent.');
    expect(await database.db.select().from(engineRequests)).toEqual([expect.objectContaining({ status: 'failed', result: expect.objectContaining({ expired: true }) })]);
  });

  it('while live, sets aside a paper position: no exit of it is requested, and exit all leaves it out, saying which it left out', async () => {
    await insertTrades(database.db, [openTrade({ quantity: '0.0153', entryPrice: '60000' }), openTrade({ mode: 'live', quantity: '0.02', entryPrice: '61000' })]);
    const [paper, live] = await database.db.select().from(trades).orderBy(trades.id);
    await updateBotState(database.db, systemClock, { mode: 'live' });
    await engineHolding(true);
    const one = await cli('exit', String(paper!.id), '--yes', '--wait', '0');
    expect(one.code).toBe(1);
    expect(one.err).toContain(`Trade #${paper!.id} is a paper position, set aside while the bot is live: it is simulated and Kraken holds none of it, so no live order sells it.`);
    expect(one.err).toContain('exit it after going back to paper (ctb mode paper)');
    const all = await cli('exit', 'all');
    expect(all.out).toBe(`Would sell at market:\n  #${live!.id} live BTC/USD 0.02 (entry 61,000.00, ma-cross)\n`
      + `Left out: The bot is live: 1 open paper position set aside, not sold (#${paper!.id} BTC/USD 0.0153): simulated, so Kraken holds none of it; `
      + 'no live order sells them and the live caps and exposure leave them out; they stay open in the paper book. Exit them after going back to paper (ctb mode paper).\n'
      + 'Nothing was sent. Re-run with --yes to exit every open trade.\n');
    await h.slash('/exit', 'all', { user: USERS.operator });
    await h.idle();
    const notes = (lastReply().blocks as Array<{ type: string; elements?: Array<{ text?: string }> }>).filter((b) => b.type === 'context').map((b) => b.elements![0]!.text);
    expect(notes).toContain(`:information_source: Left out: The bot is live: 1 open paper position set aside, not sold (#${paper!.id} BTC/USD 0.0153): simulated, so Kraken holds none of it; `
      + 'no live order sells them and the live caps and exposure leave them out; they stay open in the paper book. Exit them after going back to paper (`/mode paper`).');
    expect(await database.db.select().from(engineRequests)).toEqual([]);
  });

  it('while live with only paper positions open, exit all says they are set aside, naming them, not that no trade is open', async () => {
    await insertTrades(database.db, [openTrade({ quantity: '0.0153', entryPrice: '60000' })]);
    const [paper] = await database.db.select().from(trades);
    await updateBotState(database.db, systemClock, { mode: 'live' });
    await engineHolding(true);
    const said = `No live position open: nothing to exit live. The bot is live: 1 open paper position set aside, not sold (#${paper!.id} BTC/USD 0.0153): `
      + 'simulated, so Kraken holds none of it; no live order sells them and the live caps and exposure leave them out; they stay open in the paper book.';
    const all = await cli('exit', 'all', '--yes');
    expect(all).toMatchObject({ code: 0, out: `${said} Exit them after going back to paper (ctb mode paper).\n` });
    await h.slash('/exit', 'all', { user: USERS.operator });
    await h.idle();
    expect(lastReply().text).toContain(`${said} Exit them after going back to paper (\`/mode paper\`).`);
    expect(await database.db.select().from(engineRequests)).toEqual([]);
  });

  it('with the database asking for live but the running engine not armed (it trades paper), a paper position is exited, not set aside', async () => {
    await insertTrades(database.db, [openTrade({ quantity: '0.0153', entryPrice: '60000' })]);
    const [paper] = await database.db.select().from(trades);
    await updateBotState(database.db, systemClock, { mode: 'live' });
    await engineHolding(false);
    expect((await cli('exit', 'all')).out).toBe(`Would sell at market:\n  #${paper!.id} paper BTC/USD 0.0153 (entry 60,000.00, ma-cross)\nNothing was sent. Re-run with --yes to exit every open trade.\n`);
    const one = await cli('exit', String(paper!.id), '--yes', '--wait', '0');
    expect(one.err).toBe('');
    expect(one.out).toMatch(new RegExp(`^Exit of trade #${paper!.id} requested \\(request #1\\): PENDING`));
    expect((await database.db.select().from(engineRequests)).map((r) => [r.kind, r.params])).toEqual([['exit_trade', { target: paper!.id, mode: 'paper', writtenAt: expect.any(String), waitMs: 0 }]]);
  });

  it('while paper with a live position still open, exit all previews exactly what the confirm closes: the paper book, the live one left out', async () => {
    const id = await workerWithOpenTrade();
    await insertTrades(database.db, [openTrade({ mode: 'live', quantity: '0.02', entryPrice: '61000', entryIntentId: 9001 })]);
    const live = (await database.db.select().from(trades).orderBy(trades.id)).find((t) => t.mode === 'live')!;
    const preview = JSON.parse((await cli('exit', 'all', '--json')).out);
    // The preview lists what the engine then closes, nothing more and nothing less.
    expect(preview.trades.map((t: { id: number }) => t.id)).toEqual([id]);
    expect(preview).toMatchObject({ status: 'needs_confirmation', mode: 'paper', paperSetAside: null });
    expect(preview.liveLeftOut).toContain(`1 open live position left out (#${live.id} BTC/USD 0.02)`);
    const done = JSON.parse((await cli('exit', 'all', '--yes', '--json')).out);
    expect(done.status).toBe('done');
    expect(done.request.results.map((r: { tradeId: number }) => r.tradeId)).toEqual([id]);
    const byId = new Map((await database.db.select().from(trades)).map((t) => [t.id, t.status]));
    expect([byId.get(id), byId.get(live.id)]).toEqual(['closed', 'open']);
    const one = await cli('exit', String(live.id), '--yes', '--wait', '0');
    expect(one.code).toBe(1);
    expect(one.err).toContain(`Trade #${live.id} is a live position and the bot trades paper: Kraken holds it, so no paper order sells it.`);
    expect(await database.db.select().from(engineRequests)).toHaveLength(1);
  });

  it('with the engine lease stale and the database live, lists the live book, says the lease is stale, and queues the exit as pending, never done', async () => {
    await insertTrades(database.db, [openTrade({ quantity: '0.0153', entryPrice: '60000' }), openTrade({ mode: 'live', quantity: '0.02', entryPrice: '61000' })]);
    const [paper, live] = await database.db.select().from(trades).orderBy(trades.id);
    await updateBotState(database.db, systemClock, { mode: 'live' });
    await execute(database.db, sql`insert into engine_lease (holder_id, host, pid, role, feed, armed, has_kraken_keys, acquired_at, heartbeat_at)
      values ('worker-1:7:abc', 'worker-1', 7, 'worker', 'kraken', true, true, now() - interval '2 hours', now() - interval '1 hour')`);
    const preview = await cli('exit', 'all');
    expect(preview.out).toMatch(new RegExp(`^Would sell at market:\\n  #${live!.id} live BTC/USD 0\\.02 \\(entry 61,000\\.00, ma-cross\\)\\n`));
    expect(preview.out).toContain(`1 open paper position set aside, not sold (#${paper!.id} BTC/USD 0.0153)`);
    expect(preview.out).toMatch(/The engine's lease is stale since \S+ \(worker-1:7, last heartbeat \S+\): mode unknown: no engine is trading while it hangs, but it was armed and the database says live, so it may resume LIVE trading if it wakes \(`ctb kill` or `\/kill` cancels from any process\)\. A confirmed exit is queued for the engine and stays pending until an engine takes the lease and has started; listed: the live book, as the database has the engine trade \(live, armed\)\. An engine that takes over from this one halts trading until reconciliation with Kraken passes: the exit is then refused \(no order leaves a halted bot\); ask for it again once the halt is lifted\./);
    const queued = await cli('exit', 'all', '--yes', '--wait', '1');
    expect(queued.code).toBe(1);
    expect(queued.out).toMatch(/requested \(request #1\): PENDING — no engine has answered yet\./);
    expect(queued.out).toContain("The engine's lease is stale since");
    expect((await database.db.select().from(engineRequests)).map((r) => r.status)).toEqual(['pending']);
    await h.slash('/exit', 'all', { user: USERS.operator });
    await h.idle();
    const notes = JSON.stringify(lastReply().blocks);
    expect(notes).toContain(`#${live!.id}`);
    expect(notes).not.toContain(`#${paper!.id}\` *BTC/USD* 0.0153`);
    expect(notes).toContain("The engine's lease is stale since");
  });

  /** Time passes for a request's next try: not_before is the database's clock, which the manual clock does not move. */
  const dueSooner = (ms: number) => execute(database.db, sql`update engine_requests set not_before = not_before - ${ms} * interval '1 millisecond' where not_before is not null`);

  it('an exit waiting when the engine takes the lease stays pending while the engine starts, and ends done, not failed', async () => {
    const id = await workerWithOpenTrade();
    await worker!.runner.stop();
    // The lease is held and the runner polls, but the engine has not registered yet (engine.ts: gate
    // policy and reconciliation's start come first), nor loaded its book after that.
    setRunningEngine(worker!.t.ctx, null);
    expect((await cli('exit', String(id), '--yes', '--wait', '0')).out).toMatch(/\(request #1\): PENDING/);
    const runner = startRequestRunner(worker!.t.ctx, { holder: 'test-worker-starting', handlers: { exit_trade: exitTradeHandler(worker!.t.ctx) }, timer: false });
    expect(await runner.drain()).toBe(1);
    expect((await database.db.select().from(engineRequests))[0]).toMatchObject({ status: 'pending', error: null, result: { summary: expect.stringContaining('(it has not started yet)') } });
    const starting = { exitTrade: () => Promise.reject(new Error('not loaded')), openTradeIds: () => null, mode: 'paper' as const, ledgerChanged: () => undefined };
    setRunningEngine(worker!.t.ctx, starting);
    worker!.t.clock.advance(EXIT_WAIT_FOR_ENGINE_MS);
    await dueSooner(EXIT_WAIT_FOR_ENGINE_MS);
    expect(await runner.drain()).toBe(1);
    const [waiting] = await database.db.select().from(engineRequests);
    expect(waiting).toMatchObject({ status: 'pending', error: null, result: { summary: expect.stringContaining('Pending: the engine is starting in the process that holds its lease (it has not loaded its book yet)') } });
    expect((await database.db.select().from(trades))[0]!.status).toBe('open');
    // Not tried again before its time, then carried out once the engine runs.
    setRunningEngine(worker!.t.ctx, worker!.engine);
    expect(await runner.drain()).toBe(0);
    worker!.t.clock.advance(EXIT_WAIT_FOR_ENGINE_MS);
    await dueSooner(EXIT_WAIT_FOR_ENGINE_MS);
    expect(await runner.drain()).toBe(1);
    await runner.stop();
    expect((await database.db.select().from(engineRequests))[0]).toMatchObject({ status: 'done', result: { summary: expect.stringMatching(new RegExp(`^#${id} closed: sold`)) } });
    expect((await database.db.select().from(trades))[0]!.status).toBe('closed');
  });

  it('an exit confirmed for the live book (lease stale) is refused by an engine that trades paper, and nothing is sold', async () => {
    const id = await workerWithOpenTrade();
    await insertTrades(database.db, [openTrade({ mode: 'live', quantity: '0.02', entryPrice: '61000', entryIntentId: 9002 })]);
    const live = (await database.db.select().from(trades).orderBy(trades.id)).find((t) => t.mode === 'live')!;
    await updateBotState(database.db, systemClock, { mode: 'live' });
    await execute(database.db, sql`insert into engine_lease (holder_id, host, pid, role, feed, armed, has_kraken_keys, acquired_at, heartbeat_at)
      values ('worker-1:7:abc', 'worker-1', 7, 'worker', 'kraken', true, true, now() - interval '2 hours', now() - interval '1 hour')`);
    // Listed: the live book the stale holder traded; the engine that answers trades paper.
    const refused = JSON.parse((await cli('exit', 'all', '--yes', '--json', '--wait', '10')).out);
    expect(refused).toMatchObject({ mode: 'live', trades: [expect.objectContaining({ id: live.id })], status: 'failed' });
    expect(refused.request.summary).toBe('Refused: the exit was confirmed for the live book, but the engine trades paper now (the mode changed since): nothing was sent. Look again with /exit or ctb exit.');
    const [request] = await database.db.select().from(engineRequests);
    expect(request).toMatchObject({ status: 'failed', params: { target: 'all', mode: 'live', tradeIds: [live.id] }, error: refused.request.summary });
    expect(await exitIntents()).toEqual([]);
    expect((await database.db.select().from(trades)).map((t) => [t.id, t.status]).sort()).toEqual([[id, 'open'], [live.id, 'open']].sort());
  });

  it('exit all closes the trades it listed and no others: one opened since stays open, and the answer says so', async () => {
    await insertTrades(database.db, [openTrade({ quantity: '0.001', entryPrice: '100', entryIntentId: 9003 })]);
    const [listed] = await database.db.select().from(trades);
    const asked = await cli('exit', 'all', '--yes', '--wait', '0');
    expect(asked.out).toMatch(/\(request #1\): PENDING/);
    expect((await database.db.select().from(engineRequests))[0]!.params).toEqual({ target: 'all', mode: 'paper', tradeIds: [listed!.id], writtenAt: expect.any(String), waitMs: 0 });
    // The engine starts after the confirm and opens a position of its own before it takes the request.
    worker = await startIdleEngine(database, roundTripCloses().slice(0, 24), { exitShownGraceMs: SHOWN_GRACE_MS });
    await worker.runner.stop();
    await worker.settled();
    const opened = (await database.db.select().from(trades)).find((t) => t.id !== listed!.id && t.status === 'open')!;
    expect(worker.engine.openTradeIds()!.sort()).toEqual([listed!.id, opened.id].sort());
    worker.restartRunner();
    const done = await waitForEngineRequest(database.db, 1, { timeoutMs: 10_000 });
    expect(done).toMatchObject({ status: 'done', params: { tradeIds: [listed!.id] } });
    expect(String(done!.result!['summary'])).toMatch(new RegExp(`^#${listed!.id} closed: sold .* Left open, not listed when the exit was confirmed: #${opened.id}; exit them with /exit or ctb exit\\.$`));
    const byId = new Map((await database.db.select().from(trades)).map((t) => [t.id, t.status]));
    expect([byId.get(listed!.id), byId.get(opened.id)]).toEqual(['closed', 'open']);
  });

  it('refuses an unknown trade (exit 2), a bad target (exit 2), and any exit while halted (exit 1)', async () => {
    const unknown = await cli('exit', '999', '--yes');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('error: There is no trade #999. ctb trades lists the open ones.');
    expect(unknown.err).not.toContain('/trades');
    const bad = await cli('exit', 'everything');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/Expected a trade id such as 12/);
    const id = await workerWithOpenTrade();
    await updateBotState(database.db, worker!.t.clock, { halted: true, haltedReason: 'drill' });
    const halted = await cli('exit', String(id), '--yes');
    expect(halted.code).toBe(1);
    expect(halted.err).toMatch(/Trading is halted \(drill\): no order can be sent, exits included\. Close positions with the incident checklist/);
    expect(halted.err).toContain('ctb incident done close_positions --yes');
    expect(await database.db.select().from(engineRequests)).toEqual([]);
  });
});
