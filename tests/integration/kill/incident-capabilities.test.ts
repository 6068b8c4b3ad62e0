// The incident's capabilities are ports every process has: with the Procfile's web/worker split,
// "close positions" asked for in web is queued for the engine's process and shows pending until it
// flattens (then done, by whoever asked, with what it sold); "reconcile the ledger" reads Kraken's
// history where the key is, or is handed over, or refused with its reason; "notify stakeholders"
// records who said so and when. Nothing is ticked done by code that did not do it.
import { ALONE_BY_CONSTRUCTION } from '../../../src/engine/ledger/intent-lease.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../../commands/run-command.js';
import { incidentShowCommand } from '../../../commands/incident-show.js';
import { buildAppContext, type BuildContextOptions, type OwnedContext } from '../../../src/app/build-context.js';
import { ExchangeError } from '../../../src/exchange/errors.js';
import { createPaperExchange } from '../../../src/exchange/paper/create.js';
import type { Exchange, OrderRequest } from '../../../src/exchange/types.js';
import type { Actor } from '../../../src/app/context.js';
import { renderIncident, renderItemDone } from '../../../src/cli/render/kill.js';
import { acquireLease } from '../../../src/db/queries/engine-lease.js';
import { claimEngineRequest } from '../../../src/services/engine-requests/store.js';
import { renderChecklistTick, renderIncident as renderSlackIncident } from '../../../src/slack/views/kill.js';
import { systemClock } from '../../../src/clock.js';
import { testConfig } from '../../../src/config/env.js';
import { engineLease as engineLeaseTable, engineRequests, fills, incidentChecklistItems, incidents, orderIntents, trades } from '../../../src/db/schema/index.js';
import { Engine } from '../../../src/engine/engine.js';
import { PacedFeed } from '../../../src/market/paced-feed.js';
import { silentLogger } from '../../../src/logger.js';
import { incidentHandlers } from '../../../src/services/engine-requests/handlers.js';
import { startRequestRunner, type RequestRunner } from '../../../src/services/engine-requests/runner.js';
import { checklistFollowUp } from '../../../src/services/kill/checklist-records.js';
import { incidentThreadRefresher } from '../../../src/services/kill/incident-thread.js';
import { currentIncident, doChecklistItem } from '../../../src/services/kill/incident.js';
import { executeKill } from '../../../src/services/kill/kill.js';
import { createPostgresTestDb, emptyTablesSql, ENGINE_TABLES, type TestDatabase } from '../../support/db.js';
import { candlesFrom, engineContext, maCross, roundTripCloses, type EngineTestContext } from '../../support/engine.js';
import { startFakeKraken, type FakeKraken } from '../../support/fake-kraken.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';

const alice: Actor = { id: 'U0ALICE', source: 'slack' };
let testDb: TestDatabase;
let kraken: FakeKraken;
const open: Array<{ close(): Promise<unknown> }> = [];
const track = <T extends { close(): Promise<unknown> }>(x: T): T => (open.push(x), x);

beforeAll(async () => {
  testDb = await createPostgresTestDb();
  kraken = await startFakeKraken({ apiKey: TEST_API_KEY, secret: TEST_API_SECRET });
});
afterAll(async () => {
  await kraken?.close();
  await testDb?.close();
});
afterEach(async () => {
  while (open.length) await open.pop()!.close().catch(() => {});
  await testDb.db.execute(sql.raw(emptyTablesSql(['incident_checklist_items', 'incidents', 'engine_requests', 'engine_lease', ...ENGINE_TABLES])));
  kraken.calls.length = 0;
});

const reportsDir = () => mkdtempSync(join(tmpdir(), 'ctb-reports-'));

/** The engine's process (role worker): holds the engine, and here the Kraken key when asked. */
async function worker(env: Record<string, string> = {}, extra: Partial<BuildContextOptions> = {}): Promise<EngineTestContext> {
  const w = await engineContext(testDb, { REPORTS_DIR: reportsDir(), KRAKEN_RATE_LIMIT: 'false', KRAKEN_API_URL: kraken.url, ...env }, extra);
  track(w.ctx);
  return w;
}

