import { ALONE_BY_CONSTRUCTION } from '../../../src/engine/ledger/intent-lease.js';
import { and, eq, sql } from 'drizzle-orm';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { execute } from '../../../src/db/client.js';
import { sanitizeText } from '../../../src/alerts/sanitize.js';
import { botState, engineRequests, incidentChecklistItems, incidents } from '../../../src/db/schema/index.js';
import { getBotState } from '../../../src/services/bot-state.js';
import { currentIncident, doChecklistItem } from '../../../src/services/kill/incident.js';
import { executeKill } from '../../../src/services/kill/kill.js';
import { acquireLease } from '../../../src/db/queries/engine-lease.js';
import { renderChecklist, renderKill } from '../../../src/cli/render/kill.js';
import { claimEngineRequest } from '../../../src/services/engine-requests/store.js';
import { renderIncident as renderSlackIncident, renderKillReply } from '../../../src/slack/views/kill.js';
import { addPendingKill, pendingKillPath, readPendingKills } from '../../../src/services/kill/pending-kill.js';
import { replayPendingKills } from '../../../src/services/kill/replay-pending.js';
import { persistKill } from '../../../src/services/kill/persist-kill.js';
import { isHaltLatched, type KillTime } from '../../../src/services/kill/runtime.js';
import { markIntent, writeIntent } from '../../../src/engine/ledger/intents.js';
import { cancelAllHandler } from '../../../src/services/engine-requests/handlers.js';
import { cancelOnHalt } from '../../../src/services/kill/halt-cancel.js';
import type { EngineRequest } from '../../../src/db/schema/index.js';
import { ExchangeError } from '../../../src/exchange/errors.js';
import { checklistFollowUp } from '../../../src/services/kill/checklist-records.js';
import { startRequestRunner } from '../../../src/services/engine-requests/runner.js';
import { killTestContext, recordingDatabase, useKillTestDb, type KillTestContext } from '../../support/kill-context.js';
import { ageFollowUps } from '../../support/live-engine.js';
import { openOrder } from '../../support/recording-exchange.js';
import { startStallProxy, type StallProxy } from '../../support/stall-proxy.js';
import { recordLiveOrderEver } from '../../support/live-order-ever.js';
import { until } from '../../support/held-kraken.js';

const operator = { id: 'U0OPERATOR', source: 'slack' as const };
/** The engine lease of a running bot with the Kraken key (worker-1:42), written for the tests whose runner plays it. */
const liveKeyedBot = { holderId: 'worker-1', host: 'worker-1', pid: 42, role: 'worker', feed: 'kraken', armed: false, hasKrakenKeys: true };

const kill = useKillTestDb(['incident_checklist_items', 'incidents', 'bot_state', 'audit_runs', 'order_intents', 'engine_requests', 'engine_lease']);

async function setup(opts: { armed?: boolean; keys?: boolean; env?: Record<string, string>; killTime?: KillTime } = {}): Promise<KillTestContext> {
  const events: string[] = [];
  const database = recordingDatabase(kill.db().url, events);
  kill.track(database);
  const t = await killTestContext({ database, events, ...opts });
  kill.track(t.ctx);
  return t;
}

/**
 * A kill that cannot confirm in time: Kraken (armed, with the key) answers nothing usable and the
 * confirmation budget is 1 ms, so it hands a follow-up on. `beforeKill` runs first (e.g. a lease).
 */
async function unconfirmedKill(reason: string, beforeKill: () => Promise<unknown> = async () => {}) {
  const t = await setup({ armed: true, env: { KILL_CONFIRM_ATTEMPTS: '1', KILL_CONFIRM_WAIT: '1ms' } });
  await beforeKill();
  t.kraken.open.push(openOrder('K1'));
  t.kraken.mode = 'network_error';
  const result = await executeKill(t.ctx, { actor: operator, reason, trigger: 'manual' });
  const requestId = result.followUp && 'requestId' in result.followUp ? result.followUp.requestId : NaN;
  return { t, result, requestId };
}

/** The messages of every line `ctx`'s logger writes at error level from now on. */
function errorLines(t: KillTestContext): string[] {
  const lines: string[] = [];
  vi.spyOn(t.ctx.logger, 'error').mockImplementation(((...args: unknown[]) => void lines.push(String(args.find((a) => typeof a === 'string') ?? ''))) as never);
  return lines;
}

const COULD_NOT_CONFIRM = 'kill could not confirm zero open orders';

// errorLines' spies go with their test (this file shares its worker with other files).
afterEach(() => {
  vi.restoreAllMocks();
});

