// The two-approver live switch, driven through the service on real PostgreSQL with a ManualClock:
// every rule that keeps a live switch from happening by accident, and the one path where it does.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { backups, modeChangeEvents, modeChangeRequests, modeChangeVotes, trades } from '../../../src/db/schema/index.js';
import { isAppError } from '../../../src/errors.js';
import { effectiveMode, getBotState, updateBotState } from '../../../src/services/bot-state.js';
import { expireOverdueRequests } from '../../../src/services/mode/expire-requests.js';
import { openLiveRequest } from '../../../src/services/mode/open-live-request.js';
import type { ReactionOutcome } from '../../../src/services/mode/record-reaction.js';
import { modeHistory } from '../../../src/services/mode/sign-off.js';
import { renderSignOff } from '../../../src/cli/commands/mode.js';
import { switchToPaper } from '../../../src/services/mode/switch-to-paper.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { insertTrades, openTrade } from '../../support/factories/ledger.js';
import { startFakeKraken, type FakeKraken } from '../../support/fake-kraken.js';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.js';
import {
  APPROVER_B, APPROVER_C, holdEngineLease, KRAKEN_KEY, KRAKEN_SECRET, modeHarness, OPERATOR, passModeTime, resetModeTables, OPERATOR_APPROVER, OPS, OUTSIDER, slackActor,
  type ModeHarness,
} from '../../support/mode-harness.js';

let database: TestDatabase;
let slack: FakeSlack;
let kraken: FakeKraken;
let h: ModeHarness;
/** Only the happy path may reach Kraken; every other test ends with the fake Kraken untouched. */
let krakenExpected = false;

beforeAll(async () => {
  database = await createPostgresTestDb();
  kraken = await startFakeKraken();
});

afterAll(async () => {
  await kraken.close();
  await database.close();
});

beforeEach(async () => {
  await resetModeTables(database.db);
  slack = await startFakeSlack();
  h = await modeHarness({ database, slack, kraken });
  krakenExpected = false;
  kraken.calls.length = 0;
});

afterEach(async () => {
  vi.restoreAllMocks();
  if (!krakenExpected) expect(kraken.calls, 'a test other than the happy path reached Kraken').toEqual([]);
  await h.ctx.close();
  await slack.close();
});

async function open(requester = OPERATOR_APPROVER, harness = h) {
  const result = await openLiveRequest(harness.ctx, harness.ctx.liveSwitch, { actor: slackActor(requester), reason: 'paper criteria met' });
  if (!result.opened) throw new Error(`request not opened: ${result.audit.summary}`);
  return result.request;
}

/**
 * While the audit runs at the switch, `reaction` changes on the request message in Slack and its event
 * never reaches the bot (lost): only the switch's own read of the message can see it.
 */
function duringTheAudit(request: { slackChannel: string | null; slackTs: string | null }, reaction: { emoji: 'approval' | 'rejection'; user: string; added: boolean }) {
  const gate = h.ctx.liveSwitch.gate;
  h.ctx.liveSwitch.gate = async (...args) => {
    const name = reaction.emoji === 'approval' ? h.ctx.config.APPROVAL_EMOJI : h.ctx.config.REJECTION_EMOJI;
    slack.reactions.apply({ channel: request.slackChannel!, ts: request.slackTs!, name, user: reaction.user, added: reaction.added });
    return gate(...args);
  };
}

async function storedRequest(id: number) {
  const [row] = await h.ctx.db.select().from(modeChangeRequests).where(eq(modeChangeRequests.id, id));
  return row!;
}

const tradingVenue = async (harness = h) => {
  const state = await getBotState(harness.ctx.db);
  return harness.ctx.exchanges.forMode(effectiveMode(state, harness.ctx.config.IS_LIVE)).venue;
};