/** A web replica on the same database and clock: no engine, and no Kraken key unless given. */
async function web(w: EngineTestContext, env: Record<string, string> = {}): Promise<OwnedContext> {
  return track(await buildAppContext({
    config: testConfig({
      LOG_DIR: join(tmpdir(), 'ctb-test-logs'), DATA_DIR: mkdtempSync(join(tmpdir(), 'ctb-web-')), REPORTS_DIR: reportsDir(), KILL_DB_TIMEOUT: '8s',
      INCIDENT_HANDOVER_WAIT: '300ms', KILL_HANDOFF_TIMEOUT: '200ms', KRAKEN_RATE_LIMIT: 'false', KRAKEN_API_URL: kraken.url, ...env,
    }),
    database: testDb, clock: w.clock, logger: silentLogger(),
  }));
}

function engineRunner(w: EngineTestContext): RequestRunner {
  const runner = startRequestRunner(w.ctx, { holder: 'worker-host:4242', handlers: incidentHandlers(w.ctx), onFinished: checklistFollowUp(w.ctx), timer: false });
  track({ close: () => runner.stop() });
  return runner;
}

const item = async (key: string) => (await currentIncident({ db: testDb.db, clock: systemClock }))!.items.find((i) => i.item === key)!;

/**
 * `webCtx` whose close-positions request is answered by the engine's process (`runner`) after its
 * wait ran out (pending) and before that pending answer is recorded: the race a reply must survive.
 */
function answeredWhilePending(webCtx: OwnedContext, runner: RequestRunner): OwnedContext {
  return { ...webCtx, incident: { ...webCtx.incident, flatten: async (...args: Parameters<typeof webCtx.incident.flatten>) => {
    const pending = await webCtx.incident.flatten(...args);
    expect(pending.state).toBe('pending');
    expect(await runner.drain()).toBe(1);
    return pending;
  } } };
}

