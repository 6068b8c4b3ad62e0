// The live switch driven the way Slack drives it: signed slash commands and reaction events on the
// real Bolt receiver, a ManualClock for expiry, real PostgreSQL, the fake Kraken behind the real
// Kraken adapter. Only the happy path ever reaches Kraken.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../../src/cli/io.js';
import { runCli } from '../../../src/cli/program.js';
import { ManualClock } from '../../../src/clock.js';
import { modeChangeEvents, modeChangeRequests, modeChangeVotes } from '../../../src/db/schema/index.js';
import { effectiveMode, getBotState, updateBotState } from '../../../src/services/bot-state.js';
import { modeCheck } from '../../../src/services/audit/checks/mode.js';
import { defineCheck } from '../../../src/services/audit/types.js';
import { auditGate } from '../../../src/services/mode/audit-gate.js';
import type { SignOffRecord } from '../../../src/services/mode/sign-off.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { startFakeKraken, type FakeKraken } from '../../support/fake-kraken.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';
import { keepEngineLease, paperMarker, passModeTime, resetModeTables } from '../../support/mode-harness.js';
import { OPS_CHANNEL, startSlackHarness, USERS, type SlackHarness } from '../../support/slack-harness.js';

const APPROVER_3 = 'UAPPROVER3';
const ROBOT = 'UROBOT0001';
let database: TestDatabase;
let kraken: FakeKraken;
let h: SlackHarness;
let clock: ManualClock;
let verdict: 'pass' | 'fail';
let seq = 0;
/** Only the happy path may reach Kraken; every other test ends with the fake Kraken untouched. */
let krakenExpected = false;
/** Stops the stand-in engine's lease renewal. */
let stopEngine: (() => Promise<void>) | undefined;

const controlled = defineCheck({
  id: 'test.controlled',
  title: 'Paper trades',
  checklistSection: 6,
  async run() {
    return verdict === 'pass' ? { status: 'pass', value: '60 (needs 50)', fix: null } : { status: 'fail', value: '2 critical alerts (needs 0)', fix: 'Resolve the critical alerts.' };
  },
});

async function start(env: Record<string, string | undefined> = {}) {
  clock = new ManualClock('2026-03-02T09:00:00Z');
  verdict = 'pass';
  await resetModeTables(database.db);
  // A running engine on the Kraken feed holds the lease and renews it: the live switch refuses any other feed.
  stopEngine = await keepEngineLease(database.db, 'kraken');
  kraken.calls.length = 0;
  h = await startSlackHarness({
    database,
    clock,
    env: {
      IS_LIVE: 'true', KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url,
      SLACK_OPERATORS: `${USERS.operator},${USERS.approver1}`,
      SLACK_APPROVERS: `${USERS.approver1},${USERS.approver2},${APPROVER_3},${ROBOT}`,
      BACKUP_DIR: mkdtempSync(join(tmpdir(), 'ctb-mode-slack-backups-')),
      ...env,
    },
    exchanges: paperMarker(),
    liveSwitch: { gate: auditGate({ checks: [modeCheck, controlled] }) },
  });
  h.fake.on('users.info', (body) => ({ body: { ok: true, user: { id: body.user, is_bot: body.user === ROBOT } } }));
}

async function requestLive(user: string = USERS.operator) {
  const res = await h.slash('/mode', 'live criteria met', { user });
  expect(res.status).toBe(200);
  await h.idle();
  const [row] = await database.db.select().from(modeChangeRequests).where(eq(modeChangeRequests.status, 'requested'));
  expect(row, `no request opened; the bot answered: ${JSON.stringify(h.responses().at(-1))}`).toBeDefined();
  return row;
}

function react(request: { slackChannel: string | null; slackTs: string | null }, user: string, o: { reaction?: string; removed?: boolean; eventTs?: string; eventId?: string; retryNum?: number } = {}) {
  seq += 1;
  return h.event(
    {
      type: o.removed ? 'reaction_removed' : 'reaction_added', user, reaction: o.reaction ?? 'white_check_mark',
      item: { type: 'message', channel: request.slackChannel, ts: request.slackTs }, item_user: 'UBOT0TEST',
      event_ts: o.eventTs ?? `1900000000.${String(seq).padStart(6, '0')}`,
    },
    { ...(o.eventId ? { eventId: o.eventId } : {}), ...(o.retryNum !== undefined ? { retryNum: o.retryNum } : {}) },
  );
}