describe('opening a live change request', () => {
  it('posts the request in the ops channel with requester, audit, criteria, approvers, emoji and expiry', async () => {
    const request = await open();
    const [post] = slack.callsTo('chat.postMessage');
    expect(post?.body.channel).toBe(OPS);
    const text = JSON.stringify(post?.body.blocks);
    expect(text).toContain(`<@${OPERATOR_APPROVER}>`);
    expect(text).toContain('AUDIT PASSED');
    expect(text).toContain('60 paper trades (needs 50)');
    expect(text).toContain(`<@${APPROVER_B}>`);
    expect(text).toContain(`<@${APPROVER_C}>`);
    expect(text).toContain(':white_check_mark:');
    // MODE_CHANGE_TTL 30m after it was written, on the database's clock.
    expect(request.expiresAt.getTime() - request.createdAt.getTime()).toBe(30 * 60_000);
    expect(text).toContain(request.expiresAt.toISOString());
    expect(request.slackChannel).toBe(OPS);
    expect(request.slackTs).toBeTruthy();
    expect(request.status).toBe('requested');
    expect(request.auditRunId).toBeGreaterThan(0);
  });

  it('refuses when the process is not armed, saying how to arm it, and records nothing', async () => {
    const unarmed = await modeHarness({ database, slack, env: { IS_LIVE: 'false', KRAKEN_API_KEY: undefined, KRAKEN_API_SECRET: undefined } });
    const err = await openLiveRequest(unarmed.ctx, unarmed.ctx.liveSwitch, { actor: slackActor(OPERATOR) }).catch((e: unknown) => e);
    expect(isAppError(err, 'conflict') && err.code).toBe('not_armed');
    expect((err as Error & { hint: string }).hint).toMatch(/IS_LIVE=true/);
    expect(await h.ctx.db.select().from(modeChangeRequests)).toHaveLength(0);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(0);
    await unarmed.ctx.close();
  });

  it('refuses while the bot is halted, pointing at /mode resume', async () => {
    await updateBotState(h.ctx.db, h.clock, { halted: true, haltedReason: 'kill by UOPER0001' });
    const err = await open().catch((e: unknown) => e);
    expect(isAppError(err, 'conflict') && err.code).toBe('halted');
    expect((err as Error & { hint: string }).hint).toMatch(/\/mode resume/);
    expect(await h.ctx.db.select().from(modeChangeRequests)).toHaveLength(0);
  });

  it('refuses from the terminal: the requester must be a Slack identity', async () => {
    const err = await openLiveRequest(h.ctx, h.ctx.liveSwitch, { actor: { id: 'cli:root', source: 'cli' } }).catch((e: unknown) => e);
    expect(isAppError(err) && err.code).toBe('live_needs_slack');
  });

  it('refuses when fewer than two approvers other than the requester are configured', async () => {
    const few = await modeHarness({ database, slack, env: { SLACK_APPROVERS: `${OPERATOR_APPROVER},${APPROVER_B}` } });
    const err = await open(OPERATOR_APPROVER, few).catch((e: unknown) => e);
    expect(isAppError(err, 'config') && err.code).toBe('not_enough_approvers');
    await few.ctx.close();
  });

  it('does not open a request when the go-live audit fails, and shows why', async () => {
    h.audit.verdict = 'fail';
    const result = await openLiveRequest(h.ctx, h.ctx.liveSwitch, { actor: slackActor(OPERATOR) });
    expect(result.ok).toBe(false);
    expect(result.audit.checks.find((c) => c.status === 'fail')?.fix).toBe('Resolve the critical alerts first.');
    expect(await h.ctx.db.select().from(modeChangeRequests)).toHaveLength(0);
  });

  it('refuses while the engine trades on the replay feed, saying to restart it on Kraken, and records nothing', async () => {
    h.engine.feed = 'replay';
    await holdEngineLease(h.ctx.db, 'replay');
    const err = await open().catch((e: unknown) => e);
    expect(isAppError(err, 'conflict') && err.code).toBe('live_needs_market_feed');
    expect((err as Error).message).toMatch(/engine \(test-host pid 4242\) trades on the replay feed: live orders would be priced from replayed history/);
    expect((err as Error & { hint: string }).hint).toMatch(/--feed kraken/);
    expect(await h.ctx.db.select().from(modeChangeRequests)).toHaveLength(0);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(0);
  });

  it('refuses when the engine holding the lease is not armed, though this process is: naming the engine and how to arm it, and records nothing', async () => {
    expect(h.ctx.config.IS_LIVE).toBe(true);
    h.engine.armed = false;
    await holdEngineLease(h.ctx.db, 'kraken', 0, false);
    const err = await open().catch((e: unknown) => e);
    expect(isAppError(err, 'conflict') && err.code).toBe('engine_not_armed');
    expect((err as Error).message).toBe('Live trading is refused: the engine (test-host pid 4242, worker) is not armed (IS_LIVE is not true in its process): '
      + 'it would keep trading paper, and its next armed restart would trade LIVE on an approval given now, without a new sign-off.');
    expect((err as Error & { hint: string }).hint).toBe('Restart the worker on test-host (pid 4242) with IS_LIVE=true and a Trade-only Kraken key (KRAKEN_API_KEY, KRAKEN_API_SECRET), then request live again.');
    expect(await h.ctx.db.select().from(modeChangeRequests)).toHaveLength(0);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(0);
    expect(h.audit.runs).toBe(0);
  });

  it('refuses when no engine holds the lease, since no one can vouch for its feed: naming the stale engine, since when, and how to restart or take over', async () => {
    await holdEngineLease(h.ctx.db, 'kraken', h.ctx.config.ENGINE_LEASE_TTL + 5_000);
    const err = await open().catch((e: unknown) => e);
    expect(isAppError(err, 'conflict') && err.code).toBe('live_needs_market_feed');
    expect((err as Error).message).toMatch(/no engine holds the lease \(the last one, test-host pid 4242, stopped renewing it at .*\), so its market feed cannot be checked/);
    expect((err as Error).message).toMatch(/stopped renewing it at \S+Z; stale since \S+Z: worker, feed kraken, armed — it died or hung\)/);
    expect((err as Error & { hint: string }).hint).toBe('Find out whether test-host pid 4242 is alive (on test-host: ps -p 4242; `ctb mode status` shows the lease). '
      + 'If it hangs, stop it (kill 4242 on test-host): a hung engine that wakes renews its lease and trades again. '
      + 'Then start an engine on the Kraken feed (ctb start --feed kraken, or the Procfile worker with MARKET_FEED=kraken): it takes the stale lease over. Then request live again.');
  });

  it('allows one open request at a time', async () => {
    await open();
    const err = await open(OPERATOR).catch((e: unknown) => e);
    expect(isAppError(err, 'conflict') && err.code).toBe('request_open');
  });

  it('closes the request when Slack refuses the post, so no unseen request can be approved', async () => {
    slack.on('chat.postMessage', () => ({ body: { ok: false, error: 'not_in_channel' } }));
    const err = await open().catch((e: unknown) => e);
    expect(isAppError(err) && err.code).toBe('request_not_posted');
    const [row] = await h.ctx.db.select().from(modeChangeRequests);
    expect(row?.status).toBe('failed');
    expect(row?.outcome).toMatch(/not_in_channel/);
  });
});