describe('close positions asked for in a web process', () => {
  it('is pending (never "closed by hand") until the engine\'s process flattens; then done by whoever asked, with what it sold', async () => {
    const w = await worker();
    await new Engine({ lease: ALONE_BY_CONSTRUCTION, ctx: w.ctx, feed: new PacedFeed('replay', candlesFrom(roundTripCloses().slice(0, 24)), 0), strategies: [maCross()], marketClock: w.clock, stopWhenFeedEnds: true }).start();
    expect((await testDb.db.select().from(trades))[0]?.status).toBe('open');

    const webCtx = await web(w);
    await executeKill(webCtx, { actor: alice, reason: 'drill', trigger: 'manual' });
    const asked = await doChecklistItem(webCtx, { item: 'close_positions', actor: alice, confirmed: true });
    expect(asked).toMatchObject({ ok: false, state: 'pending', doneAt: null, requestId: expect.any(Number) });
    expect(asked.summary).toMatch(/^Queued in the database for the engine's process \(request #\d+\), not yet taken/);
    expect(await item('close_positions')).toMatchObject({ state: 'pending', doneAt: null, requestId: asked.requestId });
    const shown = renderIncident(await runCommand(incidentShowCommand, webCtx, alice, {}));
    expect(shown).toMatch(/\[~\] close_positions .* PENDING: queued in the database for the engine's process \(request #\d+\), not yet taken/);
    // A second click while it waits hands nothing over again.
    expect(await doChecklistItem(webCtx, { item: 'close_positions', actor: alice, confirmed: true })).toMatchObject({ state: 'pending', requestId: asked.requestId });
    expect(await testDb.db.select().from(engineRequests).where(eq(engineRequests.kind, 'flatten'))).toHaveLength(1);

    expect(await engineRunner(w).drain()).toBe(1);
    expect((await testDb.db.select().from(trades))[0]?.status).toBe('closed');
    expect(await item('close_positions')).toMatchObject({
      state: 'done', doneBy: 'U0ALICE', doneAt: expect.any(Date),
      outcome: expect.objectContaining({ summary: 'Closed 1 of 1 open positions.', carriedOutBy: 'worker-host:4242', requestId: asked.requestId }),
    });
    expect(await doChecklistItem(webCtx, { item: 'close_positions', actor: alice, confirmed: true })).toMatchObject({ ok: true, alreadyDone: true, doneBy: 'U0ALICE' });
  });

  it('finished by the engine\'s process while the request was being answered as pending: the reply says done, with what it sold — not done and pending at once', async () => {
    const w = await worker();
    await new Engine({ lease: ALONE_BY_CONSTRUCTION, ctx: w.ctx, feed: new PacedFeed('replay', candlesFrom(roundTripCloses().slice(0, 24)), 0), strategies: [maCross()], marketClock: w.clock, stopWhenFeedEnds: true }).start();
    const webCtx = await web(w);
    await executeKill(webCtx, { actor: alice, reason: 'drill', trigger: 'manual' });
    // The wait ran out (pending), then the engine's process answered before that pending was recorded.
    const answered = await doChecklistItem(answeredWhilePending(webCtx, engineRunner(w)), { item: 'close_positions', actor: alice, confirmed: true });
    expect(answered).toMatchObject({ ok: true, state: 'done', alreadyDone: false, doneBy: 'U0ALICE', summary: 'Closed 1 of 1 open positions.' });
    const slack = renderChecklistTick(answered).text;
    const terminal = renderItemDone(answered);
    expect(slack).toMatch(/^:white_check_mark: .*: done by <@U0ALICE> .* — Closed 1 of 1 open positions\.$/);
    expect(terminal).toMatch(/^close_positions: done by U0ALICE at \S+ — Closed 1 of 1 open positions\.$/);
    for (const text of [slack, terminal]) expect(text).not.toMatch(/pending|queued|not yet taken|engine's process/i);
  });

  it('is failed with the engine\'s reason when the engine\'s process cannot close a position', async () => {
    let refuseSales = false;
    const w: EngineTestContext = await worker({}, {
      exchanges: {
        paper: () => {
          const inner = createPaperExchange({ config: w.ctx.config, db: testDb.db, clock: w.clock, logger: w.ctx.logger, prices: w.ctx.prices });
          return new Proxy(inner, {
            get(target, prop) {
              const value = Reflect.get(target, prop, target);
              if (prop !== 'createOrder') return typeof value === 'function' ? value.bind(target) : value;
              return async (order: OrderRequest) => {
                if (refuseSales) throw new ExchangeError('rejected', 'insufficient_funds', 'insufficient funds (test)');
                return (value as Exchange['createOrder']).call(target, order);
              };
            },
          });
        },
      },
    });
    await new Engine({ lease: ALONE_BY_CONSTRUCTION, ctx: w.ctx, feed: new PacedFeed('replay', candlesFrom(roundTripCloses().slice(0, 24)), 0), strategies: [maCross()], marketClock: w.clock, stopWhenFeedEnds: true }).start();
    const webCtx = await web(w);
    await executeKill(webCtx, { actor: alice, reason: 'drill', trigger: 'manual' });
    refuseSales = true;
    await doChecklistItem(webCtx, { item: 'close_positions', actor: alice, confirmed: true });
    await engineRunner(w).drain();
    const failed = await item('close_positions');
    expect(failed).toMatchObject({ state: 'failed', doneAt: null });
    expect(String(failed.outcome?.summary)).toMatch(/^Closed 0 of 1 open positions; failed: #\d+ \(insufficient funds \(test\)\)/);
    expect((await testDb.db.select().from(trades))[0]?.status).toBe('open');

    // Asked again, and the engine's process fails it while the request was being answered as pending:
    // the reply and the item say failed, with the engine's reason — not pending on a finished request.
    const answered = await doChecklistItem(answeredWhilePending(webCtx, engineRunner(w)), { item: 'close_positions', actor: alice, confirmed: true });
    expect(answered).toMatchObject({ ok: false, state: 'failed', requestId: expect.any(Number), summary: expect.stringMatching(/^Closed 0 of 1 open positions; failed: #\d+ \(insufficient funds \(test\)\)/) });
    expect(await item('close_positions')).toMatchObject({ state: 'failed', doneAt: null, requestId: answered.requestId, outcome: expect.objectContaining({ summary: answered.summary }) });
    expect(renderChecklistTick(answered).text).toMatch(/^:x: .*: not done — Closed 0 of 1 open positions; failed/);
  });
});

describe('ctb kill --flatten from a web process', () => {
  it('closes positions through the engine\'s process and ticks the item with what it sold', async () => {
    const w = await worker();
    await new Engine({ lease: ALONE_BY_CONSTRUCTION, ctx: w.ctx, feed: new PacedFeed('replay', candlesFrom(roundTripCloses().slice(0, 24)), 0), strategies: [maCross()], marketClock: w.clock, stopWhenFeedEnds: true }).start();
    const runner = startRequestRunner(w.ctx, { holder: 'worker-host:4242', handlers: incidentHandlers(w.ctx), onFinished: checklistFollowUp(w.ctx), pollMs: 20 });
    track({ close: () => runner.stop() });
    const webCtx = await web(w, { INCIDENT_HANDOVER_WAIT: '10s' });
    const result = await executeKill(webCtx, { actor: alice, reason: 'drill', trigger: 'manual', flatten: true });
    expect(result.flatten).toEqual({ ok: true, summary: 'Closed 1 of 1 open positions.' });
    expect(await item('close_positions')).toMatchObject({ state: 'done', doneBy: 'U0ALICE' });
  });

  it('says the close is pending when no engine answers in time, and never claims it', async () => {
    const w = await worker();
    const webCtx = await web(w);
    const result = await executeKill(webCtx, { actor: alice, reason: 'drill', trigger: 'manual', flatten: true });
    expect(result.flatten).toMatchObject({ ok: false, summary: expect.stringMatching(/^Queued in the database for the engine's process \(request #\d+\), not yet taken: no engine is running/) });
    expect(await item('close_positions')).toMatchObject({ state: 'pending', doneAt: null });
  });
});

describe('reconcile the ledger', () => {
  it('where the Kraken key is, reads Kraken\'s trade history and is done with what it found', async () => {
    const w = await worker();
    const webCtx = await web(w, { KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET });
    await executeKill(webCtx, { actor: alice, reason: 'drill', trigger: 'manual' });
    const r = await doChecklistItem(webCtx, { item: 'reconcile_ledger', actor: alice, confirmed: false });
    expect(r).toMatchObject({ ok: true, state: 'done', requestId: null });
    expect(r.summary).toMatch(/^RECONCILE OK — 0 matched/);
    expect(kraken.callsTo('TradesHistory').length).toBeGreaterThanOrEqual(1);
    expect(await testDb.db.select().from(engineRequests).where(eq(engineRequests.kind, 'reconcile'))).toEqual([]);
  });

  it('fails with the differences when Kraken\'s history does not match the ledger', async () => {
    const w = await worker();
    const webCtx = await web(w, { KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET });
    await executeKill(webCtx, { actor: alice, reason: 'drill', trigger: 'manual' });
    // A live fill Kraken never saw.
    const [intent] = await testDb.db.insert(orderIntents).values({
      clientOrderId: 'ctb-ghost', mode: 'live', feed: 'kraken', strategy: 's', symbol: 'BTC/USD', side: 'buy', purpose: 'entry', type: 'market',
      quantity: '0.01', status: 'filled', createdAt: w.clock.now(), updatedAt: w.clock.now(),
    } as typeof orderIntents.$inferInsert).returning();
    await testDb.db.insert(fills).values({
      intentId: intent!.id, clientOrderId: 'ctb-ghost', exchangeTradeId: 'TGHOST-1', exchangeOrderId: 'OGHOST-1', mode: 'live', feed: 'kraken',
      symbol: 'BTC/USD', side: 'buy', quantity: '0.01', price: '50000', fee: '1', feeCurrency: 'USD', filledAt: w.clock.now(),
    });
    const r = await doChecklistItem(webCtx, { item: 'reconcile_ledger', actor: alice, confirmed: false });
    expect(r).toMatchObject({ ok: false, state: 'failed' });
    expect(r.summary).toMatch(/^RECONCILE FAILED — .*1 missing on exchange/);
    expect(await item('reconcile_ledger')).toMatchObject({ state: 'failed', doneAt: null });
  });

  it('without the key, is asked of the engine\'s process, which reads Kraken with its key', async () => {
    const w = await worker({ KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET });
    const webCtx = await web(w);
    await executeKill(webCtx, { actor: alice, reason: 'drill', trigger: 'manual' });
    const asked = await doChecklistItem(webCtx, { item: 'reconcile_ledger', actor: alice, confirmed: false });
    expect(asked).toMatchObject({ state: 'pending' });
    expect(kraken.callsTo('TradesHistory')).toEqual([]);
    await engineRunner(w).drain();
    expect(kraken.callsTo('TradesHistory').length).toBeGreaterThanOrEqual(1);
    expect(await item('reconcile_ledger')).toMatchObject({ state: 'done', doneBy: 'U0ALICE', outcome: expect.objectContaining({ summary: expect.stringMatching(/^RECONCILE OK/) }) });
  });

  it('is refused with its reason when no process asked has the key and the ledger holds live orders', async () => {
    const w = await worker();
    const webCtx = await web(w);
    await executeKill(webCtx, { actor: alice, reason: 'drill', trigger: 'manual' });
    await testDb.db.insert(orderIntents).values({
      clientOrderId: 'ctb-live-1', mode: 'live', feed: 'kraken', strategy: 's', symbol: 'BTC/USD', side: 'buy', purpose: 'entry', type: 'market',
      quantity: '0.01', status: 'sent', createdAt: w.clock.now(), updatedAt: w.clock.now(),
    } as typeof orderIntents.$inferInsert);
    await doChecklistItem(webCtx, { item: 'reconcile_ledger', actor: alice, confirmed: false });
    await engineRunner(w).drain();
    const refused = await item('reconcile_ledger');
    expect(refused).toMatchObject({ state: 'failed', doneAt: null });
    expect(String(refused.outcome?.summary)).toMatch(/^Refused: the ledger holds 1 live order intent\(s\) and 0 live fill\(s\), but neither the asking process nor the engine's has a Kraken key/);
  });
});

describe('an item waiting on the engine\'s process', () => {
  /** The engine lease of a running engine (worker-host:4242), as the tests' runner plays it. */
  const engineLease = { holderId: 'worker-host', host: 'worker-host', pid: 4242, role: 'worker', feed: 'replay', armed: false, hasKrakenKeys: false };

  for (const key of ['close_positions', 'reconcile_ledger'] as const) {
    it(`${key} says what its request stands at now, in the reply, the terminal, Slack and --json alike: never "handed to the engine's process" before an engine takes it`, async () => {
      const w = await worker();
      const webCtx = await web(w);
      await executeKill(webCtx, { actor: alice, reason: 'drill', trigger: 'manual' });
      const asked = await doChecklistItem(webCtx, { item: key, actor: alice, confirmed: true });
      const requestId = asked.requestId!;
      const undone = key === 'close_positions' ? 'no position is closed' : 'the ledger is not reconciled';
      const shown = async () => {
        const result = await runCommand(incidentShowCommand, webCtx, alice, {});
        const view = result.current!;
        const row = view.items.find((i) => i.item === key)!;
        const terminal = renderIncident(result).split('\n').find((l) => l.includes(key))!;
        const slack = JSON.stringify(renderSlackIncident(view.incident, view.items).blocks);
        const json = (JSON.parse(JSON.stringify(result)) as typeof result).current!.items.find((i) => i.item === key)!;
        return { row, terminal, slack, json };
      };

      // No engine runs: queued, not yet taken, and it says so.
      const none = `queued in the database for the engine's process (request #${requestId}), not yet taken: no engine is running (no engine running); start one (ctb start --role worker); until one takes it, ${undone}`;
      expect(asked).toMatchObject({ ok: false, state: 'pending', requestId: expect.any(Number) });
      expect(asked.summary).toBe(`Q${none.slice(1)}.`);
      expect(renderItemDone(asked)).toBe(`${key}: PENDING — Q${none.slice(1)}.`);
      expect(JSON.stringify(renderChecklistTick(asked))).toContain(`pending — Q${none.slice(1)}.`);
      const queued = await shown();
      expect(queued.row.waiting).toMatchObject({ requestId, waitsFor: 'engine', takenBy: null, runningBot: null, botKnown: true, engine: 'no engine running', text: none });
      expect(queued.json.waiting).toMatchObject({ requestId, waitsFor: 'engine', takenBy: null, text: none });
      expect(queued.terminal).toContain(`PENDING: ${none}`);
      expect(queued.slack).toContain(`*pending*: ${none}`);
      for (const text of [queued.terminal, queued.slack, JSON.stringify(queued.json), asked.summary]) expect(text).not.toMatch(/handed to the engine|Handed to the engine/);

      // An engine starts: still not taken, and the item names it; a second click says the same.
      await acquireLease(testDb.db, engineLease, 15_000);
      const running = `queued in the database for the engine's process (request #${requestId}), not yet taken; the running engine (worker-host:4242) has not taken it yet`;
      expect((await shown()).row.waiting!.text).toBe(running);
      expect((await doChecklistItem(webCtx, { item: key, actor: alice, confirmed: true })).summary).toBe(`Q${running.slice(1)}.`);

      // It claims the request: from then on the item says which process took it.
      expect(await claimEngineRequest(testDb.db, 'worker-host:4242', [key === 'close_positions' ? 'flatten' : 'reconcile'])).toMatchObject({ id: requestId });
      const taken = await shown();
      const by = `taken by worker-host:4242, the engine's process (request #${requestId}); its answer shows here when it finishes`;
      expect(taken.row.waiting).toMatchObject({ requestId, takenBy: 'worker-host:4242', text: by });
      expect(taken.json.waiting).toMatchObject({ takenBy: 'worker-host:4242', text: by });
      expect(taken.terminal).toContain(`PENDING: ${by}`);
      expect(taken.slack).toContain(`*pending*: ${by}`);
      expect(taken.terminal).not.toMatch(/not yet taken/);
    });
  }
  it('is not rewritten in the Slack thread every poll while only the stale engine lease\'s age grows', async () => {
    const w = await worker();
    const webCtx = await web(w);
    await executeKill(webCtx, { actor: alice, reason: 'drill', trigger: 'manual' });
    await doChecklistItem(webCtx, { item: 'close_positions', actor: alice, confirmed: true });
    // An engine that died an hour ago: its lease names it, stale, and its age goes on growing.
    await acquireLease(testDb.db, engineLease, 15_000);
    await testDb.db.update(engineLeaseTable).set({ heartbeatAt: sql`now() - interval '1 hour'` });
    await testDb.db.update(incidents).set({ slackChannel: 'C0OPS', slackTs: '1.2' });
    const updates: string[] = [];
    const refresh = incidentThreadRefresher(webCtx, { update: async (_i, items) => void updates.push(items.find((i) => i.item === 'close_positions')!.waiting!.text), note: async () => {} });
    await refresh();
    expect(updates).toHaveLength(1);
    expect(updates[0]).toMatch(/not yet taken: no engine is running \(stale since .*s ago\): died or hung/);
    await new Promise((r) => setTimeout(r, 1_100));
    await refresh();
    // The same standing (queued, no engine running): the thread keeps its message; Slack is not asked twice a second.
    expect(updates).toHaveLength(1);
  });
});

describe('notify stakeholders', () => {
  it('records who marked it and when, and claims nothing it cannot know', async () => {
    const w = await worker();
    const webCtx = await web(w);
    await executeKill(webCtx, { actor: alice, reason: 'drill', trigger: 'manual' });
    const r = await doChecklistItem(webCtx, { item: 'notify_stakeholders', actor: alice, confirmed: false, note: 'told the desk' });
    expect(r).toMatchObject({ ok: true, state: 'done', doneBy: 'U0ALICE' });
    expect(r).toMatchObject({ doneAt: w.clock.now() });
    expect(r.summary).toBe('Marked done by hand: the bot cannot check who was told.');
    expect(r.summary).not.toMatch(/notified/i);
    // Who and when are said once, beside the summary, not again inside it.
    expect(renderItemDone(r)).toBe(`notify_stakeholders: done by U0ALICE at ${w.clock.now().toISOString()} — Marked done by hand: the bot cannot check who was told.`);
    const [row] = await testDb.db.select().from(incidentChecklistItems).where(sql`item = 'notify_stakeholders'`);
    expect(row?.outcome).toMatchObject({ note: 'told the desk' });
  });
});