const mode = async () => (await getBotState(database.db)).mode;
const status = async (id: number) => (await database.db.select().from(modeChangeRequests).where(eq(modeChangeRequests.id, id)))[0]!.status;
const ephemeralTexts = () => h.fake.callsTo('chat.postEphemeral').map((c) => String(c.body.text));

beforeAll(async () => {
  database = await createPostgresTestDb();
  kraken = await startFakeKraken();
});

afterEach(async () => {
  await stopEngine?.();
  stopEngine = undefined;
  await h?.close();
  const expected = krakenExpected;
  krakenExpected = false;
  if (!expected) expect(kraken.calls, 'a test other than the happy path reached Kraken').toEqual([]);
});

afterAll(async () => {
  await kraken.close();
  await database.close();
});

describe('the live switch in Slack', () => {
  it('goes live on two approvers\' reactions, without a restart, and ctb mode history shows the sign-off', async () => {
    krakenExpected = true;
    await start();
    const request = (await requestLive())!;
    const post = h.fake.callsTo('chat.postMessage').find((c) => c.body.channel === OPS_CHANNEL && String(c.body.text).includes(`Request #${request.id}`));
    expect(JSON.stringify(post?.body.blocks)).toContain(`<@${USERS.approver2}>`);
    expect(h.responses().map((r) => JSON.stringify(r)).join()).toContain(`Request #${request.id} is posted`);

    expect((await react(request, USERS.approver1)).status).toBe(200);
    await h.idle();
    expect(await status(request.id)).toBe('requested');
    expect(kraken.calls).toEqual([]);
    expect((await react(request, USERS.approver2)).status).toBe(200);
    await h.idle();
    // The quorum was confirmed on the message itself: its reactions read when the second approval came,
    // and again at the flip, after the audit and the snapshot.
    const read = expect.objectContaining({ channel: request.slackChannel, timestamp: request.slackTs, full: 'true' });
    expect(h.fake.callsTo('reactions.get').map((c) => c.body)).toEqual([read, read]);

    const [closed] = await database.db.select().from(modeChangeRequests).where(eq(modeChangeRequests.id, request.id));
    expect({ status: closed!.status, outcome: closed!.outcome }).toMatchObject({ status: 'switched' });
    const state = await getBotState(h.ctx.db);
    const exchange = h.ctx.exchanges.forMode(effectiveMode(state, h.ctx.config.IS_LIVE));
    expect(exchange.venue).toBe('kraken');
    await exchange.fetchBalances();
    expect(kraken.callsTo('BalanceEx')).toHaveLength(1);
    expect(kraken.orderChangingCalls()).toEqual([]);
    const thread = h.fake.callsTo('chat.postMessage').filter((c) => c.body.thread_ts === request.slackTs).map((c) => JSON.stringify(c.body));
    expect(thread.some((t) => t.includes('Approval 1 of 2'))).toBe(true);
    expect(thread.some((t) => t.includes('Switched to LIVE trading') && t.includes(`<@${USERS.approver1}>`) && t.includes(`<@${USERS.approver2}>`))).toBe(true);

    let out = '';
    const io: CliIo = {
      env: { DATABASE_URL: database.url, LOG_DIR: mkdtempSync(join(tmpdir(), 'ctb-cli-logs-')), LOG_LEVEL: 'warn' },
      cwd: mkdtempSync(join(tmpdir(), 'ctb-cli-')),
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: () => true },
    };
    expect(await runCli(['mode', 'history', '--json', '--id', String(request.id)], io)).toBe(0);
    const [record] = (JSON.parse(out) as { records: SignOffRecord[] }).records;
    expect(record).toMatchObject({
      status: 'switched', requester: USERS.operator, requesterSource: 'slack', reason: 'criteria met',
      message: { channel: request.slackChannel, ts: request.slackTs },
      approvals: [expect.objectContaining({ user: USERS.approver1, withdrawnAt: null }), expect.objectContaining({ user: USERS.approver2, withdrawnAt: null })],
      snapshot: { path: expect.any(String), id: expect.any(String) },
    });
    expect(record!.audit.atSwitch.runId).toBeGreaterThan(record!.audit.atRequest.runId!);
    expect(record!.trail.filter((e) => e.kind === 'vote_added').map((e) => e.details.eventId)).toHaveLength(2);
  }, 120_000); // two audits, a database snapshot and a ctb run: slow on a loaded machine, and nothing here waits on a deadline

  it('does not count the requester\'s own approval', async () => {
    await start();
    const request = (await requestLive(USERS.approver1))!;
    await react(request, USERS.approver1);
    await react(request, USERS.approver2);
    await h.idle();
    expect(await status(request.id)).toBe('requested');
    expect(ephemeralTexts().some((t) => t.includes('the requester never counts'))).toBe(true);
  });

  it('does not count someone who is not an approver, and tells them', async () => {
    await start();
    const request = (await requestLive())!;
    await react(request, USERS.reader);
    await react(request, USERS.approver1);
    await h.idle();
    expect(await status(request.id)).toBe('requested');
    expect(ephemeralTexts().some((t) => t.includes('not an approver'))).toBe(true);
  });

  it('refuses a reaction from someone without the approver role once, at the command door, and trails it once', async () => {
    await start();
    const request = (await requestLive())!;
    const logBefore = (await h.commandLog()).length;
    const ephemeralBefore = ephemeralTexts().length;
    await react(request, USERS.reader);
    await h.idle();
    await react(request, USERS.reader, { removed: true });
    await h.idle();
    const log = (await h.commandLog()).slice(logBefore);
    expect(log).toMatchObject([
      { source: 'slack', actor: USERS.reader, command: 'mode vote', allowed: false, result: 'refused' },
      { source: 'slack', actor: USERS.reader, command: 'mode vote', allowed: false, result: 'refused' },
    ]);
    expect(log).toHaveLength(2);
    const replies = ephemeralTexts().slice(ephemeralBefore);
    expect(replies).toHaveLength(2);
    expect(replies[0]).toContain('you are not an approver (SLACK_APPROVERS). Nothing was done.');
    // The sign-off record never saw them: no vote, no trail entry of theirs.
    expect(await database.db.select().from(modeChangeVotes)).toHaveLength(0);
    const events = await database.db.select().from(modeChangeEvents).where(eq(modeChangeEvents.requestId, request.id));
    expect(events.filter((e) => e.actor === USERS.reader)).toEqual([]);
    // An approver's vote goes through the same door and is trailed once, allowed.
    await react(request, USERS.approver1);
    await h.idle();
    expect((await h.commandLog()).slice(logBefore + 2)).toMatchObject([{ actor: USERS.approver1, command: 'mode vote', allowed: true, result: 'ok' }]);
    // The requester is no approver but may withdraw the request with the rejection reaction.
    await react(request, USERS.operator, { reaction: 'x' });
    await h.idle();
    expect(await status(request.id)).toBe('withdrawn');
  });

  it('does not count a bot, even one listed in SLACK_APPROVERS', async () => {
    await start();
    const request = (await requestLive())!;
    await react(request, ROBOT);
    await react(request, USERS.approver1);
    await h.idle();
    expect(await status(request.id)).toBe('requested');
    const ignored = await database.db.select().from(modeChangeEvents).where(eq(modeChangeEvents.kind, 'vote_ignored'));
    expect(ignored.map((e) => e.details.reason)).toContain('bots never count');
  });

  it('counts one approver once when Slack delivers the reaction again', async () => {
    await start();
    const request = (await requestLive())!;
    await react(request, USERS.approver1, { eventId: 'EvSAME1', eventTs: '1900000100.000001' });
    await react(request, USERS.approver1, { eventId: 'EvSAME1', eventTs: '1900000100.000001', retryNum: 1 });
    await react(request, USERS.approver1, { eventId: 'EvOTHER', eventTs: '1900000100.000001' });
    await h.idle();
    expect(await database.db.select().from(modeChangeVotes)).toHaveLength(1);
    expect(await status(request.id)).toBe('requested');
    expect(await mode()).toBe('paper');
    // /mode status shows the request waiting, with its one standing approval.
    await h.slash('/mode', 'status', { user: USERS.reader });
    await h.idle();
    const reply = h.responses().map((r) => String(r.text)).find((t) => t.includes('Mode: paper'));
    expect(reply).toContain(`open request #${request.id} (1/2 approvals)`);
  });

  it('answers a second approval reaction of one approver as already counted, not as another approval', async () => {
    await start();
    const request = (await requestLive())!;
    await react(request, USERS.approver1);
    await h.idle();
    await react(request, USERS.approver1);
    await h.idle();
    expect(await status(request.id)).toBe('requested');
    const thread = h.fake.callsTo('chat.postMessage').filter((c) => c.body.thread_ts === request.slackTs).map((c) => String(c.body.text));
    expect(thread.filter((t) => t.includes('Approval 1 of 2'))).toHaveLength(1);
    expect(thread).toContain(`[PAPER] ${USERS.approver1}'s approval was already counted (1 of 2)`);
  });

  it('withdraws an approval when the reaction is removed', async () => {
    await start();
    const request = (await requestLive())!;
    await react(request, USERS.approver1);
    await h.idle();
    await react(request, USERS.approver1, { removed: true });
    await h.idle();
    await react(request, USERS.approver2);
    await h.idle();
    expect(await status(request.id)).toBe('requested');
    expect(await mode()).toBe('paper');
    const thread = h.fake.callsTo('chat.postMessage').filter((c) => c.body.thread_ts === request.slackTs).map((c) => String(c.body.text));
    expect(thread.some((t) => t.includes('withdrew their approval'))).toBe(true);
  });

  it('rejects on an approver\'s :x:', async () => {
    await start();
    const request = (await requestLive())!;
    await react(request, USERS.approver1);
    await react(request, APPROVER_3, { reaction: 'x' });
    await h.idle();
    await react(request, USERS.approver2);
    await h.idle();
    expect(await status(request.id)).toBe('rejected');
    expect(await mode()).toBe('paper');
  });

  it('counts nothing after the request expired', async () => {
    await start();
    const request = (await requestLive())!;
    await react(request, USERS.approver1);
    await h.idle();
    await passModeTime(database.db, 31 * 60_000);
    await react(request, USERS.approver2);
    await h.idle();
    expect(await status(request.id)).toBe('expired');
    expect(await mode()).toBe('paper');
  });

  it('fails the request, with the reason in its thread, when the re-audit fails', async () => {
    await start();
    const request = (await requestLive())!;
    await react(request, USERS.approver1);
    await h.idle();
    verdict = 'fail';
    await react(request, USERS.approver2);
    await h.idle();
    expect(await status(request.id)).toBe('failed');
    expect(await mode()).toBe('paper');
    const thread = h.fake.callsTo('chat.postMessage').filter((c) => c.body.thread_ts === request.slackTs).map((c) => JSON.stringify(c.body));
    expect(thread.some((t) => t.includes('failed') && t.includes('Resolve the critical alerts.'))).toBe(true);
  });

  it('refuses /mode live in a process that is not armed, saying how to arm it', async () => {
    await start({ IS_LIVE: 'false' });
    await h.slash('/mode', 'live', { user: USERS.operator });
    await h.idle();
    expect(JSON.stringify(h.responses())).toMatch(/not armed for live trading.*IS_LIVE=true/);
    expect(await database.db.select().from(modeChangeRequests)).toHaveLength(0);
  });

  it('refuses /mode live while the bot is halted', async () => {
    await start();
    await updateBotState(database.db, clock, { halted: true, haltedReason: 'incident 12' });
    await h.slash('/mode', 'live', { user: USERS.operator });
    await h.idle();
    expect(JSON.stringify(h.responses())).toMatch(/halted.*\/mode resume/);
    expect(await database.db.select().from(modeChangeRequests)).toHaveLength(0);
  });

  it('refuses /mode live from someone who is not an operator', async () => {
    await start();
    await h.slash('/mode', 'live', { user: USERS.reader });
    await h.idle();
    expect(await database.db.select().from(modeChangeRequests)).toHaveLength(0);
  });

  it('switches once when two approvals arrive at the same moment', async () => {
    await start();
    const request = (await requestLive())!;
    const [a, b] = await Promise.all([react(request, USERS.approver1), react(request, USERS.approver2)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    await h.idle();
    expect(await status(request.id)).toBe('switched');
    const events = await database.db.select().from(modeChangeEvents).where(eq(modeChangeEvents.requestId, request.id));
    expect(events.filter((e) => e.kind === 'switched')).toHaveLength(1);
  });

  it('ignores a reaction event with a forged signature', async () => {
    await start();
    const request = (await requestLive())!;
    seq += 1;
    const res = await h.event(
      { type: 'reaction_added', user: USERS.approver1, reaction: 'white_check_mark', item: { type: 'message', channel: request.slackChannel, ts: request.slackTs } },
      { signature: 'v0=forged' },
    );
    expect(res.status).toBe(401);
    await h.idle();
    expect(await database.db.select().from(modeChangeVotes)).toHaveLength(0);
  });

  it('/mode paper rolls back at once for one operator', async () => {
    await start();
    await updateBotState(database.db, clock, { mode: 'live' });
    await h.slash('/mode', 'paper slippage', { user: USERS.operator });
    await h.idle();
    expect(await mode()).toBe('paper');
    expect(JSON.stringify(h.responses())).toContain('Switched to paper trading');
    const [row] = await database.db.select().from(modeChangeRequests);
    expect(row).toMatchObject({ fromMode: 'live', toMode: 'paper', status: 'switched', requester: USERS.operator, reason: 'slippage' });
  });
});

describe('the quorum is what Slack shows on the request now', () => {
  const threadTexts = (request: { slackTs: string | null }) =>
    h.fake.callsTo('chat.postMessage').filter((c) => c.body.thread_ts === request.slackTs).map((c) => String(c.body.text));
  const trail = (id: number) => database.db.select().from(modeChangeEvents).where(eq(modeChangeEvents.requestId, id));

  it('does not count an approval withdrawn in Slack whose reaction_removed never arrived, and goes live on the two that are there', async () => {
    await start();
    const request = (await requestLive())!;
    await react(request, USERS.approver2);
    await h.idle();
    // approver2 takes the reaction back; the event never reaches the bot (turned away on every resend).
    h.fake.reactions.apply({ channel: request.slackChannel!, ts: request.slackTs!, name: 'white_check_mark', user: USERS.approver2, added: false });
    await react(request, USERS.approver1);
    await h.idle();

    expect(await status(request.id)).toBe('requested');
    expect(await mode()).toBe('paper');
    const [read] = h.fake.callsTo('reactions.get');
    expect(read?.body).toMatchObject({ channel: request.slackChannel, timestamp: request.slackTs, full: 'true' });
    const votes = await database.db.select().from(modeChangeVotes).where(eq(modeChangeVotes.requestId, request.id));
    expect(votes.find((v) => v.slackUser === USERS.approver2)?.withdrawnAt).not.toBeNull();
    expect(votes.find((v) => v.slackUser === USERS.approver1)?.withdrawnAt).toBeNull();
    expect((await trail(request.id)).filter((e) => e.kind === 'vote_withdrawn').map((e) => ({ actor: e.actor, seenBy: e.details.seenBy })))
      .toEqual([{ actor: USERS.approver2, seenBy: 'reactions.get' }]);
    expect(threadTexts(request)).toContain(`[PAPER] Approval by ${USERS.approver2} withdrawn: their approval reaction is no longer on this request (Slack's reactions, read before counting the quorum)\nApproval 1 of 2: ${USERS.approver1}`);

    // Its late removal changes nothing more; a third approver completes the quorum with the two on the message.
    await react(request, USERS.approver2, { removed: true });
    await react(request, APPROVER_3);
    await h.idle();
    expect(await status(request.id)).toBe('switched');
    expect(await mode()).toBe('live');
    const approved = (await trail(request.id)).find((e) => e.kind === 'approved');
    expect(approved?.details).toEqual({ approvers: [USERS.approver1, APPROVER_3], seenBy: 'reactions.get' });
  }, 60_000);

  it('rejects on an approver\'s :x: the read shows, though its reaction_added never arrived', async () => {
    await start();
    const request = (await requestLive())!;
    await react(request, USERS.approver1);
    await h.idle();
    // APPROVER_3 rejects; the event never reaches the bot (turned away on every resend).
    h.fake.reactions.apply({ channel: request.slackChannel!, ts: request.slackTs!, name: 'x', user: APPROVER_3, added: true });
    await react(request, USERS.approver2);
    await h.idle();

    expect(await status(request.id)).toBe('rejected');
    expect(await mode()).toBe('paper');
    expect(h.fake.callsTo('reactions.get')).toHaveLength(1);
    expect((await trail(request.id)).filter((e) => e.kind === 'rejected' || e.kind === 'approved').map((e) => ({ kind: e.kind, actor: e.actor, seenBy: e.details.seenBy })))
      .toEqual([{ kind: 'rejected', actor: APPROVER_3, seenBy: 'reactions.get' }]);
    expect(threadTexts(request).some((t) => t.includes(`Live change request #${request.id} rejected`))).toBe(true);
  }, 60_000);

  it('withdraws on the requester\'s :x: the read shows, though its reaction_added never arrived', async () => {
    await start();
    const request = (await requestLive())!;
    h.fake.reactions.apply({ channel: request.slackChannel!, ts: request.slackTs!, name: 'x', user: request.requester, added: true });
    await react(request, USERS.approver1);
    await react(request, USERS.approver2);
    await h.idle();

    expect(await status(request.id)).toBe('withdrawn');
    expect(await mode()).toBe('paper');
    expect((await trail(request.id)).filter((e) => e.kind === 'withdrawn').map((e) => ({ actor: e.actor, seenBy: e.details.seenBy })))
      .toEqual([{ actor: request.requester, seenBy: 'reactions.get' }]);
  }, 60_000);

  it('keeps the request pending, and says why in its thread, when Slack\'s reactions cannot be read', async () => {
    await start();
    h.fake.on('reactions.get', () => ({ body: { ok: false, error: 'missing_scope', needed: 'reactions:read', provided: 'commands,chat:write' } }));
    const request = (await requestLive())!;
    await react(request, USERS.approver1);
    await h.idle();
    expect(h.fake.callsTo('reactions.get'), 'one approval makes no quorum: nothing to confirm').toEqual([]);
    await react(request, USERS.approver2);
    await h.idle();

    expect(await status(request.id)).toBe('requested');
    expect(await mode()).toBe('paper');
    const said = threadTexts(request).find((t) => t.startsWith('[PAPER] Quorum not confirmed'));
    expect(said).toMatch(/could not be read \(reactions\.get failed: missing_scope — the bot token lacks reactions:read.*\)\. Not approved: the request stays pending with 2 of 2 recorded approvals/);
    expect(said).toContain('To try again once Slack answers (after the wait it named, if rate limited): an approver removes and re-adds their approval reaction.');
    expect((await trail(request.id)).filter((e) => e.kind === 'quorum_unconfirmed')).toHaveLength(1);
    expect((await trail(request.id)).some((e) => e.kind === 'approved')).toBe(false);

    // Readable again: as the thread says, an approver removes and re-adds the reaction; the re-add reads again.
    h.fake.on('reactions.get', h.fake.reactions.responder);
    await react(request, USERS.approver2, { removed: true });
    await h.idle();
    expect(await status(request.id)).toBe('requested');
    await react(request, USERS.approver2);
    await h.idle();
    expect(await status(request.id)).toBe('switched');
    expect(await mode()).toBe('live');
  }, 60_000);
});