describe('approvals by reaction', () => {
  it('switches to live on two distinct approvals: re-audit, snapshot, Kraken adapter, thread reply, alert', async () => {
    krakenExpected = true;
    writeFileSync(join(h.dirs.logs, 'system.log'), `{"msg":"started","key":"${KRAKEN_KEY}"}\n`);
    const request = await open();
    expect(await tradingVenue()).toBe('paper');

    expect(await h.react(request, APPROVER_B)).toMatchObject({ kind: 'counted', approvals: 1 });
    expect(await tradingVenue()).toBe('paper');
    expect(kraken.calls).toEqual([]);
    const outcome = await h.react(request, APPROVER_C);
    expect(outcome).toMatchObject({ kind: 'quorum', switch: { switched: true } });

    // No restart: the same context now hands the engine the Kraken adapter, which reaches Kraken.
    const state = await getBotState(h.ctx.db);
    expect(state.mode).toBe('live');
    const exchange = h.ctx.exchanges.forMode(effectiveMode(state, h.ctx.config.IS_LIVE));
    expect(exchange.venue).toBe('kraken');
    await exchange.fetchBalances();
    expect(kraken.callsTo('BalanceEx')).toHaveLength(1);
    expect(kraken.orderChangingCalls()).toEqual([]);

    expect(h.audit.runs).toBe(2);
    expect(h.ctx.jobs.tradingPaused).toBeNull();

    const row = await storedRequest(request.id);
    expect(row.status).toBe('switched');
    expect(row.switchAuditRunId).toBeGreaterThan(row.auditRunId!);
    expect(row.outcome).toContain(APPROVER_B);
    expect(row.outcome).toContain(APPROVER_C);
    const [backupRow] = await h.ctx.db.select().from(backups);
    expect(backupRow).toMatchObject({ id: Number(row.snapshotId), path: row.snapshotRef, reason: `live-switch #${request.id}` });
    const snapshotDir = row.snapshotRef!;
    expect(snapshotDir.startsWith(h.dirs.backups)).toBe(true);
    expect(existsSync(join(snapshotDir, 'config', 'effective.json'))).toBe(true);
    const files = readdirSync(snapshotDir, { recursive: true }).map(String);
    expect(files).toContain(join('logs', 'system.log'));
    expect(files.some((f) => f.includes('mode_change_requests'))).toBe(true);
    const snapshotText = files
      .filter((f) => /\.(json|log|jsonl|ndjson|csv|redacted)$/.test(f))
      .map((f) => readFileSync(join(snapshotDir, f), 'utf8'))
      .join('\n');
    expect(snapshotText).toContain('"msg":"started"');
    expect(snapshotText).not.toContain(KRAKEN_KEY);
    expect(snapshotText).not.toContain(KRAKEN_SECRET);
    expect(snapshotText).not.toContain('xoxb-111-222-testtokenvalue');

    const thread = slack.callsTo('chat.postMessage').filter((c) => c.body.thread_ts === request.slackTs);
    expect(thread).toHaveLength(1);
    const reply = JSON.stringify(thread[0]!.body.blocks);
    expect(reply).toContain(`<@${APPROVER_B}>`);
    expect(reply).toContain(`<@${APPROVER_C}>`);
    expect(h.alerts).toContainEqual(expect.objectContaining({ source: 'mode', title: `Switched to LIVE trading (request #${request.id})` }));
  });

  it('sets aside the open paper positions at the switch, and says which in the record and the thread', async () => {
    await insertTrades(h.ctx.db, [openTrade({ symbol: 'BTC/USD', quantity: '0.0153' }), openTrade({ mode: 'live', symbol: 'ETH/USD', quantity: '0.2' })]);
    try {
      const [paper] = await h.ctx.db.select().from(trades).where(eq(trades.mode, 'paper'));
      const request = await open();
      await h.react(request, APPROVER_B);
      expect(await h.react(request, APPROVER_C)).toMatchObject({ kind: 'quorum', switch: { switched: true } });
      const said = `1 open paper position set aside, not sold (#${paper!.id} BTC/USD 0.0153): simulated, so Kraken holds none of it; `
        + 'no live order sells them and the live caps and exposure leave them out; they stay open in the paper book';
      expect((await storedRequest(request.id)).outcome).toContain(said);
      const thread = slack.callsTo('chat.postMessage').filter((c) => c.body.thread_ts === request.slackTs);
      expect(JSON.stringify(thread.at(-1)!.body.blocks)).toContain(said);
      const [switched] = await h.ctx.db.select().from(modeChangeEvents).where(eq(modeChangeEvents.kind, 'switched'));
      expect(switched!.details).toMatchObject({ paperSetAside: [{ tradeId: paper!.id, symbol: 'BTC/USD', quantity: '0.0153' }] });
      // Set aside, not sold: the paper position is still open in the paper book.
      expect((await h.ctx.db.select().from(trades).where(eq(trades.id, paper!.id)))[0]).toMatchObject({ mode: 'paper', status: 'open' });
    } finally {
      await h.ctx.db.delete(trades);
    }
  });

  it('never counts the requester, even when the requester is an approver', async () => {
    const request = await open(OPERATOR_APPROVER);
    expect(await h.react(request, OPERATOR_APPROVER)).toMatchObject({ kind: 'ignored', reason: 'the requester never counts' });
    expect(await h.react(request, APPROVER_B)).toMatchObject({ kind: 'counted', approvals: 1 });
    expect((await storedRequest(request.id)).status).toBe('requested');
    expect((await getBotState(h.ctx.db)).mode).toBe('paper');
  });

  it('ignores reactions from people who are not approvers', async () => {
    const request = await open(OPERATOR);
    expect(await h.react(request, OUTSIDER)).toMatchObject({ kind: 'ignored', reason: 'not an approver (SLACK_APPROVERS)' });
    expect(await h.react(request, APPROVER_B)).toMatchObject({ kind: 'counted', approvals: 1 });
    expect((await getBotState(h.ctx.db)).mode).toBe('paper');
  });

  it('ignores bots, even one listed as an approver', async () => {
    const request = await open(OPERATOR);
    expect(await h.react(request, APPROVER_B, { isBot: true })).toMatchObject({ kind: 'ignored', reason: 'bots never count' });
    expect(await h.react(request, APPROVER_C)).toMatchObject({ kind: 'counted', approvals: 1 });
    expect((await getBotState(h.ctx.db)).mode).toBe('paper');
  });

  it('counts one approver once however often Slack delivers the reaction', async () => {
    const request = await open(OPERATOR);
    const eventTs = '1800000100.000001';
    expect(await h.react(request, APPROVER_B, { eventTs })).toMatchObject({ kind: 'counted', approvals: 1 });
    expect(await h.react(request, APPROVER_B, { eventTs })).toMatchObject({ kind: 'ignored' });
    expect(await h.react(request, APPROVER_B)).toMatchObject({ kind: 'counted', approvals: 1 });
    expect(await h.ctx.db.select().from(modeChangeVotes)).toHaveLength(1);
    expect((await storedRequest(request.id)).status).toBe('requested');
  });

  it('ignores other emoji and reactions on other messages', async () => {
    const request = await open(OPERATOR);
    expect(await h.react(request, APPROVER_B, { emoji: 'thumbsup' })).toEqual({ kind: 'not_a_vote' });
    expect(await h.react({ ...request, slackTs: '1.000001' }, APPROVER_B)).toEqual({ kind: 'not_a_request' });
  });

  it('withdraws an approval when the reaction is removed, and a late retry of an old add does not restore it', async () => {
    const request = await open(OPERATOR);
    await h.react(request, APPROVER_B, { eventTs: '1800000200.000001' });
    expect(await h.react(request, APPROVER_B, { added: false, eventTs: '1800000200.000002' })).toMatchObject({ kind: 'withdrawn', approvals: 0 });
    expect(await h.react(request, APPROVER_B, { eventTs: '1800000200.000001' })).toMatchObject({ kind: 'ignored' });
    expect(await h.react(request, APPROVER_C)).toMatchObject({ kind: 'counted', approvals: 1 });
    expect((await getBotState(h.ctx.db)).mode).toBe('paper');
    // Reacting again is a new approval.
    expect(await h.react(request, APPROVER_B)).toMatchObject({ kind: 'quorum', switch: { switched: true } });
    const [record] = await modeHistory(h.ctx, { limit: 1 });
    expect(record!.trail.map((e) => e.kind)).toContain('vote_withdrawn');
  });

  it('rejects on an approver\'s rejection emoji; later approvals do nothing', async () => {
    const request = await open(OPERATOR);
    await h.react(request, APPROVER_B);
    expect(await h.react(request, APPROVER_C, { emoji: 'x' })).toMatchObject({ kind: 'rejected' });
    expect(await h.react(request, OPERATOR_APPROVER)).toMatchObject({ kind: 'ignored', reason: 'the request is already rejected' });
    const row = await storedRequest(request.id);
    expect(row.status).toBe('rejected');
    expect(row.decidedBy).toBe(APPROVER_C);
    expect((await getBotState(h.ctx.db)).mode).toBe('paper');
    expect(slack.callsTo('chat.postMessage').some((c) => c.body.thread_ts === request.slackTs && String(c.body.text).includes('rejected'))).toBe(true);
  });

  it('ignores a non-approver\'s rejection emoji', async () => {
    const request = await open(OPERATOR);
    expect(await h.react(request, OUTSIDER, { emoji: 'x' })).toMatchObject({ kind: 'ignored' });
    expect((await storedRequest(request.id)).status).toBe('requested');
  });

  it('lets the requester withdraw the request with the rejection emoji', async () => {
    const request = await open(OPERATOR_APPROVER);
    expect(await h.react(request, OPERATOR_APPROVER, { emoji: 'x' })).toMatchObject({ kind: 'withdrawn_request' });
    expect((await storedRequest(request.id)).status).toBe('withdrawn');
  });

  it('counts nothing after expiry', async () => {
    const request = await open(OPERATOR);
    await h.react(request, APPROVER_B);
    await passModeTime(database.db, 30 * 60_000);
    expect(await h.react(request, APPROVER_C)).toMatchObject({ kind: 'expired' });
    expect(await h.react(request, OPERATOR_APPROVER)).toMatchObject({ kind: 'ignored', reason: 'the request is already expired' });
    expect((await storedRequest(request.id)).status).toBe('expired');
    expect((await getBotState(h.ctx.db)).mode).toBe('paper');
  });

  it('expires overdue requests from the sweep and says so in the thread', async () => {
    const request = await open(OPERATOR);
    await passModeTime(database.db, 29 * 60_000);
    expect(await expireOverdueRequests(h.ctx, h.ctx.liveSwitch)).toHaveLength(0);
    await passModeTime(database.db, 60_000);
    expect((await expireOverdueRequests(h.ctx, h.ctx.liveSwitch)).map((r) => r.id)).toEqual([request.id]);
    expect(slack.callsTo('chat.postMessage').some((c) => c.body.thread_ts === request.slackTs && String(c.body.text).includes('expired'))).toBe(true);
  });

  it('fails the request with the reason when the audit fails at the moment of the switch', async () => {
    const request = await open(OPERATOR);
    await h.react(request, APPROVER_B);
    h.audit.verdict = 'fail';
    const outcome = await h.react(request, APPROVER_C);
    expect(outcome).toMatchObject({ kind: 'quorum', switch: { switched: false, status: 'failed' } });
    const row = await storedRequest(request.id);
    expect(row.status).toBe('failed');
    expect(row.outcome).toMatch(/go-live audit failed at the switch.*Resolve the critical alerts first/);
    expect(row.snapshotRef).toBeNull();
    expect((await getBotState(h.ctx.db)).mode).toBe('paper');
    expect(await tradingVenue()).toBe('paper');
    expect(h.ctx.jobs.tradingPaused).toBeNull();
  });

  it('fails the request at the switch when the engine was restarted on the replay feed after the request', async () => {
    const request = await open(OPERATOR);
    await h.react(request, APPROVER_B);
    h.engine.feed = 'replay';
    const outcome = await h.react(request, APPROVER_C);
    expect(outcome).toMatchObject({ kind: 'quorum', switch: { switched: false, status: 'failed' } });
    expect((await storedRequest(request.id)).outcome).toMatch(/trades on the replay feed/);
    expect((await getBotState(h.ctx.db)).mode).toBe('paper');
    expect(await tradingVenue()).toBe('paper');
  });

  it('fails the request at the switch when the engine holding the lease was restarted unarmed, though the switching process is armed', async () => {
    expect(h.ctx.config.IS_LIVE).toBe(true);
    const request = await open(OPERATOR);
    await h.react(request, APPROVER_B);
    h.engine.armed = false;
    const outcome = await h.react(request, APPROVER_C);
    expect(outcome).toMatchObject({ kind: 'quorum', switch: { switched: false, status: 'failed' } });
    const row = await storedRequest(request.id);
    expect(row.status).toBe('failed');
    expect(row.outcome).toBe('the engine (test-host pid 4242, worker) is not armed (IS_LIVE is not true in its process): it would keep trading paper, '
      + 'and its next armed restart would trade LIVE on an approval given now, without a new sign-off. '
      + 'Restart the worker on test-host (pid 4242) with IS_LIVE=true and a Trade-only Kraken key (KRAKEN_API_KEY, KRAKEN_API_SECRET), then request live again.');
    // Nothing left approved for a later armed restart to act on: bot_state stays paper.
    expect((await getBotState(h.ctx.db)).mode).toBe('paper');
    expect(slack.callsTo('chat.postMessage').some((c) => c.body.thread_ts === request.slackTs && String(c.body.text).includes('IS_LIVE=true'))).toBe(true);
  });

  it("fails the request at the switch when the engine's lease went stale, saying which engine and what to do", async () => {
    const request = await open(OPERATOR);
    await h.react(request, APPROVER_B);
    h.ctx.liveSwitch.snapshot = async (ctx) => {
      await holdEngineLease(ctx.db, 'kraken', ctx.config.ENGINE_LEASE_TTL + 5_000);
      return { path: '/tmp/not-written', id: null };
    };
    const outcome = await h.react(request, APPROVER_C);
    expect(outcome).toMatchObject({ kind: 'quorum', switch: { switched: false, status: 'failed' } });
    const said = (await storedRequest(request.id)).outcome;
    expect(said).toMatch(/^no engine holds the lease \(the last one, test-host pid 4242, stopped renewing it at \S+; stale since \S+: worker, feed kraken, armed — it died or hung\)/);
    expect(said).toContain('Find out whether test-host pid 4242 is alive');
    expect(said).toContain('it takes the stale lease over. Then request live again.');
    expect((await getBotState(h.ctx.db)).mode).toBe('paper');
  });

  it('fails the request when the bot is halted between quorum and the switch', async () => {
    const request = await open(OPERATOR);
    await h.react(request, APPROVER_B);
    h.ctx.liveSwitch.snapshot = async (ctx) => {
      await updateBotState(ctx.db, ctx.clock, { halted: true, haltedReason: 'kill during transition', mode: 'paper' });
      return { path: '/tmp/not-written', id: null };
    };
    const outcome = await h.react(request, APPROVER_C);
    expect(outcome).toMatchObject({ kind: 'quorum', switch: { switched: false } });
    expect((await storedRequest(request.id)).outcome).toMatch(/halted during the transition/);
    expect((await getBotState(h.ctx.db)).mode).toBe('paper');
  });
});