describe('kill', () => {
  it('cancels on Kraken and paper before its first database query, then halts in paper with an incident', async () => {
    const t = await setup({ armed: true });
    t.kraken.open.push(openOrder('K1'), openOrder('K2'));
    t.paper.open.push(openOrder('P1'));
    const result = await executeKill(t.ctx, { actor: operator, reason: 'runaway strategy', trigger: 'manual' });

    const firstDb = t.events.findIndex((e) => e.startsWith('db:'));
    expect(firstDb).toBeGreaterThan(-1);
    expect(t.events.indexOf('kraken:cancelAllOrders')).toBeGreaterThan(-1);
    expect(t.events.indexOf('kraken:cancelAllOrders')).toBeLessThan(firstDb);
    expect(t.events.indexOf('paper:cancelAllOrders')).toBeLessThan(firstDb);
    expect(t.events.indexOf('kraken:fetchOpenOrders')).toBeLessThan(firstDb);

    expect(result.ok).toBe(true);
    expect(result.state).toBe('written');
    expect(result.cancel.venues.map((v) => [v.venue, v.canceled, v.confirmed])).toEqual([['kraken', 2, true], ['paper', 1, true]]);
    const state = await getBotState(kill.db().db);
    expect(state).toMatchObject({ halted: true, mode: 'paper', haltedReason: 'runaway strategy', haltedBy: 'U0OPERATOR' });
    expect(state.version).toBeGreaterThan(0);
    expect(t.ctx.jobs.tradingPaused).toMatch(/^kill: /);
    expect(isHaltLatched(t.ctx)).toBe(true);
    expect(result.checklist.map((c) => c.item)).toEqual(['cancel_orders', 'close_positions', 'reconcile_ledger', 'notify_stakeholders']);
    // The operator's line says what the database holds; it claims no paused jobs (none places orders).
    expect(renderKill(result)).toMatch(/^Halted in paper mode: the halt is recorded in the database\.$/m);
    expect(renderKill(result)).not.toMatch(/jobs paused/);
    expect(t.alerts).toEqual([expect.objectContaining({ source: 'kill', severity: 'critical', title: expect.stringMatching(/every open order cancelled/) })]);
  });

  it('when armed, cancels on Kraken even though the bot is in paper mode', async () => {
    const t = await setup({ armed: true });
    await kill.db().db.insert(botState).values({ id: 1, mode: 'paper' });
    t.kraken.open.push(openOrder('MANUAL1'));
    await executeKill(t.ctx, { actor: operator, reason: 'hand-placed order', trigger: 'manual' });
    expect(t.kraken.calls).toContain('cancelAllOrders');
    expect(t.kraken.open).toEqual([]);
  });

  it('unarmed but holding the Kraken key, cancels on Kraken and confirms (cancelling needs no arming)', async () => {
    const t = await setup({ keys: true });
    t.kraken.open.push(openOrder('K1'), openOrder('K2'));
    t.paper.open.push(openOrder('P1'));
    const result = await executeKill(t.ctx, { actor: operator, reason: '', trigger: 'manual' });
    expect(t.kraken.calls.slice(0, 2)).toEqual(['cancelAllOrders', 'fetchOpenOrders']);
    expect(t.kraken.open).toEqual([]);
    expect(result).toMatchObject({ ok: true, notice: null, krakenAccess: 'direct' });
    expect(result.cancel.venues.map((v) => [v.venue, v.canceled, v.confirmed])).toEqual([['kraken', 2, true], ['paper', 1, true]]);
    expect((await getBotState(kill.db().db)).haltedReason).toBe('no reason given');
  });

  it('without a Kraken key, hands the cancel over, and when nobody takes it says it is queued for the running bot and that orders may remain', async () => {
    const t = await setup({ env: { KILL_HANDOFF_TIMEOUT: '600ms' } });
    // A bot with the key holds the engine lease but never answers (hung, or its runner stopped).
    await acquireLease(kill.db().db, liveKeyedBot, 15_000);
    t.paper.open.push(openOrder('P1'));
    const result = await executeKill(t.ctx, { actor: operator, reason: 'no key here', trigger: 'manual' });
    expect(t.kraken.calls).toEqual([]);
    // Nobody took the cancel: the kill never says it was handed to a bot, only that it is queued for the one the lease names.
    expect(result.krakenAccess).toBe('queued');
    expect(result.notice).toMatch(/^This process has no Kraken key: the cancel on Kraken is queued in the database for the running bot that has it \(worker-1:42, request #\d+\), which has not taken it yet; until it does, orders may stay open on Kraken\.$/);
    expect(result.ok).toBe(false);
    const kraken = result.cancel.venues.find((v) => v.venue === 'kraken')!;
    // The venue says what the notice says (--json included): queued for that bot as the follow-up's request, not yet taken.
    const followUp = result.followUp as { requestId: number };
    expect(kraken).toMatchObject({ confirmed: false, canceled: null, handedOff: { requestId: followUp.requestId, by: null, status: 'queued', queuedFor: 'worker-1:42' } });
    expect(kraken.errors.at(-1)).toMatch(/no running bot with the key took the cancel within 0.6 s .*orders may remain open on Kraken/);
    expect(renderKill(result)).toMatch(new RegExp(`^ {2}kraken \\(queued for the running bot worker-1:42, not yet taken, request #${followUp.requestId}\\): no cancel sent from this process, NOT CONFIRMED`, 'm'));
    expect(result.notice).toContain(`request #${followUp.requestId})`);
    expect(renderKill(result)).not.toMatch(/by the running bot/);
    // Withdrawn, so a bot started later does not act on a stale cancel.
    // Two requests, read in the order written (after updates a table need not return its rows so):
    // the handed-over cancel, withdrawn, then the follow-up that stays queued for the bot with the key.
    const requests = await kill.db().db.select().from(engineRequests).orderBy(engineRequests.id);
    expect(requests.map((r) => [r.id === followUp.requestId, r.kind, r.status])).toEqual([[false, 'cancel_all', 'failed'], [true, 'cancel_all', 'pending']]);
    const request = requests[0];
    expect(request).toMatchObject({ kind: 'cancel_all', status: 'failed', error: expect.stringMatching(/no process with a Kraken key answered/) });
    // It told the bot how long it would still wait, so the bot's rounds fit in that wait.
    expect(request!.params['answerWithinMs']).toBeGreaterThan(0);
    expect(request!.params['answerWithinMs']).toBeLessThanOrEqual(600);
    expect((await getBotState(kill.db().db)).halted).toBe(true);
    expect(t.alerts[0]?.title).toMatch(/could not be confirmed/);
  });

  it('without a Kraken key, no running bot with it and no live order ever in the ledger: says nothing was sent to Kraken and queues nothing', async () => {
    const t = await setup({ env: { KILL_HANDOFF_TIMEOUT: '10s' } });
    t.paper.open.push(openOrder('P1'));
    const result = await executeKill(t.ctx, { actor: operator, reason: 'paper only', trigger: 'manual' });
    expect(result).toMatchObject({ ok: true, krakenAccess: 'never_live', state: 'written' });
    expect(result.notice).toBe('No Kraken key here, and no bot with the key is running (no engine running): nothing was sent to Kraken. This database records no use of Kraken ever (no live order or live mode, no cancel there, no engine that took the lease armed or with the key), so there is nothing on Kraken to cancel from this bot.');
    expect(result.cancel.venues.map((v) => v.venue)).toEqual(['paper']);
    expect(result.followUp).toBeUndefined();
    expect(await kill.db().db.select().from(engineRequests)).toEqual([]);
    // Paper had an order and cancelled it: that much was cancelled, and is said so.
    expect(renderKill(result)).toContain('\nKILLED — every open order cancelled.\n');
  });

  it('a never-live keyless kill with nothing open anywhere it asked: its headline, alert title and Slack reply say no open orders, paper confirmed, nothing of this bot on Kraken — never "every open order cancelled"', async () => {
    const t = await setup({ env: { KILL_HANDOFF_TIMEOUT: '10s' } });
    const result = await executeKill(t.ctx, { actor: operator, reason: 'nothing open', trigger: 'manual' });
    expect(result).toMatchObject({ ok: true, krakenAccess: 'never_live', state: 'written' });
    const lines = renderKill(result).split('\n');
    expect(lines[1]).toBe('KILLED — no open orders (paper confirmed; nothing of this bot on Kraken).');
    expect(lines[2]).toBe('  paper: 0 cancelled, none open (confirmed)');
    expect(t.alerts.map((a) => a.title)).toEqual(['Kill switch: trading halted, no open orders (paper confirmed; nothing of this bot on Kraken)']);
    expect(renderKillReply(result).text).toBe(`${result.notice} Killed: no open orders (paper confirmed; nothing of this bot on Kraken), trading halted, switched to paper.`);
    expect(JSON.stringify([lines, t.alerts, renderKillReply(result)])).not.toMatch(/every open order cancelled/);
  });

  it('without a Kraken key and no running bot with the key in the engine lease: says at once that orders may remain, without waiting for an answer nobody would give', async () => {
    const t = await setup({ env: { KILL_HANDOFF_TIMEOUT: '10s' } });
    // A ledger with a live order: whether any of it is still on Kraken cannot be told without the key.
    await recordLiveOrderEver(kill.db().db);
    t.paper.open.push(openOrder('P1'));
    const started = performance.now();
    const result = await executeKill(t.ctx, { actor: operator, reason: 'no bot running', trigger: 'manual' });
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(result).toMatchObject({ ok: false, krakenAccess: 'queued', state: 'written' });
    const kraken = result.cancel.venues.find((v) => v.venue === 'kraken')!;
    const followUp = result.followUp as { requestId: number };
    expect(kraken).toMatchObject({ confirmed: false, canceled: null, handedOff: { requestId: followUp.requestId, by: null, status: 'queued', queuedFor: null } });
    expect(kraken.errors.at(-1)).toMatch(/no bot with the key is running \(no engine running\).*orders may remain open on Kraken/);
    expect(renderKill(result)).toMatch(new RegExp(`^ {2}kraken \\(queued for a bot with the key, not yet taken, request #${followUp.requestId}\\): no cancel sent from this process, NOT CONFIRMED`, 'm'));
    expect(JSON.stringify(renderKillReply(result).blocks)).toContain('*kraken* (queued for a bot with the key, not yet taken): no cancel sent from here');
    // Said first, in the terminal and on Slack alike: queued for a bot that starts, how long it waits, and that orders may stay open.
    const queued = /^This process has no Kraken key and no bot with the key is running \(no engine running\): the cancel on Kraken is queued in the database \(request #\d+\) and waits up to 5 min for one to take it; until one does, orders may stay open on Kraken\./;
    expect(result.notice).toMatch(queued);
    expect(renderKill(result).split('\n')[0]).toMatch(queued);
    expect(renderKillReply(result).text).toMatch(queued);
    for (const text of [result.notice!, renderKill(result), JSON.stringify(renderKillReply(result))]) expect(text).not.toMatch(/handed to the running bot|by the running bot/);
    // The halt is recorded, and the only request is the follow-up a bot that starts later picks up.
    expect((await getBotState(kill.db().db)).halted).toBe(true);
    expect(result.followUp).toMatchObject({ runningBot: null, botKnown: true });
    const requests = await kill.db().db.select().from(engineRequests);
    expect(requests).toEqual([expect.objectContaining({ kind: 'cancel_all', status: 'pending', checklistItem: 'cancel_orders' })]);
  });

  it('the incident\'s cancel item says what its queued request stands at now, in the terminal, Slack and --json alike: not yet taken (and whether a bot with the key runs), then taken by the bot that claimed it', async () => {
    const t = await setup({ env: { KILL_HANDOFF_TIMEOUT: '10s' } });
    await recordLiveOrderEver(kill.db().db);
    const result = await executeKill(t.ctx, { actor: operator, reason: 'no bot running', trigger: 'manual' });
    const requestId = (result.followUp as { requestId: number }).requestId;
    const shown = async () => {
      const view = (await currentIncident(t.ctx))!;
      const item = view.items.find((i) => i.item === 'cancel_orders')!;
      const terminal = renderChecklist(view).split('\n').find((l) => l.includes('cancel_orders'))!;
      const slack = JSON.stringify(renderSlackIncident(view.incident, view.items).blocks);
      return { item, terminal, slack };
    };
    const queued = await shown();
    expect(queued.item.waiting).toMatchObject({ requestId, takenBy: null, runningBot: null, botKnown: true, engine: 'no engine running' });
    expect(queued.item.waiting!.text).toBe(`queued in the database for a bot with the Kraken key (request #${requestId}), not yet taken: no bot with the key is running (no engine running); until one takes it, orders may stay open on Kraken`);
    expect(queued.terminal).toContain(`PENDING: ${queued.item.waiting!.text}`);
    expect(queued.slack).toContain(`*pending*: ${queued.item.waiting!.text}`);
    for (const text of [queued.terminal, queued.slack]) expect(text).not.toMatch(/handed to the engine's process/);

    // A bot with the key starts: still not taken, and the item names it.
    await acquireLease(kill.db().db, liveKeyedBot, 15_000);
    expect((await shown()).item.waiting!.text).toBe(`queued in the database for a bot with the Kraken key (request #${requestId}), not yet taken; the running bot with the key (worker-1:42) has not taken it yet`);

    // It claims the request: from then on the item says which bot took it.
    expect(await claimEngineRequest(kill.db().db, 'worker-1:42:abc', ['cancel_all'])).toMatchObject({ id: requestId });
    const taken = await shown();
    expect(taken.item.waiting).toMatchObject({ requestId, takenBy: 'worker-1:42:abc' });
    expect(taken.terminal).toContain(`PENDING: taken by worker-1:42:abc (request #${requestId})`);
    expect(taken.slack).toContain(`*pending*: taken by worker-1:42:abc (request #${requestId})`);
    expect(taken.terminal).not.toMatch(/not yet taken/);
  });

  it('without a Kraken key, the process that has it cancels and the kill reports what Kraken cancelled', async () => {
    const t = await setup({ env: { KILL_HANDOFF_TIMEOUT: '5s' } });
    const holder = await setup({ keys: true });
    await acquireLease(kill.db().db, liveKeyedBot, 15_000);
    holder.kraken.open.push(openOrder('K1'), openOrder('K2'));
    const runner = startRequestRunner(holder.ctx, { holder: 'worker-1:42', handlers: { cancel_all: cancelAllHandler(holder.ctx) }, pollMs: 20 });
    try {
      const result = await executeKill(t.ctx, { actor: operator, reason: 'handed over', trigger: 'manual' });
      expect(holder.kraken.open).toEqual([]);
      expect(result.ok).toBe(true);
      expect(result.cancel.venues.find((v) => v.venue === 'kraken')).toMatchObject({
        canceled: 2, confirmed: true, handedOff: { by: 'worker-1:42', status: 'done' },
      });
      expect(result.krakenAccess).toBe('handed_off');
      expect(result.notice).toMatch(/^This process has no Kraken key: the cancel on Kraken was handed to the running bot that has it \(worker-1:42, request #\d+\)\.$/);
      expect(renderKillReply(result).text).toBe(`${result.notice} Killed: every open order cancelled, trading halted, switched to paper.`);
    } finally {
      await runner.stop();
    }
  });

  it("without a Kraken key: the shell's first round could not confirm paper, its later one and the bot's cancel confirmed — no line says the kill could not confirm", async () => {
    const t = await setup({ env: { KILL_HANDOFF_TIMEOUT: '5s', KILL_CONFIRM_ATTEMPTS: '1', KILL_CONFIRM_WAIT: '1ms' } });
    const holder = await setup({ keys: true });
    await acquireLease(kill.db().db, liveKeyedBot, 15_000);
    holder.kraken.open.push(openOrder('K1'));
    t.paper.open.push(openOrder('P1'));
    // Paper's first read of its open orders fails; the later round's answers.
    const read = t.paper.fetchOpenOrders.bind(t.paper);
    let reads = 0;
    t.paper.fetchOpenOrders = async () => (++reads === 1 ? Promise.reject(new Error('paper: database busy')) : read());
    const shellLines = errorLines(t);
    const botLines = errorLines(holder);
    const runner = startRequestRunner(holder.ctx, { holder: 'worker-1:42', handlers: { cancel_all: cancelAllHandler(holder.ctx) }, pollMs: 20 });
    try {
      const result = await executeKill(t.ctx, { actor: operator, reason: 'handed over', trigger: 'manual' });
      expect(result.ok, JSON.stringify(result.cancel)).toBe(true);
      expect(result.cancel.venues.map((v) => [v.venue, v.confirmed])).toEqual([['paper', true], ['kraken', true]]);
      expect(reads).toBe(2);
      expect(shellLines).not.toContain(COULD_NOT_CONFIRM);
      expect(botLines).not.toContain(COULD_NOT_CONFIRM);
      expect(t.alerts.map((a) => a.title)).toEqual(['Kill switch: trading halted, every open order cancelled']);
    } finally {
      await runner.stop();
    }
  });

  describe("a handed-over cancel and the bot's own halt cancel", () => {
    /**
     * The bot with the key learnt of the kill's halt: its halt cancel is under way (held at
     * CancelAll) when the kill's hand-over is taken. `confirmFirst`: the halt cancel confirms before
     * the hand-over is taken. Once it has answered, `thenKraken` changes what Kraken does.
     */
    async function handOverWhileHaltCancels(thenKraken: (k: KillTestContext['kraken']) => void, confirmFirst = false, onHolder: (h: KillTestContext) => void = () => {}) {
      const holder = await setup({ keys: true, env: { KILL_CONFIRM_ATTEMPTS: '2', KILL_CONFIRM_WAIT: '1ms' } });
      onHolder(holder);
      holder.kraken.open.push(openOrder('K1'));
      const killStartedAt = new Date(Date.now() - 1_000).toISOString();
      let release = () => {};
      if (!confirmFirst) holder.kraken.hold = new Promise<void>((r) => (release = r));
      const halt = cancelOnHalt(holder.ctx, 'killed from a shell');
      void halt.then(() => thenKraken(holder.kraken));
      if (confirmFirst) {
        await halt;
        await new Promise((r) => setTimeout(r, 5));
      }
      const request = { id: 7, kind: 'cancel_all', requestedAt: holder.clock.now(), requestedBy: operator.id, incidentId: null, params: { killId: 'k-1', killStartedAt } } as unknown as EngineRequest;
      const handling = cancelAllHandler(holder.ctx)(request);
      await new Promise((r) => setTimeout(r, 5));
      holder.kraken.hold = null;
      release();
      expect((await halt)?.confirmed).toBe(true);
      return handling;
    }

    it('a recheck that merely fails to read does not undo the confirmation the halt cancel made after the hand-over was taken', async () => {
      let lines: string[] = [];
      const result = await handOverWhileHaltCancels((k) => void (k.mode = 'network_error'), false, (holder) => void (lines = errorLines(holder)));
      // Confirmed, merged: no line says the kill could not confirm.
      expect(lines).not.toContain(COULD_NOT_CONFIRM);
      expect(result.ok, result.summary).toBe(true);
      // The recheck's CancelAlls got no answer (they may have reached Kraken): their count is not known, the halt cancel's is a lower bound.
      expect(result.summary).toMatch(/^Kraken: at least 1 cancelled, none open \(confirmed\); how many cancels #2, #3 cancelled is unknown \(their answers were lost\)\. Kraken said so at \S+Z; a recheck after it could not read the open orders \(open-orders query \(attempt 2\): .*unreachable/);
      expect(result.details?.['report']).toMatchObject({ confirmed: true, survivors: [] });
    });

    it('a recheck that shows an open order overrides it', async () => {
      let lines: string[] = [];
      const result = await handOverWhileHaltCancels((k) => {
        k.open.push(openOrder('LATE'));
        k.sticky.add('LATE');
      }, false, (holder) => void (lines = errorLines(holder)));
      expect(result.ok).toBe(false);
      // Not confirmed, merged: said once.
      expect(lines.filter((l) => l === COULD_NOT_CONFIRM)).toHaveLength(1);
      expect(result.summary).toMatch(/NOT confirmed after 3 tries \(1 still open\)/);
    });

    it("counts the halt cancel that started after the hand-over was taken and reached Kraken first: the orders it cancelled are the kill's, never 0", async () => {
      const holder = await setup({ keys: true, env: { KILL_CONFIRM_ATTEMPTS: '2', KILL_CONFIRM_WAIT: '1ms' } });
      holder.kraken.open.push(openOrder('K1'), openOrder('K2'));
      const killStartedAt = new Date(Date.now() - 1_000).toISOString();
      // The hand-over is taken before the bot learns of the halt; the halt's CancelAll is answered
      // before the hand-over's (its first CancelAll waits for the halt cancel to finish).
      const original = holder.kraken.cancelAllOrders.bind(holder.kraken);
      let haltStarted = false;
      holder.kraken.cancelAllOrders = async () => {
        if (!haltStarted) {
          haltStarted = true;
          expect(await cancelOnHalt(holder.ctx, 'killed from a shell')).toMatchObject({ canceled: 2, confirmed: true });
        }
        return original();
      };
      const request = { id: 9, kind: 'cancel_all', requestedAt: holder.clock.now(), requestedBy: operator.id, incidentId: null, params: { killId: 'k-3', killStartedAt } } as unknown as EngineRequest;
      const result = await cancelAllHandler(holder.ctx)(request);
      expect(holder.kraken.open).toEqual([]);
      expect(result.ok, result.summary).toBe(true);
      expect(result.summary).toBe('Kraken: 2 cancelled, none open (confirmed).');
      expect(result.details?.['report']).toMatchObject({ canceled: 2, confirmed: true, survivors: [] });
    });

    it('a handed-over cancel whose first CancelAll was carried out but its answer lost says how many it cancelled is unknown, never 0', async () => {
      const holder = await setup({ keys: true, env: { KILL_CONFIRM_ATTEMPTS: '2', KILL_CONFIRM_WAIT: '1ms' } });
      holder.kraken.open.push(openOrder('K1'));
      // Kraken cancels K1, and the answer is lost on its way back.
      const original = holder.kraken.cancelAllOrders.bind(holder.kraken);
      let lost = false;
      holder.kraken.cancelAllOrders = async () => {
        const answer = await original();
        if (lost) return answer;
        lost = true;
        throw new ExchangeError('retryable', 'outcome_unknown', 'Kraken CancelAll: the answer could not be read; whether it took effect is unknown.');
      };
      const request = { id: 10, kind: 'cancel_all', requestedAt: holder.clock.now(), requestedBy: operator.id, incidentId: null, params: { killId: 'k-4' } } as unknown as EngineRequest;
      const result = await cancelAllHandler(holder.ctx)(request);
      expect(holder.kraken.open).toEqual([]);
      expect(result.ok, result.summary).toBe(true);
      expect(result.summary).toBe('Kraken: none open (confirmed); how many the first cancel cancelled is unknown (its answer was lost).');
    });

    it('a confirmation made before the hand-over was taken (maybe before the fence) is not enough when the recheck fails', async () => {
      const result = await handOverWhileHaltCancels((k) => void (k.mode = 'network_error'), true);
      expect(result.ok).toBe(false);
      expect(result.summary).toMatch(/NOT confirmed/);
    });
  });

  it("a handed-over cancel keeps Kraken's first error of each kind, not only the last six", async () => {
    // Its pauses between the eight rounds (5 s in all) pass on a clock of the test's own.
    let now = 0;
    const killTime: KillTime = { now: () => now, sleep: async (ms) => void (now += ms) };
    const holder = await setup({ keys: true, env: { KILL_CONFIRM_ATTEMPTS: '8' }, killTime });
    let reads = 0;
    holder.kraken.fetchOpenOrders = async () => {
      reads += 1;
      throw reads === 1 ? new ExchangeError('retryable', 'unavailable', 'EService:Unavailable') : new ExchangeError('retryable', 'rate_limited', 'EAPI:Rate limit exceeded');
    };
    const request = { id: 8, kind: 'cancel_all', requestedAt: holder.clock.now(), requestedBy: operator.id, incidentId: null, params: { killId: 'k-2' } } as unknown as EngineRequest;
    const result = await cancelAllHandler(holder.ctx)(request);
    const errors = (result.details?.['report'] as { errors: string[] }).errors;
    expect(errors[0]).toMatch(/^open-orders query \(attempt 1\): .*EService:Unavailable/);
    // The first rate limit (attempt 2) is the first of its kind; then the last six (attempts 3–8).
    expect(errors).toHaveLength(8);
    expect(errors.at(-1)).toMatch(/^open-orders query \(attempt 8\): .*EAPI:Rate limit exceeded/);
  });

  it('reports an order that survives every cancel after the bounded retries, and alerts about it', async () => {
    // Three rounds and no more time (KILL_CONFIRM_WAIT 1 ms): counted here; the rounds past them
    // until the confirmation budget runs out are tested beside this one.
    const t = await setup({ armed: true, env: { KILL_CONFIRM_ATTEMPTS: '3', KILL_CONFIRM_WAIT: '1ms' } });
    t.kraken.open.push(openOrder('STUCK'), openOrder('K2'));
    t.kraken.sticky.add('STUCK');
    const result = await executeKill(t.ctx, { actor: operator, reason: 'x', trigger: 'manual' });
    const kraken = result.cancel.venues.find((v) => v.venue === 'kraken')!;
    // Three rounds at once, three more after the halt is written: K2's cancel counted once.
    expect(kraken).toMatchObject({ confirmed: false, attempts: 6, canceled: 1 });
    expect(kraken.survivors.map((s) => s.exchangeOrderId)).toEqual(['STUCK']);
    expect(t.kraken.calls.filter((c) => c === 'cancelAllOrders')).toHaveLength(6);
    expect(result.ok).toBe(false);
    expect(result.state).toBe('written');
    expect(t.alerts[0]?.title).toMatch(/could not be confirmed/);
    expect(t.alerts[0]?.details?.['survivors']).toEqual([expect.objectContaining({ venue: 'kraken', exchangeOrderId: 'STUCK' })]);
  });

  it('says once, after all its rounds, that it could not confirm a venue — not once for each part of the kill', async () => {
    const t = await setup({ armed: true, env: { KILL_CONFIRM_ATTEMPTS: '1', KILL_CONFIRM_WAIT: '1ms' } });
    t.kraken.open.push(openOrder('STUCK'));
    t.kraken.sticky.add('STUCK');
    const lines = errorLines(t);
    const result = await executeKill(t.ctx, { actor: operator, reason: 'x', trigger: 'manual' });
    const kraken = result.cancel.venues.find((v) => v.venue === 'kraken')!;
    // Rounds before and after the wait for orders on their way, merged.
    expect(kraken.confirmed).toBe(false);
    expect(kraken.attempts).toBeGreaterThan(1);
    expect(lines.filter((l) => l === COULD_NOT_CONFIRM)).toHaveLength(1);
  });

  it('keeps cancelling and re-querying past its rounds while Kraken answers nothing usable, and confirms once Kraken does (within KILL_CONFIRM_WAIT)', async () => {
    // Kraken is reachable but every call fails for 2.5 s (slow, 5xx, a nonce refused because another
    // process signs with the same key): three quick rounds before and after the halt end in about a
    // second, so a kill that stopped at KILL_CONFIRM_ATTEMPTS answered "could not be confirmed".
    // The kill's rounds run on a clock of the test's own (its pauses pass at once); Kraken answers again
    // once 2.5 s of it have passed.
    let now = 0;
    let kraken!: KillTestContext['kraken'];
    const killTime: KillTime = {
      now: () => now,
      sleep: async (ms) => {
        now += ms;
        if (now >= 2_500) kraken.mode = 'ok';
      },
    };
    const t = await setup({ armed: true, env: { KILL_CONFIRM_ATTEMPTS: '3', KILL_CONFIRM_WAIT: '10s' }, killTime });
    kraken = t.kraken;
    t.kraken.open.push(openOrder('K1'));
    t.kraken.mode = 'network_error';
    const result = await executeKill(t.ctx, { actor: operator, reason: 'flaky kraken', trigger: 'manual' });
    const venue = result.cancel.venues.find((v) => v.venue === 'kraken')!;
    expect(venue, JSON.stringify(venue)).toMatchObject({ confirmed: true, canceled: 1, survivors: [] });
    expect(venue.attempts).toBeGreaterThan(3);
    expect(result.ok).toBe(true);
    expect(t.kraken.open).toEqual([]);
    // Confirmed past 2.5 s, within KILL_CONFIRM_WAIT, on the kill's clock.
    expect(now).toBeGreaterThanOrEqual(2_500);
    expect(now).toBeLessThan(10_000);
    expect(t.alerts[0]?.title).toMatch(/every open order cancelled/);
  });

  it('not confirmed within KILL_CONFIRM_WAIT: the cancel item shows pending, the running bot goes on confirming, and the item and the alert then tell the true outcome', async () => {
    const { t, result, requestId } = await unconfirmedKill('kraken down for a while');
    expect(result.ok).toBe(false);
    // No engine holds the lease here: the reply says no bot with the key is running, not that one goes on.
    expect(result.followUp).toEqual({ requestId: expect.any(Number), runningBot: null, engine: 'no engine running', botKnown: true, keylessBot: null });
    expect(renderKill(result)).toMatch(/NO BOT WITH THE KRAKEN KEY IS RUNNING \(no engine running\): orders may remain open on Kraken\. Request #\d+ waits 5 min for a bot with the key to take it/);
    expect(JSON.stringify(renderKillReply(result))).toMatch(/No bot with the Kraken key is running\* \(no engine running\)/);
    const cancelItem = async () => (await kill.db().db.select().from(incidentChecklistItems)
      .where(and(eq(incidentChecklistItems.incidentId, result.incidentId!), eq(incidentChecklistItems.item, 'cancel_orders'))))[0]!;
    // Shown pending in the database from the moment the kill answers, never done by a claim.
    expect(await cancelItem()).toMatchObject({ state: 'pending', requestId, doneAt: null });
    expect(t.alerts[0]).toMatchObject({ title: expect.stringMatching(/could not be confirmed/), details: expect.objectContaining({ confirmationContinues: `request #${requestId}` }) });

    // Kraken answers again; the running bot with the key (its kill feature's runner) takes the request.
    t.kraken.mode = 'ok';
    const runner = startRequestRunner(t.ctx, { holder: 'bot-1:7', handlers: { cancel_all: cancelAllHandler(t.ctx) }, onFinished: checklistFollowUp(t.ctx), pollMs: 20 });
    try {
      for (let i = 0; i < 500 && (await cancelItem()).state !== 'done'; i++) await new Promise((r) => setTimeout(r, 20));
    } finally {
      await runner.stop();
    }
    const item = await cancelItem();
    // Done by the bot that confirmed it (its holder id), answering the kill's request — not by the operator who killed.
    expect(item, JSON.stringify(item.outcome)).toMatchObject({ state: 'done', doneBy: 'bot-1:7', requestId, outcome: expect.objectContaining({ carriedOutBy: 'bot-1:7', requestedBy: operator.id }) });
    expect(String(item.outcome?.['summary'])).toMatch(/none open \(confirmed\)/);
    const view = (await currentIncident(t.ctx))!;
    expect(renderChecklist(view)).toMatch(new RegExp(`\\[x\\] cancel_orders .* done by bot-1:7 \\(answering request #${requestId}\\) at `));
    expect(JSON.stringify(renderSlackIncident(view.incident, view.items).blocks)).toContain(`\`bot-1:7\` (answering request #${requestId}),`);
    expect(renderChecklist(view)).not.toContain(`done by ${operator.id}`);
    expect(t.kraken.open).toEqual([]);
    expect(t.alerts.at(-1)).toMatchObject({ severity: 'info', fingerprint: `kill:${result.incidentId}`, title: expect.stringMatching(/now confirmed/) });
  });

  it('not confirmed in time with a bot holding the engine lease and the key: the follow-up names that bot, and the replies say it goes on there', async () => {
    const { t, result, requestId } = await unconfirmedKill('kraken down', () => acquireLease(kill.db().db, { holderId: 'h-1', host: 'bot-host', pid: 4242, role: 'worker', feed: 'kraken', armed: true, hasKrakenKeys: true }, 15_000));
    expect(result.followUp).toMatchObject({ requestId: expect.any(Number), runningBot: 'bot-host:4242' });
    expect(renderKill(result)).toMatch(/handed on \(request #\d+\) to the running bot with the Kraken key \(bot-host:4242\): it cancels and confirms, trying again until Kraken confirms \(up to 10 min\)/);
    expect(JSON.stringify(renderKillReply(result))).toMatch(/to the running bot with the Kraken key \(bot-host:4242\).*trying again until Kraken confirms \(up to 10 min\)/);
    const [item] = await kill.db().db.select().from(incidentChecklistItems).where(eq(incidentChecklistItems.item, 'cancel_orders'));
    expect(String(item!.outcome?.['summary'])).toMatch(/the running bot with the Kraken key \(bot-host:4242\) picks it up to cancel and confirm, trying again until Kraken confirms \(up to 10 min\)/);
  });

  it("its critical alert says what is confirmed (halted) and what is still pending: the request that goes on cancelling until Kraken confirms", async () => {
    const { t, requestId } = await unconfirmedKill('kraken down', () => acquireLease(kill.db().db, { holderId: 'h-1', host: 'bot-host', pid: 4242, role: 'worker', feed: 'kraken', armed: true, hasKrakenKeys: true }, 15_000));
    expect(t.alerts.map((a) => [a.severity, a.title])).toEqual([['critical',
      `Kill switch: trading halted, but open orders could not be confirmed cancelled — pending: the running bot with the Kraken key (bot-host:4242) goes on cancelling as request #${requestId} until Kraken confirms none open`]]);
  });

  it('a follow-up no bot takes within 5 minutes is closed failed when the incident is read, and its item says orders may remain — not pending for ever', async () => {
    const { t, result, requestId } = await unconfirmedKill('kraken down, no bot');
    const cancelItem = async () => (await currentIncident(t.ctx))!.items.find((i) => i.item === 'cancel_orders')!;
    // Its wait is counted on the database's clock, which the test's manual clock does not move.
    t.clock.advance(4 * 60_000);
    await ageFollowUps(kill.db(), 4 * 60_000);
    expect(await cancelItem()).toMatchObject({ state: 'pending', requestId });
    t.clock.advance(60_000 + 1);
    await ageFollowUps(kill.db(), 60_000 + 1);
    const item = await cancelItem();
    expect(item).toMatchObject({ state: 'failed', requestId, doneAt: null });
    expect(String(item.outcome?.['summary'])).toMatch(/never confirmed: no bot with the Kraken key took it within 5 min \(request #\d+\), so orders may remain open on Kraken/);
    expect(item.outcome?.['threadNote']).toBe(true);
    const [request] = await kill.db().db.select().from(engineRequests).where(eq(engineRequests.id, requestId));
    expect(request).toMatchObject({ status: 'failed', error: 'no bot with the Kraken key took it within 5 min' });
  });

  it('"cancel again" is never refused while the kill\'s follow-up waits: it cancels at Kraken now, and the unclaimed follow-up is withdrawn once confirmed', async () => {
    const { t, result, requestId } = await unconfirmedKill('kraken down for a while');
    expect(requestId).toEqual(expect.any(Number));
    // No bot has taken the follow-up; Kraken answers again and the operator presses "cancel again".
    t.kraken.mode = 'ok';
    const cancelsBefore = t.kraken.calls.filter((c) => c === 'cancelAllOrders').length;
    const again = await doChecklistItem(t.ctx, { item: 'cancel_orders', actor: operator, confirmed: true });
    expect(again, again.summary).toMatchObject({ ok: true, state: 'done' });
    expect(t.kraken.calls.filter((c) => c === 'cancelAllOrders').length).toBeGreaterThan(cancelsBefore);
    expect(t.kraken.open).toEqual([]);
    const [request] = await kill.db().db.select().from(engineRequests).where(eq(engineRequests.id, requestId));
    expect(request).toMatchObject({ status: 'failed', error: expect.stringMatching(/cancelled again and confirmed by U0OPERATOR/) });
  });

  it('"cancel again" still cancels after the item was done: confirmed, the item stays done; orders still open, the item is reopened failed', async () => {
    const t = await setup({ armed: true, env: { KILL_CONFIRM_ATTEMPTS: '1', KILL_CONFIRM_WAIT: '1ms' } });
    t.kraken.open.push(openOrder('K1'));
    await executeKill(t.ctx, { actor: operator, reason: 'orders after the kill', trigger: 'manual' });
    expect(await doChecklistItem(t.ctx, { item: 'cancel_orders', actor: operator, confirmed: false })).toMatchObject({ ok: true, state: 'done' });
    const cancelItem = async () => (await kill.db().db.select().from(incidentChecklistItems).where(eq(incidentChecklistItems.item, 'cancel_orders')))[0]!;
    const first = await cancelItem();
    expect(first).toMatchObject({ state: 'done', doneBy: 'U0OPERATOR' });

    // An order appears at Kraken after the item was confirmed clear: "cancel again" cancels it.
    const second = { id: 'U0SECOND', source: 'cli' as const };
    t.kraken.open.push(openOrder('K2'));
    const cancels = () => t.kraken.calls.filter((c) => c === 'cancelAllOrders').length;
    const before = cancels();
    const again = await doChecklistItem(t.ctx, { item: 'cancel_orders', actor: second, confirmed: false });
    expect(again, again.summary).toMatchObject({ ok: true, state: 'done', alreadyDone: false, doneBy: 'U0SECOND' });
    expect(again.summary).toMatch(/^Cancelled again — kraken: none open.* The item stays done \(first done by U0OPERATOR at /);
    expect(cancels()).toBeGreaterThan(before);
    expect(t.kraken.open).toEqual([]);
    expect(await cancelItem()).toMatchObject({ state: 'done', doneBy: 'U0OPERATOR', doneAt: first.doneAt });

    // Kraken cannot be reached and an order is open: the done no longer holds, so the item reopens,
    // pending on the follow-up the bot with the key retries until Kraken confirms.
    t.kraken.open.push(openOrder('K3'));
    t.kraken.mode = 'network_error';
    const failed = await doChecklistItem(t.ctx, { item: 'cancel_orders', actor: second, confirmed: false });
    expect(failed, failed.summary).toMatchObject({ ok: false, state: 'pending', doneBy: null, requestId: expect.any(Number) });
    // Kraken could not be asked how many are open: no count is given (one is open; "0 still open" would be false).
    expect(failed.summary).toMatch(/^Cancel again NOT ALL CONFIRMED — kraken: NOT CONFIRMED, open orders not counted \(.*kraken unreachable.*\. The cancel goes on as request #\d+: .*is open again: orders may remain open on Kraken\.$/);
    expect(failed.summary).not.toMatch(/still open/);
    expect(await cancelItem()).toMatchObject({
      state: 'pending', requestId: failed.requestId, doneAt: null, doneBy: null, outcome: expect.objectContaining({ reopenedBy: 'U0SECOND', wasDoneBy: 'U0OPERATOR' }),
    });
    expect((await currentIncident(t.ctx))?.items.find((i) => i.item === 'cancel_orders')?.state).toBe('pending');

    // Once the incident is closed, the old item is history: it answers as done and cancels nothing.
    t.kraken.mode = 'ok';
    expect(await doChecklistItem(t.ctx, { item: 'cancel_orders', actor: second, confirmed: false })).toMatchObject({ ok: true, state: 'done', doneBy: 'U0SECOND' });
    await kill.db().db.update(incidents).set({ status: 'closed' });
    t.kraken.open.push(openOrder('K4'));
    const closedBefore = cancels();
    expect(await doChecklistItem(t.ctx, { item: 'cancel_orders', actor: second, confirmed: false })).toMatchObject({ ok: true, alreadyDone: true });
    expect(cancels()).toBe(closedBefore);
  });

  it('"cancel again" in a process without the Kraken key hands Kraken\'s part to the bot that has it, and is never ticked done on paper\'s answer alone', async () => {
    // Nobody with the key answers: not done, saying orders may remain on Kraken; queued for a bot with the key.
    // The ledger records a live order once placed: something of this bot may be on Kraken.
    const shell = await setup({ env: { KILL_HANDOFF_TIMEOUT: '300ms' } });
    await recordLiveOrderEver(kill.db().db);
    await executeKill(shell.ctx, { actor: operator, reason: 'no key here', trigger: 'manual' });
    const alone = await doChecklistItem(shell.ctx, { item: 'cancel_orders', actor: operator, confirmed: true });
    expect(alone, alone.summary).toMatchObject({ ok: false, state: 'pending' });
    // Kraken was not asked: nothing says it was cancelled or counted.
    expect(alone.summary).toMatch(/^Cancel again NOT ALL CONFIRMED — .*kraken \(queued for a bot with the key, not yet taken, request #\d+\): NOT CONFIRMED, open orders not counted \(.*orders may remain open on Kraken\)/);
    expect(alone.summary).not.toMatch(/Cancelled again|still open/);

    // The bot with the key runs: it cancels on Kraken for the shell, and only then is the item done.
    const web = await setup({ env: { KILL_HANDOFF_TIMEOUT: '8s' } });
    const holder = await setup({ keys: true });
    await acquireLease(kill.db().db, liveKeyedBot, 15_000);
    holder.kraken.open.push(openOrder('K1'), openOrder('K2'));
    const runner = startRequestRunner(holder.ctx, { holder: 'worker-1:42', handlers: { cancel_all: cancelAllHandler(holder.ctx) }, pollMs: 20 });
    try {
      const answered = await doChecklistItem(web.ctx, { item: 'cancel_orders', actor: operator, confirmed: true });
      expect(answered, answered.summary).toMatchObject({ ok: true, state: 'done' });
      expect(answered.summary).toMatch(/^Cancelled again — .*kraken \(by the running bot worker-1:42, request #\d+\): none open/);
      expect(holder.kraken.open).toEqual([]);
    } finally {
      await runner.stop();
    }
  });

  it('"cancel again" with no key here nor in a running bot, and no live order ever in the ledger: done on paper\'s confirmation, saying nothing was sent to Kraken, and nothing queued', async () => {
    const shell = await setup({ env: { KILL_HANDOFF_TIMEOUT: '300ms' } });
    await acquireLease(kill.db().db, { ...liveKeyedBot, hasKrakenKeys: false }, 15_000);
    await executeKill(shell.ctx, { actor: operator, reason: 'no key anywhere', trigger: 'manual' });
    const again = await doChecklistItem(shell.ctx, { item: 'cancel_orders', actor: operator, confirmed: true });
    expect(again, again.summary).toMatchObject({ ok: true, state: 'done', requestId: null });
    expect(again.summary).toMatch(/^Cancelled again — paper: none open\. No Kraken key here, and the running bot worker-1:42 has no Kraken key: nothing was sent to Kraken\. This database records no use of Kraken ever \(no live order or live mode, no cancel there, no engine that took the lease armed or with the key\), so there is nothing on Kraken to cancel from this bot\./);
    expect(again.summary).not.toMatch(/kraken|request #|queued|may remain/);
    expect(await kill.db().db.select().from(engineRequests)).toEqual([]);
  });

  it('a second kill cancels again, says it was already killed and opens no second incident', async () => {
    const t = await setup({ armed: true });
    const first = await executeKill(t.ctx, { actor: operator, reason: 'first', trigger: 'manual' });
    const versionAfterFirst = (await getBotState(kill.db().db)).version;
    t.kraken.open.push(openOrder('LATE'));
    const second = await executeKill(t.ctx, { actor: { id: 'U0OTHER', source: 'slack' }, reason: 'second', trigger: 'manual' });
    expect(second.alreadyKilled).toBe(true);
    expect(second.incidentId).toBe(first.incidentId);
    expect(t.kraken.open).toEqual([]);
    const state = await getBotState(kill.db().db);
    expect(state.version).toBe(versionAfterFirst);
    expect(state.haltedReason).toBe('first');
    expect(await kill.db().db.select().from(incidents)).toHaveLength(1);
    expect(await kill.db().db.select().from(incidentChecklistItems)).toHaveLength(4);
    expect(t.alerts).toHaveLength(1);
  });

  it('a later kill that cannot confirm reopens a ticked cancel item, in the database and in its reply', async () => {
    const t = await setup({ armed: true, env: { KILL_CONFIRM_ATTEMPTS: '3', KILL_CONFIRM_WAIT: '1ms' } });
    const first = await executeKill(t.ctx, { actor: operator, reason: 'first', trigger: 'manual' });
    expect(first.ok).toBe(true);
    // The operator's "cancel again" confirms none open and ticks the item.
    expect(await doChecklistItem(t.ctx, { item: 'cancel_orders', actor: operator, confirmed: true })).toMatchObject({ state: 'done' });
    const cancelItem = async () => (await kill.db().db.select().from(incidentChecklistItems)).find((i) => i.item === 'cancel_orders')!;
    expect((await cancelItem()).doneAt).not.toBeNull();

    t.kraken.open.push(openOrder('STUCK'));
    t.kraken.sticky.add('STUCK');
    const second = await executeKill(t.ctx, { actor: operator, reason: 'second', trigger: 'manual' });
    expect(second).toMatchObject({ alreadyKilled: true, ok: false, incidentId: first.incidentId });
    // Not ticked any more: pending on the follow-up request that keeps confirming.
    expect(await cancelItem()).toMatchObject({ state: 'pending', doneAt: null, doneBy: null, requestId: (second.followUp as { requestId: number }).requestId });
    expect(second.checklist.find((i) => i.item === 'cancel_orders')).toMatchObject({ doneAt: null });
    expect(renderKill(second)).not.toMatch(/\[x\] cancel_orders/);
  });

  it('replaying a saved kill after the cancel item was ticked on a later confirmation: no follow-up, the item stays done, nothing says Kraken is not clear', async () => {
    const t = await setup({ armed: true });
    // A kill with the key, saved while the database was away, that never confirmed Kraken clear.
    await addPendingKill(t.ctx.config.DATA_DIR, { killId: 'saved-k1', at: new Date(t.ctx.clock.now().getTime() - 60_000).toISOString(), actor: 'cli:ops', actorSource: 'cli',
      trigger: 'manual', reason: 'saved earlier', cancelReport: {}, krakenFollowUp: true });
    const later = await executeKill(t.ctx, { actor: operator, reason: 'later', trigger: 'manual' });
    expect(later.ok).toBe(true);
    // The operator's "cancel again" confirms none open and ticks the item, after the saved kill was made.
    expect(await doChecklistItem(t.ctx, { item: 'cancel_orders', actor: operator, confirmed: true })).toMatchObject({ state: 'done' });
    const cancelItem = async () => (await kill.db().db.select().from(incidentChecklistItems)).find((i) => i.item === 'cancel_orders')!;
    const ticked = await cancelItem();
    expect(ticked).toMatchObject({ state: 'done' });
    const cancelRequests = () => kill.db().db.select().from(engineRequests).where(eq(engineRequests.kind, 'cancel_all'));
    const before = await cancelRequests();

    const replay = await replayPendingKills(t.ctx);
    expect(replay).toMatchObject({ written: ['saved-k1'], remaining: 0 });
    expect(await cancelRequests()).toEqual(before);
    expect(await cancelItem()).toMatchObject({ state: 'done', doneAt: ticked.doneAt, doneBy: ticked.doneBy });
    expect(t.alerts.at(-1)!.title).toMatch(/^A kill saved in DATA_DIR .* the bot is halted$/);
  });

  it('replaying a saved kill, its shell\'s clock 10 minutes fast, after its incident was closed and the bot resumed: no follow-up, nothing reopened, no "not confirmed" page', async () => {
    const t = await setup({ armed: true });
    // Saved by a shell whose clock runs 10 minutes ahead: its `at` is later than any tick made since on this process's clock.
    const skewedAt = new Date(t.ctx.clock.now().getTime() + 10 * 60_000).toISOString();
    await addPendingKill(t.ctx.config.DATA_DIR, { killId: 'saved-k1', at: skewedAt, actor: 'cli:ops', actorSource: 'cli',
      trigger: 'manual', reason: 'saved earlier', cancelReport: {}, krakenFollowUp: true });
    // The kill's own stalled transaction landed: its incident exists; its cancel was confirmed, and then an operator resumed.
    await persistKill(kill.db().db, { killId: 'saved-k1', at: new Date(skewedAt), actor: 'cli:ops', trigger: 'manual', reason: 'saved earlier', cancelReport: {} });
    const cancelItem = async () => (await kill.db().db.select().from(incidentChecklistItems)).find((i) => i.item === 'cancel_orders')!;
    expect(await doChecklistItem(t.ctx, { item: 'cancel_orders', actor: operator, confirmed: true })).toMatchObject({ state: 'done' });
    const ticked = await cancelItem();
    expect(ticked.doneAt!.getTime()).toBeLessThan(Date.parse(skewedAt));
    // What a resume leaves: the incident closed, bot_state no longer halted.
    await kill.db().db.update(incidents).set({ status: 'closed', closedAt: new Date(), closedBy: 'U0OPERATOR' });
    await kill.db().db.update(botState).set({ halted: false });
    const cancelRequests = () => kill.db().db.select().from(engineRequests).where(eq(engineRequests.kind, 'cancel_all'));
    const before = await cancelRequests();
    t.alerts.length = 0;

    expect(await replayPendingKills(t.ctx)).toMatchObject({ written: ['saved-k1'], remaining: 0 });
    expect(await cancelRequests()).toEqual(before);
    expect(await cancelItem()).toMatchObject({ state: 'done', doneAt: ticked.doneAt, doneBy: ticked.doneBy });
    expect(t.alerts.map((a) => a.title).join('\n')).not.toMatch(/not confirmed/i);
  });

  it('replaying the first saved copy of a kill (no cancel report: its update after a confirmed cancel never reached the disk) hands the cancel on without saying the kill did not confirm', async () => {
    const t = await setup({ armed: true });
    // What a kill with the key saves first; a kill that then confirmed zero open orders but could not update it leaves exactly this.
    await addPendingKill(t.ctx.config.DATA_DIR, { killId: 'saved-k1', at: t.ctx.clock.now().toISOString(), actor: 'cli:ops', actorSource: 'cli',
      trigger: 'manual', reason: 'saved', cancelReport: {}, krakenFollowUp: true });
    expect(await replayPendingKills(t.ctx)).toMatchObject({ written: ['saved-k1'], remaining: 0 });
    const title = t.alerts.at(-1)!.title;
    expect(title).toMatch(/; Kraken clear not known \(the kill saved no answer\) — request #\d+ waits for a bot with the Kraken key to go on cancelling$/);
    expect(title).not.toMatch(/not confirmed/);
    const item = (await kill.db().db.select().from(incidentChecklistItems)).find((i) => i.item === 'cancel_orders')!;
    expect(String(item.outcome?.['summary'])).toMatch(/^Zero open orders on Kraken not known: the kill saved in DATA_DIR, while the database did not take it, no answer from Kraken: queued as request #\d+/);
  });

  it('replaying a saved kill that carries Kraken\'s unconfirmed answer still says the kill did not confirm', async () => {
    const t = await setup({ armed: true });
    await addPendingKill(t.ctx.config.DATA_DIR, { killId: 'saved-k1', at: t.ctx.clock.now().toISOString(), actor: 'cli:ops', actorSource: 'cli', trigger: 'manual', reason: 'saved',
      cancelReport: { venues: [{ venue: 'kraken', canceled: null, confirmed: false, attempts: 1, survivors: [], errors: ['timeout'] }], allConfirmed: false }, krakenFollowUp: true });
    expect(await replayPendingKills(t.ctx)).toMatchObject({ written: ['saved-k1'], remaining: 0 });
    expect(t.alerts.at(-1)!.title).toMatch(/; Kraken not confirmed clear by the kill — request #\d+ waits for a bot with the Kraken key to go on cancelling$/);
  });

  it('the alert of a replayed saved kill handed on to a running bot keeps that bot (host:pid) within the stored title, whatever its host name', async () => {
    const t = await setup({ armed: true });
    const host = 'ctb-worker-1.ip-172-31-122-201.ap-southeast-2.compute.internal';
    await acquireLease(kill.db().db, { ...liveKeyedBot, holderId: host, host, pid: 4_194_304 }, 15_000);
    await addPendingKill(t.ctx.config.DATA_DIR, { killId: 'saved-k1', at: t.ctx.clock.now().toISOString(), actor: 'cli:ops', actorSource: 'cli', trigger: 'manual',
      reason: 'saved', cancelReport: {}, database: { error: 'a database that could not be used as configured', configProblem: true }, krakenFollowUp: true });
    expect(await replayPendingKills(t.ctx)).toMatchObject({ written: ['saved-k1'], remaining: 0 });
    const title = t.alerts.at(-1)!.title;
    expect(title).toMatch(/^A kill saved in DATA_DIR \(its database could not be used as configured\) .*; Kraken clear not known \(the kill saved no answer\) — request #\d+ goes on in the bot /);
    expect(sanitizeText(title, (s) => s)).toContain(`${host}:4194304`);
  });

  it('a Slack retry of the same request maps to the same kill', async () => {
    const t = await setup({ keys: true });
    const actor = { ...operator, requestId: 'trigger-123' };
    const [a, b] = await Promise.all([
      executeKill(t.ctx, { actor, reason: 'x', trigger: 'manual' }),
      executeKill(t.ctx, { actor, reason: 'x', trigger: 'manual' }),
    ]);
    expect(a.killId).toBe(b.killId);
    expect([a.alreadyKilled, b.alreadyKilled].sort()).toEqual([false, true]);
    expect(await kill.db().db.select().from(incidents)).toHaveLength(1);
  });

  it('raises the halt in the database while Kraken is still answering the cancel (neither waits for the other)', async () => {
    const t = await setup({ armed: true });
    t.kraken.open.push(openOrder('K1'));
    // Kraken answers nothing until the halt is seen in the database: a kill that waited for Kraken
    // before writing the halt would never get there (no margin on the wall clock to be loaded past).
    let answer!: () => void;
    t.kraken.hold = new Promise((r) => (answer = r));
    const started = Date.now();
    const killing = executeKill(t.ctx, { actor: operator, reason: 'kraken slow', trigger: 'manual' });
    while (!(await getBotState(kill.db().db)).halted && Date.now() - started < 30_000) await new Promise((r) => setTimeout(r, 10));
    expect((await getBotState(kill.db().db)).halted, 'the halt was not written while Kraken had not answered the cancel').toBe(true);
    expect(t.kraken.open).toHaveLength(1); // Kraken has not answered yet
    // The saved copy of the kill goes as soon as the database holds the halt, Kraken or not.
    while (existsSync(pendingKillPath(t.dataDir)) && Date.now() - started < 30_000) await new Promise((r) => setTimeout(r, 10));
    expect(existsSync(pendingKillPath(t.dataDir))).toBe(false);
    expect(t.kraken.open).toHaveLength(1);
    answer();
    const result = await killing;
    expect(result.cancel.venues.find((v) => v.venue === 'kraken')).toMatchObject({ canceled: 1, confirmed: true });
  });

  it('says the halt is recorded as soon as the database holds it, before dropping its saved copy (an interrupt in between says it is recorded)', async () => {
    // The database's deadline is not what is tested: the halt waits below for as long as the copy takes.
    const t = await setup({ armed: true, env: { KILL_DB_TIMEOUT: '60s' } });
    const savedCopyWhenSaid: boolean[] = [];
    t.ctx.kill.onHaltRecorded = () => void savedCopyWhenSaid.push(existsSync(pendingKillPath(t.dataDir)));
    // The halt's write and the saved copy start together and either may land first (the copy is
    // fsynced: on a loaded machine the halt was in first, and nothing was there to drop yet). The
    // halt's transaction waits here on the bot_state row, held by another one until the copy is on
    // disk: what the kill says next is said with its copy there to drop.
    await kill.db().db.insert(botState).values({ id: 1 });
    let killing: Promise<unknown> = Promise.resolve();
    await kill.db().db.transaction(async (tx) => {
      await tx.select().from(botState).where(eq(botState.id, 1)).for('update');
      killing = executeKill(t.ctx, { actor: operator, reason: 'order of the notices', trigger: 'manual' });
      await until(() => existsSync(pendingKillPath(t.dataDir)));
      expect(savedCopyWhenSaid, 'the halt was recorded while another transaction held bot_state').toEqual([]);
    });
    await killing;
    expect(savedCopyWhenSaid).toEqual([true]);
    expect(existsSync(pendingKillPath(t.dataDir))).toBe(false);
  });

  it('waits for an order already on its way when the halt was written, then cancels it too', async () => {
    const t = await setup({ armed: true });
    await kill.db().db.insert(botState).values({ id: 1, mode: 'live' });
    // The engine wrote this intent just before the halt; its AddOrder reaches Kraken 400 ms later.
    const intent = await writeIntent(kill.db().db, { mode: 'live', feed: 'kraken', strategy: 's', symbol: 'BTC/USD', side: 'buy', purpose: 'entry', type: 'limit', quantity: '0.01', limitPrice: '1', at: t.clock.now() }, { lease: ALONE_BY_CONSTRUCTION, armed: true });
    expect(intent).not.toBeNull();
    t.kraken.open.push(openOrder('K1'));
    const killing = executeKill(t.ctx, { actor: operator, reason: 'order in flight', trigger: 'manual' });
    await new Promise((r) => setTimeout(r, 400));
    t.kraken.open.push(openOrder('INFLIGHT', { clientOrderId: intent!.clientOrderId }));
    await markIntent(kill.db().db, { id: intent!.id, status: 'open', exchangeOrderId: 'INFLIGHT', at: t.clock.now() });
    const result = await killing;
    expect(t.kraken.open).toEqual([]);
    expect(result.fence?.unresolved).toEqual([]);
    expect(result.fence!.waitedMs).toBeGreaterThan(0);
    expect(result.cancel.venues.find((v) => v.venue === 'kraken')).toMatchObject({ canceled: 2, confirmed: true });
    expect(result.ok).toBe(true);
  });

  it('names an order still on its way when the wait runs out, and does not claim every order is cancelled', async () => {
    // The shipped database deadline (3 s): with a shorter one, a loaded machine's halt write ran past it
    // and the kill took the database-down path. The fence waits out KILL_CONFIRM_WAIT (at least that
    // deadline) for the order: 3 s here, not the shipped 20 s, so the test stays well inside its timeout.
    const t = await setup({ armed: true, env: { KILL_DB_TIMEOUT: '3s', KILL_CONFIRM_WAIT: '3s' } });
    await kill.db().db.insert(botState).values({ id: 1, mode: 'live' });
    const intent = await writeIntent(kill.db().db, { mode: 'live', feed: 'kraken', strategy: 's', symbol: 'BTC/USD', side: 'sell', purpose: 'exit', type: 'market', quantity: '0.01', at: t.clock.now() }, { lease: ALONE_BY_CONSTRUCTION, armed: true });
    const result = await executeKill(t.ctx, { actor: operator, reason: 'engine hung mid-order', trigger: 'manual' });
    expect(result.state).toBe('written');
    expect(result.fence?.unresolved).toEqual([expect.objectContaining({ clientOrderId: intent!.clientOrderId, mode: 'live', side: 'sell' })]);
    expect(result.ok).toBe(false);
    expect(t.alerts[0]?.title).toMatch(/could not be confirmed/);
  });
});

describe('kill while the database is unreachable', () => {
  let proxy: StallProxy;
  beforeAll(async () => {
    proxy = await startStallProxy();
  });
  afterAll(async () => {
    await proxy?.close();
  });

  /** The alert's words for who holds the halt, by who killed: a process that keeps running, or `ctb kill`, which exits. */
  const unsavedReach = {
    slack: 'until it is, only the process that killed is sure to be halted, while it runs',
    cli: 'a running bot is not halted by this until the write lands (its halt watcher then latches it within a poll); `ctb kill` halts nothing once it exits',
  } as const;

  it.each(['slack', 'cli'] as const)('database down and DATA_DIR not writable (killed from %s): says the halt is not saved there nor confirmed in the database, and who it halts — never "saved" nor "halted"', async (source) => {
    proxy.set('forward');
    const t = await setup({ armed: true });
    let closed = 0;
    const viaProxy = recordingDatabase(proxy.urlFor(kill.db().url), [], 60, () => closed++);
    kill.track(viaProxy);
    // DATA_DIR is a file now: neither the kill's first save nor its second can write there.
    const dataDir = join(t.dataDir, 'data');
    writeFileSync(dataDir, 'not a directory');
    const t2 = await killTestContext({ database: viaProxy, armed: true, dataDir, env: { KILL_DB_TIMEOUT: '1s' } });
    kill.track(t2.ctx);
    await getBotState(t2.ctx.db);
    t2.kraken.open.push(openOrder('K1'));
    proxy.set('down');
    // Its connection seen gone, as a database down before the kill is: the write waits for a new one.
    await until(() => closed > 0);
    const result = await executeKill(t2.ctx, { actor: source === 'cli' ? { id: 'cli:ops', source } : operator, reason: 'db and disk gone', trigger: 'manual' });
    proxy.set('forward');
    expect(result).toMatchObject({ state: 'unsaved', ok: true, saveError: expect.stringMatching(/EEXIST|ENOTDIR/) });
    expect(result.pendingFile).toBeUndefined();
    expect(t2.kraken.open).toEqual([]);
    expect(isHaltLatched(t2.ctx)).toBe(true);
    // Gone, the write missed its deadline (postgres.js holds the query for its reconnect): it may
    // still land, so the halt is said not confirmed in the database, not absent from it.
    expect(result.stateTimedOut).toBe(true);
    expect(t2.alerts.map((a) => a.title)).toEqual([
      `Kill switch: every open order cancelled; the halt is NOT saved in DATA_DIR (it could not be written) and not confirmed in the database (it did not answer in time; the write may still land): ${unsavedReach[source]}`]);
    // The terminal is `ctb kill`'s, which exits once it has answered: its latch halts nothing after that.
    const terminal = renderKill(result);
    expect(terminal.split('\n')[0]).toBe('HALT NOT SAVED IN DATA_DIR, NOT CONFIRMED IN THE DATABASE (THE WRITE MAY STILL LAND) — every open order cancelled.');
    expect(terminal).toContain('the halt is not confirmed in it (the write may still land), and it could not be saved in DATA_DIR either (');
    expect(terminal).toContain('`ctb kill` halts nothing once it exits: a running bot is not halted by this until the write lands (its halt watcher then latches the halt within a poll), nor at all if the write never lands.');
    expect(terminal).not.toMatch(/only the process that killed/);
    const reply = renderKillReply(result);
    expect(reply.text).toBe("Kill not confirmed in the database (the write may still land), and the bot's host could not save it: every open order cancelled; until it is, only this process is sure to be halted, while it runs.");
    for (const text of [...t2.alerts.map((a) => a.title), terminal, JSON.stringify(reply)]) expect(text).not.toMatch(/saved nowhere|neither in the database|NEITHER IN THE DATABASE/);
    for (const text of [...t2.alerts.map((a) => a.title), terminal, JSON.stringify(reply)]) expect(text).not.toMatch(/trading halted|KILLED|switched to paper\.|kill-pending\.json|saved only in|saved on the bot/);
  });

  it.each(['stall', 'down'] as const)('database %s: cancels at once, saves the halt to DATA_DIR, writes it when the database returns', async (failure) => {
    proxy.set('forward');
    const t = await setup({ armed: true });
    let closed = 0;
    const viaProxy = recordingDatabase(proxy.urlFor(kill.db().url), [], 60, () => closed++);
    kill.track(viaProxy);
    // The kill gives up on the database after its deadline; the saved kill must be on disk before that.
    // 3 s, so that a loaded machine's start of the kill is not mistaken for waiting out the deadline.
    const deadlineMs = 3_000;
    const t2 = await killTestContext({ database: viaProxy, armed: true, dataDir: t.dataDir, env: { KILL_DB_TIMEOUT: '3s' } });
    kill.track(t2.ctx);
    await getBotState(t2.ctx.db); // connection established before the failure
    t2.kraken.open.push(openOrder('K1'));
    proxy.set(failure);
    // Down: its connection seen gone, as a database down before the kill is (the write waits for a new one).
    if (failure === 'down') await until(() => closed > 0);

    const started = Date.now();
    let settled = false;
    const killing = executeKill(t2.ctx, { actor: operator, reason: 'db outage', trigger: 'manual' }).finally(() => {
      settled = true;
    });
    // On disk at once: while the kill still waits on the database, and before its deadline could have
    // run out (a kill that saved it only after giving up would show it at the deadline or later).
    while (!existsSync(pendingKillPath(t.dataDir)) && !settled) await new Promise((r) => setTimeout(r, 5));
    const savedAfter = Date.now() - started;
    expect(settled, 'the kill answered before its saved copy was on disk').toBe(false);
    expect(savedAfter).toBeLessThan(deadlineMs);
    const result = await killing;
    expect(t2.kraken.calls.slice(0, 2)).toEqual(['cancelAllOrders', 'fetchOpenOrders']);
    expect(t2.kraken.open).toEqual([]);
    expect(result.state).toBe('pending');
    expect(result.pendingFile).toBe(pendingKillPath(t.dataDir));
    expect(readPendingKills(t.dataDir)).toEqual([expect.objectContaining({ killId: result.killId, reason: 'db outage' })]);
    // The follow-up its first entry carried (a kill with the key owes one until Kraken is confirmed clear) is gone.
    expect(readPendingKills(t.dataDir)[0]!.krakenFollowUp).toBeUndefined();
    expect(isHaltLatched(t2.ctx)).toBe(true);
    expect(t2.ctx.jobs.tradingPaused).toMatch(/^kill: /);
    expect((await getBotState(kill.db().db)).halted).toBe(false);
    // The database holds no halt: nothing says "trading halted" or "switched to paper" of it; each
    // says it is saved in DATA_DIR only, pending until written, and what writes it.
    // Stalled or gone, the write missed its deadline (postgres.js holds the query for its reconnect):
    // it may still land, so the halt is said not confirmed in the database, not absent from it.
    expect(result.stateTimedOut).toBe(true);
    expect(t2.alerts.map((a) => a.title)).toEqual([
      'Kill switch: every open order cancelled; the halt is saved in DATA_DIR and not confirmed in the database (it did not answer in time; the write may still land): pending until it is confirmed written']);
    const terminal = renderKill(result);
    const reply = renderKillReply(result);
    expect(terminal.split('\n')[0]).toBe('HALT SAVED IN DATA_DIR, NOT CONFIRMED IN THE DATABASE (THE WRITE MAY STILL LAND) — every open order cancelled.');
    expect(terminal).toContain(`the halt is saved in ${result.pendingFile} and not confirmed in the database (the write may still land). Until it is written, only a process that reads that DATA_DIR is halted by it: a bot running with it latches the halt within a poll and writes it to the database once the database answers, as does the next \`ctb start\` with it.`);
    expect(reply.text).toBe("Kill saved on the bot's host, not confirmed in the database (the write may still land): every open order cancelled; this process is halted, the halt and the switch to paper are pending until confirmed written.");
    for (const text of [...t2.alerts.map((a) => a.title), terminal, JSON.stringify(reply)]) expect(text).not.toMatch(/trading halted|KILLED|switched to paper\.|stays halted/);

    proxy.set('forward');
    // The same process writes it once the database answers. Only the kill needed the 3 s deadline (to
    // give up on the database); here it would be a margin that a loaded machine's new connection
    // through the proxy and the transaction must beat, so the replay gets a deadline that only bounds a hang.
    const back = { ...t2.ctx, config: { ...t2.ctx.config, KILL_DB_TIMEOUT: 30_000 } };
    const replay = await replayPendingKills(back);
    expect(replay).toMatchObject({ written: [result.killId], remaining: 0 });
    expect(existsSync(pendingKillPath(t.dataDir))).toBe(false);
    expect(await getBotState(kill.db().db)).toMatchObject({ halted: true, mode: 'paper', haltedReason: 'db outage' });
    const [incident] = await kill.db().db.select().from(incidents).where(eq(incidents.killId, result.killId));
    expect(incident).toBeDefined();
    expect(t2.alerts.map((a) => a.title)).toContainEqual(expect.stringMatching(/saved in DATA_DIR \(its database did not answer\) is now written to this bot's database/));
    // Kraken was confirmed clear by the kill itself: its saved kill owes no follow-up, and none is written.
    expect(await kill.db().db.select().from(engineRequests).where(eq(engineRequests.kind, 'cancel_all'))).toEqual([]);
    // Replaying again changes nothing.
    expect(await replayPendingKills(back)).toEqual({ written: [], remaining: 0 });
    expect((await execute<{ n: number }>(kill.db().db, sql`select count(*)::int as n from incidents`))[0]?.n).toBe(1);
  });
});