describe('two approvals at the same moment', () => {
  it('switches once when both reactions arrive together on one process', async () => {
    for (let round = 0; round < 4; round++) {
      const request = await open(OPERATOR);
      const before = (await getBotState(h.ctx.db)).version;
      const outcomes = await Promise.all([h.react(request, APPROVER_B), h.react(request, APPROVER_C)]);
      expect(outcomes.filter((o) => o.kind === 'quorum')).toHaveLength(1);
      const switched = await h.ctx.db.select().from(modeChangeEvents).where(eq(modeChangeEvents.requestId, request.id));
      expect(switched.filter((e) => e.kind === 'switched')).toHaveLength(1);
      expect((await getBotState(h.ctx.db)).version).toBe(before + 1);
      await switchToPaper(h.ctx, h.ctx.liveSwitch, { actor: slackActor(OPERATOR) });
    }
  });

  it('switches once when the reactions reach two replicas sharing one database', async () => {
    const { connectPostgres } = await import('../../../src/db/client.js');
    const second = connectPostgres(database.url, { max: 5 });
    const replica = await modeHarness({ database: second, slack, clock: h.clock, audit: h.audit });
    try {
      for (let round = 0; round < 4; round++) {
        const request = await open(OPERATOR);
        const outcomes = await Promise.all([h.react(request, APPROVER_B), replica.react(request, APPROVER_C)]);
        expect(outcomes.filter((o) => o.kind === 'quorum')).toHaveLength(1);
        const events = await h.ctx.db.select().from(modeChangeEvents).where(eq(modeChangeEvents.requestId, request.id));
        expect(events.filter((e) => e.kind === 'switched')).toHaveLength(1);
        expect(events.filter((e) => e.kind === 'approved')).toHaveLength(1);
        expect((await getBotState(h.ctx.db)).mode).toBe('live');
        await switchToPaper(replica.ctx, replica.ctx.liveSwitch, { actor: slackActor(OPERATOR) });
      }
    } finally {
      await replica.ctx.close();
      await second.close();
    }
  });
});

describe('the quorum read from Slack', () => {
  it('does not count on another replica an approval whose removal never reached either, and goes live on the two on the message', async () => {
    const { connectPostgres } = await import('../../../src/db/client.js');
    const second = connectPostgres(database.url, { max: 5 });
    const replica = await modeHarness({ database: second, slack, clock: h.clock, audit: h.audit });
    try {
      const request = await open(OPERATOR);
      expect(await h.react(request, APPROVER_B)).toMatchObject({ kind: 'counted', approvals: 1 });
      // B takes the approval back in Slack; the reaction_removed reaches neither replica.
      slack.reactions.apply({ channel: request.slackChannel!, ts: request.slackTs!, name: h.ctx.config.APPROVAL_EMOJI, user: APPROVER_B, added: false });
      expect(await replica.react(request, APPROVER_C)).toMatchObject({ kind: 'counted', approvals: 1, gone: [APPROVER_B] });
      expect((await storedRequest(request.id)).status).toBe('requested');
      expect((await getBotState(h.ctx.db)).mode).toBe('paper');

      expect(await h.react(request, OPERATOR_APPROVER)).toMatchObject({ kind: 'quorum', switch: { switched: true }, gone: [] });
      const [record] = await modeHistory(h.ctx, { limit: 1, id: request.id });
      expect(record!.approvals.map((a) => [a.user, a.withdrawnAt === null])).toEqual([[APPROVER_B, false], [APPROVER_C, true], [OPERATOR_APPROVER, true]]);
      expect(record!.outcome).toMatch(new RegExp(`approved by ${APPROVER_C} at .* and ${OPERATOR_APPROVER} at `));
    } finally {
      await replica.ctx.close();
      await second.close();
    }
  });

  it('reads Slack only for an approval that would complete the quorum, and does not go live on an answer it cannot read', async () => {
    const request = await open(OPERATOR);
    slack.on('reactions.get', () => ({ body: { ok: true, type: 'message', channel: request.slackChannel } }));
    expect(await h.react(request, APPROVER_B)).toMatchObject({ kind: 'counted', approvals: 1 });
    expect(slack.callsTo('reactions.get')).toEqual([]);
    expect(await h.react(request, APPROVER_C)).toMatchObject({
      kind: 'unconfirmed', approvals: 2, why: expect.stringContaining('without the message\'s reactions in the documented shape'),
    });
    expect((await storedRequest(request.id)).status).toBe('requested');
    expect((await getBotState(h.ctx.db)).mode).toBe('paper');
  });

  it('goes live only on approvals still on the message at the switch: one taken back during the audit, its event lost, fails the request', async () => {
    const request = await open(OPERATOR);
    expect(await h.react(request, APPROVER_B)).toMatchObject({ kind: 'counted', approvals: 1 });
    // B takes the approval back while the audit runs at the switch; the reaction_removed is lost.
    duringTheAudit(request, { emoji: 'approval', user: APPROVER_B, added: false });
    expect(await h.react(request, APPROVER_C)).toMatchObject({ kind: 'quorum', switch: { switched: false, status: 'failed' } });
    expect((await getBotState(h.ctx.db)).mode).toBe('paper');
    const row = await storedRequest(request.id);
    expect(row.status).toBe('failed');
    expect(row.outcome).toBe(`an approval is no longer on the request (read at the switch): ${APPROVER_B} recorded but without :white_check_mark: on the message, `
      + '1 of 2 on it. Not switched: to go live, request it again with /mode live and approve the new request.');
    const [record] = await modeHistory(h.ctx, { limit: 1, id: request.id });
    expect(record!.trail.find((e) => e.kind === 'failed')?.details).toMatchObject({ seenBy: 'reactions.get', notOnMessage: [APPROVER_B] });
    expect(slack.callsTo('chat.postMessage').some((c) => c.body.thread_ts === request.slackTs && String(c.body.text).includes('request it again with /mode live'))).toBe(true);
    // The record says what Slack shows: B's approval is withdrawn, with the failure, not standing.
    const failedAt = row.decidedAt!.toISOString();
    expect(record!.approvals.map((a) => [a.user, a.withdrawnAt])).toEqual([[APPROVER_B, failedAt], [APPROVER_C, null]]);
    expect(record!.trail.filter((e) => e.kind === 'vote_withdrawn').map((e) => [e.at, e.actor, e.details])).toEqual([[failedAt, APPROVER_B, {
      user: APPROVER_B, emoji: 'white_check_mark', added: false, seenBy: 'reactions.get',
      reason: 'the approval reaction is no longer on the request message (its removal event never reached the bot)', approvals: 1,
    }]]);
    expect(renderSignOff(record!)).toContain(`approval ${APPROVER_B} at ${record!.approvals[0]!.addedAt}, withdrawn at ${failedAt}`);
  });

  it('withdraws at a refused flip only approvals recorded before its read: one added while Slack was being read stands', async () => {
    const request = await open(OPERATOR);
    expect(await h.react(request, APPROVER_B)).toMatchObject({ kind: 'counted', approvals: 1 });
    // B takes the approval back while the audit runs at the switch; the reaction_removed is lost.
    duringTheAudit(request, { emoji: 'approval', user: APPROVER_B, added: false });
    const real = h.ctx.liveSwitch.reactions;
    let reads = 0;
    let late: ReactionOutcome | undefined;
    h.ctx.liveSwitch.reactions = {
      read: async (where) => {
        const answer = await real.read(where);
        // The flip's read (the second): Slack has answered without OA, who approves now and is recorded before the flip.
        if (++reads === 2) late = await h.react(request, OPERATOR_APPROVER);
        return answer;
      },
    };
    expect(await h.react(request, APPROVER_C)).toMatchObject({ kind: 'quorum', switch: { switched: false, status: 'failed' } });
    expect(reads).toBe(2);
    expect(late).toBeDefined();
    expect((await getBotState(h.ctx.db)).mode).toBe('paper');
    const row = await storedRequest(request.id);
    expect(row.status).toBe('failed');
    expect(row.outcome).toMatch(new RegExp(`^an approval is no longer on the request \\(read at the switch\\): ${APPROVER_B} recorded but without :white_check_mark: on the message, 1 of 2 on it\\.`));
    const [record] = await modeHistory(h.ctx, { limit: 1, id: request.id });
    expect(record!.approvals.map((a) => [a.user, a.withdrawnAt])).toEqual([[APPROVER_B, row.decidedAt!.toISOString()], [APPROVER_C, null], [OPERATOR_APPROVER, null]]);
    expect(record!.trail.filter((e) => e.kind === 'vote_withdrawn').map((e) => e.actor)).toEqual([APPROVER_B]);
  });

  it('does not go live on a rejection added to the message during the audit, its event lost', async () => {
    const request = await open(OPERATOR);
    expect(await h.react(request, APPROVER_B)).toMatchObject({ kind: 'counted', approvals: 1 });
    // An approver rejects while the audit runs at the switch; the reaction_added is lost.
    duringTheAudit(request, { emoji: 'rejection', user: OPERATOR_APPROVER, added: true });
    expect(await h.react(request, APPROVER_C)).toMatchObject({ kind: 'quorum', switch: { switched: false, status: 'failed' } });
    expect((await getBotState(h.ctx.db)).mode).toBe('paper');
    const row = await storedRequest(request.id);
    expect(row.status).toBe('failed');
    expect(row.outcome).toMatch(new RegExp(`^a rejection is on the request \\(read at the switch\\): :[a-z_]+: by ${OPERATOR_APPROVER}\\. Not switched: to go live, request it again`));
    const [record] = await modeHistory(h.ctx, { limit: 1, id: request.id });
    expect(record!.trail.find((e) => e.kind === 'failed')?.details).toMatchObject({ seenBy: 'reactions.get', rejectedBy: [OPERATOR_APPROVER] });
  });

  it('does not go live when Slack cannot be read at the switch, and says to request again', async () => {
    const request = await open(OPERATOR);
    await h.react(request, APPROVER_B);
    const snapshot = h.ctx.liveSwitch.snapshot;
    h.ctx.liveSwitch.snapshot = async (...args) => {
      slack.on('reactions.get', () => ({ body: { ok: true, type: 'message', channel: request.slackChannel } }));
      return snapshot(...args);
    };
    expect(await h.react(request, APPROVER_C)).toMatchObject({ kind: 'quorum', switch: { switched: false, status: 'failed' } });
    expect((await getBotState(h.ctx.db)).mode).toBe('paper');
    expect((await storedRequest(request.id)).outcome).toMatch(
      /^could not re-confirm the approvals at the switch: Slack's reactions on the request could not be read \(reactions\.get answered without .*\)\. Not switched: to go live, request it again with \/mode live/,
    );
  });

  it('counts only the approval emoji on the message: a withdrawn approval with other emoji of the same person left on it is gone', async () => {
    const request = await open(OPERATOR);
    expect(await h.react(request, APPROVER_B)).toMatchObject({ kind: 'counted', approvals: 1 });
    const where = { channel: request.slackChannel!, ts: request.slackTs! };
    // B swaps the approval for other emoji; the reaction_removed is lost.
    slack.reactions.apply({ ...where, name: h.ctx.config.APPROVAL_EMOJI, user: APPROVER_B, added: false });
    for (const name of ['eyes', 'heavy_check_mark', 'white_check_mark_2']) slack.reactions.apply({ ...where, name, user: APPROVER_B, added: true });
    expect(await h.react(request, APPROVER_C)).toMatchObject({ kind: 'counted', approvals: 1, gone: [APPROVER_B] });
    expect((await getBotState(h.ctx.db)).mode).toBe('paper');
  });

  it('counts an approval with a skin tone, once however many tones of it are on the message', async () => {
    const request = await open(OPERATOR);
    expect(await h.react(request, APPROVER_B, { emoji: 'white_check_mark::skin-tone-3' })).toMatchObject({ kind: 'counted', approvals: 1 });
    expect(await h.react(request, APPROVER_B, { emoji: 'white_check_mark::skin-tone-5' })).toMatchObject({ kind: 'counted', approvals: 1 });
    expect(await h.react(request, APPROVER_C)).toMatchObject({ kind: 'quorum', switch: { switched: true }, gone: [] });
    expect((await storedRequest(request.id)).outcome).toMatch(new RegExp(`approved by ${APPROVER_B} at .* and ${APPROVER_C} at `));
  });

  it('judges only approvals recorded before the read: one recorded while Slack was being read is neither withdrawn nor counted by it', async () => {
    const request = await open(OPERATOR);
    expect(await h.react(request, APPROVER_B)).toMatchObject({ kind: 'counted', approvals: 1 });
    // B takes the approval back in Slack; the event is lost.
    slack.reactions.apply({ channel: request.slackChannel!, ts: request.slackTs!, name: h.ctx.config.APPROVAL_EMOJI, user: APPROVER_B, added: false });
    const real = h.ctx.liveSwitch.reactions;
    let later: Promise<ReactionOutcome> | undefined;
    let laterReading!: () => void;
    const laterRead = new Promise<void>((resolve) => (laterReading = resolve));
    let firstDone!: () => void;
    const first = new Promise<void>((resolve) => (firstDone = resolve));
    h.ctx.liveSwitch.reactions = {
      read: async (where) => {
        const answer = await real.read(where);
        if (!later) {
          // Slack answered C's read (C alone on it); OA reacts now, and is recorded before C's confirm runs.
          later = h.react(request, OPERATOR_APPROVER);
          await laterRead;
          return answer;
        }
        laterReading();
        await first;
        return answer;
      },
    };
    expect(await h.react(request, APPROVER_C)).toMatchObject({ kind: 'counted', approvals: 1, gone: [APPROVER_B] });
    firstDone();
    expect(await later).toMatchObject({ kind: 'quorum', switch: { switched: true }, gone: [] });
    const votes = await h.ctx.db.select().from(modeChangeVotes).where(eq(modeChangeVotes.requestId, request.id));
    expect(votes.map((v) => [v.slackUser, v.withdrawnAt === null]).sort()).toEqual([[APPROVER_B, false], [APPROVER_C, true], [OPERATOR_APPROVER, true]].sort());
    expect((await getBotState(h.ctx.db)).mode).toBe('live');
  });

  it('does not approve a request that expired while Slack was being read', async () => {
    const request = await open(OPERATOR);
    expect(await h.react(request, APPROVER_B)).toMatchObject({ kind: 'counted', approvals: 1 });
    const real = h.ctx.liveSwitch.reactions;
    h.ctx.liveSwitch.reactions = {
      read: async (where) => {
        const answer = await real.read(where);
        await passModeTime(h.ctx.db, 30 * 60_000); // the slow read outlives the request
        return answer;
      },
    };
    expect(await h.react(request, APPROVER_C)).toMatchObject({ kind: 'expired' });
    const row = await storedRequest(request.id);
    expect(row.status).toBe('expired');
    expect(row.approvedAt).toBeNull();
    expect((await getBotState(h.ctx.db)).mode).toBe('paper');
    expect(slack.callsTo('chat.postMessage').some((c) => c.body.thread_ts === request.slackTs && String(c.body.text).includes('expired'))).toBe(true);
  });
});

describe('rolling back to paper', () => {
  it('switches to paper at once for one operator, records it, and withdraws an open request', async () => {
    const first = await open(OPERATOR);
    await h.react(first, APPROVER_B);
    await h.react(first, APPROVER_C);
    expect((await getBotState(h.ctx.db)).mode).toBe('live');
    const pending = await open(OPERATOR).catch((e: unknown) => e);
    expect(isAppError(pending) && pending.code).toBe('already_live');

    const result = await switchToPaper(h.ctx, h.ctx.liveSwitch, { actor: slackActor(OPERATOR), reason: 'slippage too high' });
    expect(result).toMatchObject({ changed: true, previousMode: 'live' });
    expect((await getBotState(h.ctx.db)).mode).toBe('paper');
    expect(await tradingVenue()).toBe('paper');
    const [record] = await modeHistory(h.ctx, { limit: 1 });
    expect(record).toMatchObject({ fromMode: 'live', toMode: 'paper', status: 'switched', requester: OPERATOR, reason: 'slippage too high' });
    expect(slack.callsTo('chat.postMessage').some((c) => c.body.channel === OPS && String(c.body.text).includes('paper'))).toBe(true);

    const next = await open(OPERATOR);
    const again = await switchToPaper(h.ctx, h.ctx.liveSwitch, { actor: slackActor(OPERATOR) });
    expect(again).toMatchObject({ changed: false, withdrawn: [next.id] });
    expect((await storedRequest(next.id)).status).toBe('withdrawn');
  });

  it('rolls back even when Slack is down', async () => {
    const request = await open(OPERATOR);
    await h.react(request, APPROVER_B);
    await h.react(request, APPROVER_C);
    slack.on('chat.postMessage', () => ({ status: 500, body: { ok: false, error: 'internal_error' } }));
    const result = await switchToPaper(h.ctx, h.ctx.liveSwitch, { actor: slackActor(OPERATOR) });
    expect(result.changed).toBe(true);
    expect((await getBotState(h.ctx.db)).mode).toBe('paper');
  });
});

describe('the sign-off record guards itself', () => {
  it('refuses to mark a live request switched without approval, audit and snapshot', async () => {
    const request = await open(OPERATOR);
    await expect(h.ctx.db.update(modeChangeRequests).set({ status: 'approved' }).where(eq(modeChangeRequests.id, request.id))).resolves.toBeDefined();
    await expect(
      h.ctx.db.update(modeChangeRequests).set({ status: 'switched', decidedAt: new Date() }).where(eq(modeChangeRequests.id, request.id)),
    ).rejects.toThrow();
  });

  it('refuses to reopen a closed request or delete from the record', async () => {
    const request = await open(OPERATOR);
    await h.react(request, APPROVER_B, { emoji: 'x' });
    await expect(h.ctx.db.update(modeChangeRequests).set({ status: 'requested' }).where(eq(modeChangeRequests.id, request.id))).rejects.toThrow();
    await expect(h.ctx.db.delete(modeChangeVotes)).rejects.toThrow();
    await expect(h.ctx.db.delete(modeChangeEvents)).rejects.toThrow();
  });
});
