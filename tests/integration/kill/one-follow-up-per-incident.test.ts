// One incident, one follow-up cancel open at a time. The bot's halt cancel (it holds the Kraken key)
// and a kill from a shell without the key can both answer unconfirmed on a full Kraken rate counter
// and each hand the cancel on; whatever the order of their writes, the incident then has one open
// follow-up — the database holds it (a partial unique index), not either process — so the bot sends
// Kraken one try at a time. Real PostgreSQL with two connection pools (two processes) and the PGlite
// path (contexts sharing one instance); the Kraken simulator with its rate counters on (Starter),
// one manual clock.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { connectPostgres, type Database } from '../../../src/db/client.js';
import { extendFollowUpGiveUp, followUpWaitAges } from '../../../src/db/queries/engine-requests.js';
import { engineRequests, incidentChecklistItems } from '../../../src/db/schema/index.js';
import { cancelAllHandler, startCancelAllRunner } from '../../../src/services/engine-requests/handlers.js';
import { startRequestRunner } from '../../../src/services/engine-requests/runner.js';
import { CANCEL_FOLLOW_UP_MS, followUpGiveUpAt } from '../../../src/services/kill/cancel-follow-up.js';
import { CANCEL_ALL_STALE_MS } from '../../../src/domain/cancel-handover.js';
import { checklistFollowUp, checklistRetry, closeUnansweredFollowUps, markChecklistAttempt } from '../../../src/services/kill/checklist-records.js';
import { writeFollowUp } from '../../../src/services/kill/follow-up-request.js';
import { cancelOnHalt, haltCancelSince } from '../../../src/services/kill/halt-cancel.js';
import { startHaltWatcher } from '../../../src/services/kill/halt-watcher.js';
import { executeKill } from '../../../src/services/kill/kill.js';
import { createTestDb, emptyTablesSql, type DbKind } from '../../support/db.js';
import { engineContext } from '../../support/engine.js';
import { ageFollowUps, followUpAges, liveContext, rateLimitedKrakenWithRestingOrder, passUntilDue, startLiveKraken } from '../../support/live-engine.js';
import { fillRateCounter, privateCall } from '../../support/simulator.js';
import { recordLiveOrderEver } from '../../support/live-order-ever.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!().catch(() => {});
});

const operator = { id: 'U0OPERATOR', source: 'slack' as const };
// The database's deadline is not what is tested: a loaded machine must not turn a write into a saved kill.
const quick = { KILL_CONFIRM_ATTEMPTS: '1', KILL_CONFIRM_WAIT: '1ms', KRAKEN_RATE_TIER: 'starter', KILL_DB_TIMEOUT: '30s' };

/** One machine's DATA_DIR for both processes (a kill is saved there first), and no other file's. */
function dataDir(): { DATA_DIR: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ctb-one-follow-up-'));
  cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
  return { DATA_DIR: dir };
}

const openFollowUps = (database: Database) => database.db.select().from(engineRequests)
  .where(and(eq(engineRequests.kind, 'cancel_all'), inArray(engineRequests.status, ['pending', 'running']), sql`${engineRequests.params} ->> 'followUp' = 'true'`));

/** The bot with the Kraken key, and a shell without it on its own connections to the same database. */
async function world() {
  const { clock, database, kraken } = await rateLimitedKrakenWithRestingOrder(cleanup);
  await recordLiveOrderEver(database.db);
  const env = { ...quick, ...dataDir() };
  const bot = await liveContext(database, kraken, env, { clock });
  cleanup.push(() => bot.ctx.close());
  const shellDb = connectPostgres(database.url, { max: 2 });
  cleanup.push(() => shellDb.close());
  const shell = await engineContext(shellDb, env, { clock });
  cleanup.push(() => shell.ctx.close());
  const cancelAlls = () => kraken.sim.calls.filter((c) => c.endpoint === 'CancelAll').length;
  const runner = () => {
    const r = startCancelAllRunner(bot.ctx, { holder: 'bot-1:7', timer: false });
    cleanup.push(() => r.stop());
    return r;
  };
  return { clock, database, kraken, bot, shell, cancelAlls, runner };
}

describe('one open follow-up cancel per incident', () => {
  it("a shell's kill and the bot's halt cancel, both unconfirmed on a full counter, hand on one follow-up, tried once at a time", async () => {
    const w = await world();
    // As the kill feature wires it in the bot: halt means cancel.
    const stop = w.bot.ctx.kill.latch.onHalt((reason) => void cancelOnHalt(w.bot.ctx, reason));
    cleanup.push(async () => stop());
    const watcher = await startHaltWatcher(w.bot.ctx, { timer: false });
    cleanup.push(() => watcher.stop());
    await fillRateCounter(w.kraken.sim);

    // The shell's kill and the bot's poll run side by side: the bot sees the halt and cancels while
    // the kill hands its own cancel on.
    const killing = executeKill(w.shell.ctx, { actor: operator, reason: 'x', trigger: 'manual' });
    let haltCancel: ReturnType<typeof haltCancelSince> = null;
    for (let i = 0; i < 2000 && !haltCancel; i++) {
      await watcher.check();
      haltCancel = haltCancelSince(w.bot.ctx, 0);
      if (!haltCancel) await new Promise((r) => setTimeout(r, 5));
    }
    const [result, halt] = await Promise.all([killing, haltCancel]);
    expect(halt).toMatchObject({ confirmed: false });
    expect(result.ok).toBe(false);
    const requestId = (result.followUp as { requestId: number }).requestId;
    expect(requestId).toEqual(expect.any(Number));

    const [item] = await w.database.db.select().from(incidentChecklistItems)
      .where(and(eq(incidentChecklistItems.incidentId, result.incidentId!), eq(incidentChecklistItems.item, 'cancel_orders')));
    expect(item).toMatchObject({ state: 'pending', requestId });

    // The bot's rounds of tries, each when due: one follow-up, never more than one CancelAll a round,
    // until Kraken's counter has room and the try confirms.
    const runner = w.runner();
    for (let round = 0; round < 5; round++) {
      const open = await openFollowUps(w.database);
      if (open.length === 0) break;
      expect(open.map((r) => [r.id, r.incidentId]), 'open follow-ups').toEqual([[requestId, result.incidentId]]);
      if (open[0]!.notBefore) await passUntilDue(w.database, open[0]!.id, w.clock);
      const calls = w.cancelAlls();
      await runner.drain();
      expect(w.cancelAlls() - calls, 'CancelAll calls of one round of tries').toBeLessThanOrEqual(1);
    }
    const [done] = await w.database.db.select().from(engineRequests).where(eq(engineRequests.id, requestId));
    expect(done, JSON.stringify(done?.result)).toMatchObject({ status: 'done' });
  }, 60_000);

  it('writes interleaved across two processes (the halt\'s written first, marked last) still leave one request for the bot', async () => {
    const w = await world();
    // An incident whose kill confirmed (the counter had room): nothing follows it up yet.
    const kill = await executeKill(w.bot.ctx, { actor: operator, reason: 'x', trigger: 'manual' });
    expect(kill.ok).toBe(true);
    const incidentId = kill.incidentId!;
    await privateCall(w.kraken.sim, 'AddOrder', { pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '30000', volume: '0.01' });
    await fillRateCounter(w.kraken.sim);
    const startedAt = Date.now();

    // The statements of the halt's hand-on (the bot) and the kill's (the shell), in the worst order.
    const byHalt = await writeFollowUp(w.bot.ctx, { incidentId, killId: kill.killId, actor: 'system:halt-cancel', reason: 'halt', startedAt, halt: true });
    const byKill = await writeFollowUp(w.shell.ctx, { incidentId, killId: 'kill-2', actor: operator.id, reason: 'x', startedAt });
    await markChecklistAttempt(w.shell.ctx, { incidentId, item: 'cancel_orders', state: 'pending', requestId: byKill.requestId, outcome: { summary: 'kill' } });
    await markChecklistAttempt(w.bot.ctx, { incidentId, item: 'cancel_orders', state: 'pending', requestId: byHalt.requestId, outcome: { summary: 'halt' } });
    expect(byKill).toMatchObject({ requestId: byHalt.requestId, joined: true });
    expect(byHalt.joined).toBe(false);

    const calls = w.cancelAlls();
    expect(await w.runner().drain()).toBe(1);
    expect(w.cancelAlls() - calls, 'CancelAll calls of one round of tries').toBe(1);
    expect((await openFollowUps(w.database)).map((r) => r.id)).toEqual([byHalt.requestId]);
  }, 60_000);

  it("a halt's follow-up written before its kill's incident existed becomes the incident's", async () => {
    const w = await world();
    const kill = await executeKill(w.bot.ctx, { actor: operator, reason: 'x', trigger: 'manual' });
    const incidentId = kill.incidentId!;
    // The bot latched the kill from DATA_DIR and its halt cancel found no incident yet.
    const byHalt = await writeFollowUp(w.bot.ctx, { incidentId: null, killId: 'halt:x', actor: 'system:halt-cancel', reason: 'halt', startedAt: Date.now(), halt: true });
    const byKill = await writeFollowUp(w.shell.ctx, { incidentId, killId: kill.killId, actor: operator.id, reason: 'x', startedAt: Date.now() });
    expect(byKill).toMatchObject({ requestId: byHalt.requestId, joined: true });
    expect((await openFollowUps(w.database)).map((r) => [r.id, r.incidentId, r.checklistItem])).toEqual([[byHalt.requestId, incidentId, 'cancel_orders']]);
  }, 60_000);

  it("a kill that joins the open follow-up 4 min after it was written gets its whole time: the bot gives up at the joiner's give-up time, not the first writer's", async () => {
    const w = await world();
    const kill = await executeKill(w.bot.ctx, { actor: operator, reason: 'x', trigger: 'manual' });
    const incidentId = kill.incidentId!;
    await privateCall(w.kraken.sim, 'AddOrder', { pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '30000', volume: '0.01' });
    const firstAt = w.clock.now().getTime();
    const realAt = performance.now();
    const byHalt = await writeFollowUp(w.bot.ctx, { incidentId, killId: kill.killId, actor: 'system:halt-cancel', reason: 'halt', startedAt: Date.now(), halt: true });
    w.clock.advance(4 * 60_000);
    await ageFollowUps(w.database, 4 * 60_000);
    const byKill = await writeFollowUp(w.shell.ctx, { incidentId, killId: 'kill-2', actor: operator.id, reason: 'x', startedAt: Date.now() });
    expect(byKill).toMatchObject({ requestId: byHalt.requestId, joined: true });

    // Kraken refuses every try (another program keeps the counter full): the bot tries until it gives up.
    const runner = w.runner();
    const request = async () => (await w.database.db.select().from(engineRequests).where(eq(engineRequests.id, byHalt.requestId)))[0]!;
    for (let round = 0; round < 120 && (await request()).status === 'pending'; round++) {
      const row = await request();
      if (row.notBefore) {
        await passUntilDue(w.database, row.id, w.clock);
      }
      await fillRateCounter(w.kraken.sim);
      await runner.drain();
    }
    const row = await request();
    expect(row.status, JSON.stringify(row.result)).toBe('failed');
    expect(w.clock.now().getTime(), 'gave up after the first writer\'s 10 min').toBeGreaterThan(firstAt + CANCEL_FOLLOW_UP_MS);
    // The test's clock passes each wait 1 s past its due time and carries the real time the rounds
    // took (passUntilDue), so it may end that far past the give-up time: seconds, against the 4 min
    // between the two writers' give-up times that this tells apart.
    const carried = 1_000 + Math.ceil(performance.now() - realAt);
    expect(w.clock.now().getTime(), 'and by the joiner\'s').toBeLessThanOrEqual(firstAt + 4 * 60_000 + CANCEL_FOLLOW_UP_MS + carried);
    expect(String(row.result?.['summary'])).toMatch(/^Gave up after \d+ tries over 14 min: /);
  }, 120_000);

  it('a kill that joins while the bot gives up (after it read the give-up time, before it closed the request) finds the bot still trying: no give-up, no alert', async () => {
    const w = await world();
    const kill = await executeKill(w.bot.ctx, { actor: operator, reason: 'x', trigger: 'manual' });
    const incidentId = kill.incidentId!;
    await privateCall(w.kraken.sim, 'AddOrder', { pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '30000', volume: '0.01' });
    const byHalt = await writeFollowUp(w.bot.ctx, { incidentId, killId: kill.killId, actor: 'system:halt-cancel', reason: 'halt', startedAt: Date.now(), halt: true });
    // Its last try: 3 tried, a second before its give-up time, and Kraken refuses this one too.
    await w.database.db.update(engineRequests).set({ result: { summary: 'try 3 failed', tries: 3 } }).where(eq(engineRequests.id, byHalt.requestId));
    w.clock.advance(CANCEL_FOLLOW_UP_MS - 1_000);
    await ageFollowUps(w.database, CANCEL_FOLLOW_UP_MS - 1_000);
    await fillRateCounter(w.kraken.sim);

    // The shell's kill joins in the moment between the bot's try (its give-up decision) and its close.
    const handler = cancelAllHandler(w.bot.ctx);
    let joined: Awaited<ReturnType<typeof writeFollowUp>> | undefined;
    const runner = startRequestRunner(w.bot.ctx, {
      holder: 'bot-1:7', timer: false, onFinished: checklistFollowUp(w.bot.ctx), onRetry: checklistRetry(w.bot.ctx),
      handlers: {
        cancel_all: async (request) => {
          const outcome = await handler(request);
          joined = await writeFollowUp(w.shell.ctx, { incidentId, killId: 'kill-2', actor: operator.id, reason: 'x', startedAt: Date.now() });
          return outcome;
        },
      },
    });
    cleanup.push(() => runner.stop());
    const raised = w.bot.alerts.raised.length;
    expect(await runner.drain()).toBe(1);
    expect(joined).toMatchObject({ requestId: byHalt.requestId, joined: true });

    const [row] = await w.database.db.select().from(engineRequests).where(eq(engineRequests.id, byHalt.requestId));
    expect(row, JSON.stringify(row?.result)).toMatchObject({ status: 'pending', error: null });
    expect(String(row!.result?.['summary'])).toMatch(/^Cancel pending — the bot retries until Kraken confirms, next try at .* \(try 4 failed; a later kill joined it and moved its give-up time\)\. /);
    expect((await followUpWaitAges(w.database.db, byHalt.requestId))!.dueAgoMs, 'its next try, still ahead on the database\'s clock').toBeLessThan(0);
    expect((await followUpAges(w.database, byHalt.requestId)).giveUpInMs, 'its give-up time, moved by the join').toBeGreaterThan(CANCEL_FOLLOW_UP_MS - 60_000);
    expect(w.bot.alerts.raised.slice(raised).filter((a) => a.severity === 'critical'), 'alerts raised').toEqual([]);
    const [item] = await w.database.db.select().from(incidentChecklistItems)
      .where(and(eq(incidentChecklistItems.incidentId, incidentId), eq(incidentChecklistItems.item, 'cancel_orders')));
    expect(item?.state).not.toBe('failed');
  }, 60_000);

  it('a kill that joins while the bot finds the follow-up too old (after it read its times, before it closed it) has it carried out, not closed as too old', async () => {
    const w = await world();
    const kill = await executeKill(w.bot.ctx, { actor: operator, reason: 'x', trigger: 'manual' });
    const incidentId = kill.incidentId!;
    await privateCall(w.kraken.sim, 'AddOrder', { pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '30000', volume: '0.01' });
    const byHalt = await writeFollowUp(w.bot.ctx, { incidentId, killId: kill.killId, actor: 'system:halt-cancel', reason: 'halt', startedAt: Date.now(), halt: true });
    // No bot took it within CANCEL_ALL_STALE_MS of its writing (on the database's clock): the next to take it finds it too old.
    w.clock.advance(CANCEL_ALL_STALE_MS + 60_000);
    await w.database.db.execute(sql`update engine_requests set params = params || jsonb_build_object('writtenAt',
      to_char((now() - ${CANCEL_ALL_STALE_MS + 60_000} * interval '1 millisecond') at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) where id = ${byHalt.requestId}`);

    // The shell's kill joins in the moment between the bot's verdict (too old) and its close.
    const handler = cancelAllHandler(w.bot.ctx);
    let joined: Awaited<ReturnType<typeof writeFollowUp>> | undefined;
    let verdict: string | undefined;
    const runner = startRequestRunner(w.bot.ctx, {
      holder: 'bot-1:7', timer: false, onFinished: checklistFollowUp(w.bot.ctx), onRetry: checklistRetry(w.bot.ctx),
      handlers: {
        cancel_all: async (request) => {
          const outcome = await handler(request);
          verdict ??= outcome.summary;
          if (!joined) joined = await writeFollowUp(w.shell.ctx, { incidentId, killId: 'kill-2', actor: operator.id, reason: 'x', startedAt: Date.now() });
          return outcome;
        },
      },
    });
    cleanup.push(() => runner.stop());
    const calls = w.cancelAlls();
    expect(await runner.drain()).toBeGreaterThanOrEqual(1);
    expect(verdict).toMatch(/^Not carried out: requested at .*, too long ago to act on\.$/);
    expect(joined).toMatchObject({ requestId: byHalt.requestId, joined: true });

    // Put back due at once, then tried: Kraken gets the joined kill's cancel.
    const [row] = await w.database.db.select().from(engineRequests).where(eq(engineRequests.id, byHalt.requestId));
    expect(String(row!.result?.['summary'])).not.toMatch(/too long ago/);
    expect(row!.error).toBeNull();
    expect(w.cancelAlls() - calls, 'CancelAll calls for the joined follow-up').toBeGreaterThanOrEqual(1);
    const [item] = await w.database.db.select().from(incidentChecklistItems)
      .where(and(eq(incidentChecklistItems.incidentId, incidentId), eq(incidentChecklistItems.item, 'cancel_orders')));
    expect(item?.state).not.toBe('failed');
  }, 60_000);

  it('a writer that found the follow-up open but whose join lands after the bot closed it writes its own, not "joined"', async () => {
    const w = await world();
    const kill = await executeKill(w.bot.ctx, { actor: operator, reason: 'x', trigger: 'manual' });
    const byKill = await writeFollowUp(w.shell.ctx, { incidentId: kill.incidentId!, killId: kill.killId, actor: operator.id, reason: 'x', startedAt: Date.now() });
    // The bot closes it (gave up) in a transaction of its own, committed only once the halt's writer,
    // having read it open, waits on the row to join it.
    const botDb = connectPostgres(w.database.url, { max: 1 });
    cleanup.push(() => botDb.close());
    let writing: ReturnType<typeof writeFollowUp> | undefined;
    await botDb.db.transaction(async (tx) => {
      await tx.update(engineRequests).set({ status: 'failed', finishedAt: new Date(), error: 'gave up' }).where(eq(engineRequests.id, byKill.requestId));
      writing = writeFollowUp(w.bot.ctx, { incidentId: null, killId: 'halt:x', actor: 'system:halt-cancel', reason: 'halt', startedAt: Date.now(), halt: true });
      for (;;) {
        const waiting = await w.database.db.execute(sql`select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`);
        if ((Array.isArray(waiting) ? waiting : (waiting as { rows: unknown[] }).rows).length > 0) break;
        await new Promise((r) => setTimeout(r, 10));
      }
    });
    const byHalt = await writing!;
    expect(byHalt.joined).toBe(false);
    expect(byHalt.requestId).not.toBe(byKill.requestId);
    expect((await openFollowUps(w.database)).map((r) => r.id)).toEqual([byHalt.requestId]);
  }, 60_000);

  it("a halt's follow-up written in the moment its kill's was (two open) stops without calling Kraken; the incident's tries", async () => {
    const w = await world();
    const kill = await executeKill(w.bot.ctx, { actor: operator, reason: 'x', trigger: 'manual' });
    await fillRateCounter(w.kraken.sim);
    const byKill = await writeFollowUp(w.shell.ctx, { incidentId: kill.incidentId!, killId: kill.killId, actor: operator.id, reason: 'x', startedAt: Date.now() });
    // As the halt's hand-on writes it when it looked for an incident before the kill's was committed.
    const [byHalt] = await w.database.db.insert(engineRequests).values({
      // Written now: a request's age is read on the database's clock, not the test's manual one.
      kind: 'cancel_all', requestedBy: 'system:halt-cancel', requestedAt: new Date(), params: { followUp: true, halt: true, killId: 'halt:x' },
    }).returning();
    const calls = w.cancelAlls();
    expect(await w.runner().drain()).toBe(2);
    expect(w.cancelAlls() - calls).toBe(1);
    const [halt] = await w.database.db.select().from(engineRequests).where(eq(engineRequests.id, byHalt!.id));
    expect(halt).toMatchObject({ status: 'failed', error: `Stopped after 0 tries: the cancel goes on as request #${byKill.requestId}, incident #${kill.incidentId}'s.` });
    expect((await openFollowUps(w.database)).map((r) => r.id)).toEqual([byKill.requestId]);
  }, 60_000);
});

/**
 * An incident from a kill in a process without the key (paper only): its kill hands on a follow-up.
 * On `shared` (a database emptied for this test) or, without it, on a database of its own.
 */
async function incidentWithFollowUp(kind: DbKind, shared?: Database) {
  const database = shared ?? await createTestDb(kind);
  if (!shared) cleanup.push(() => database.close());
  const clock = new ManualClock('2026-01-05T12:00:00Z');
  // A second process: its own pool on PostgreSQL; on PGlite, a context on the one instance.
  const second = kind === 'postgres' ? connectPostgres((database as { url: string } & Database).url, { max: 2 }) : database;
  if (second !== database) cleanup.push(() => second.close());
  const env = { ...quick, ...dataDir() };
  const a = await engineContext(database, env, { clock });
  const b = await engineContext(second, env, { clock });
  cleanup.push(() => a.ctx.close(), () => b.ctx.close());
  await recordLiveOrderEver(database.db);
  const kill = await executeKill(a.ctx, { actor: operator, reason: 'x', trigger: 'manual' });
  const first = (kill.followUp as { requestId: number }).requestId;
  expect(first).toEqual(expect.any(Number));
  return { database, a, b, kill, first, clock };
}

describe.each<DbKind>(['postgres', 'pglite'])('the follow-up index on %s', (kind) => {
  // One database for the checks that leave its schema as migrated, emptied before each (every table's
  // rows, its sequences restarted): as a fresh one would be, without opening one a test.
  let shared: Database | undefined;
  beforeAll(async () => {
    shared = await createTestDb(kind);
  }, 60_000);
  afterAll(async () => {
    await shared?.close();
  });
  beforeEach(async () => {
    const listed = await shared!.db.execute(sql`select tablename from pg_tables where schemaname = 'public'`);
    const tables = ((Array.isArray(listed) ? listed : (listed as { rows: unknown[] }).rows) as Array<{ tablename: string }>).map((r) => r.tablename);
    await shared!.db.execute(sql.raw(emptyTablesSql(tables)));
  });
  const emptied = () => incidentWithFollowUp(kind, shared);

  it('a writer that joins the open follow-up moves its give-up time to the later of the two, never to an earlier one', async () => {
    const { database, a, b, kill, first } = await emptied();
    const giveUpAt = async () => followUpGiveUpAt((await database.db.select().from(engineRequests).where(eq(engineRequests.id, first)))[0]!);
    const write = (ctx: typeof a.ctx) => writeFollowUp(ctx, { incidentId: kill.incidentId!, killId: 'later', actor: 'b', reason: 'again', startedAt: Date.now() });
    // Written 4 min ago: a join now gives it up 10 min from now, 4 min later than it would have.
    await ageFollowUps(database, 4 * 60_000);
    const written = await giveUpAt();
    expect(await write(b.ctx)).toMatchObject({ requestId: first, joined: true });
    const joined = await giveUpAt();
    expect(joined - written).toBeGreaterThanOrEqual(4 * 60_000);
    // A join whose give-up time would be earlier (one that gives up sooner) leaves the later one.
    await database.db.update(engineRequests).set({ params: sql`${engineRequests.params} || jsonb_build_object('giveUpAt', ${new Date(joined + 60 * 60_000).toISOString()}::text)` })
      .where(eq(engineRequests.id, first));
    expect(await write(a.ctx)).toMatchObject({ requestId: first, joined: true });
    expect(await giveUpAt()).toBe(joined + 60 * 60_000);
  }, 60_000);

  it("the give-up and join times are the database's, whatever the writing process's clock says", async () => {
    // The writers' clock is months off the database's (a manual clock); the joiner's is an hour behind that.
    const { database, a, b, kill, first, clock } = await emptied();
    const written = await followUpAges(database, first);
    expect(written.giveUpInMs).toBeGreaterThan(CANCEL_FOLLOW_UP_MS - 60_000);
    expect(written.giveUpInMs).toBeLessThanOrEqual(CANCEL_FOLLOW_UP_MS);
    expect(written.joinedAgoMs).toBeNull();
    await ageFollowUps(database, 4 * 60_000);
    clock.advance(-60 * 60_000);
    expect(await writeFollowUp(b.ctx, { incidentId: kill.incidentId!, killId: 'later', actor: 'b', reason: 'again', startedAt: Date.now() }))
      .toMatchObject({ requestId: first, joined: true });
    const joined = await followUpAges(database, first);
    expect(joined.giveUpInMs).toBeGreaterThan(CANCEL_FOLLOW_UP_MS - 60_000);
    expect(joined.joinedAgoMs).toBeGreaterThanOrEqual(0);
    expect(joined.joinedAgoMs).toBeLessThan(60_000);
  }, 60_000);

  it('a follow-up no bot has taken, joined 4 min after its writing, waits for a bot 5 min from the join, not from its first writing', async () => {
    const { database, a, b, kill, first, clock } = await emptied();
    const row = async () => (await database.db.select().from(engineRequests).where(eq(engineRequests.id, first)))[0]!;
    const items = async () => database.db.select().from(incidentChecklistItems).where(eq(incidentChecklistItems.incidentId, kill.incidentId!));
    clock.advance(4 * 60_000);
    expect(await writeFollowUp(b.ctx, { incidentId: kill.incidentId!, killId: 'later', actor: 'b', reason: 'again', startedAt: Date.now() })).toMatchObject({ requestId: first, joined: true });
    // 6 min after the first writing, 2 after the join: still waiting for a bot; one that takes it now does not refuse it as stale.
    clock.advance(2 * 60_000);
    await closeUnansweredFollowUps(a.ctx, await items());
    expect(await row()).toMatchObject({ status: 'pending' });
    expect((await cancelAllHandler(a.ctx)(await row())).summary).toBe('This process has no Kraken key either.');
    // 5 min after the join, nobody took it: closed, saying so.
    clock.advance(3 * 60_000 + 1);
    await ageFollowUps(database, 5 * 60_000 + 1);
    await closeUnansweredFollowUps(a.ctx, await items());
    expect(await row()).toMatchObject({ status: 'failed', error: expect.stringMatching(/^no bot with the Kraken key took it within 5 min of the last kill that joined it \(\d{4}-\d\d-\d\dT[\d:.]+Z\)$/) });
  }, 60_000);

  it('writers at once from two contexts all join the open follow-up; once it is closed, the next write is a new one', async () => {
    const { database, a, b, kill, first } = await emptied();
    const write = (ctx: typeof a.ctx, actor: string) =>
      writeFollowUp(ctx, { incidentId: kill.incidentId!, killId: kill.killId, actor, reason: 'again', startedAt: Date.now() });
    const written = await Promise.all([write(a.ctx, 'a1'), write(b.ctx, 'b1'), write(a.ctx, 'a2'), write(b.ctx, 'b2')]);
    expect(written.map((f) => [f.requestId, f.joined])).toEqual(Array(4).fill([first, true]));
    expect((await openFollowUps(database)).map((r) => r.id)).toEqual([first]);

    await database.db.update(engineRequests).set({ status: 'failed', finishedAt: new Date(), error: 'gave up' }).where(eq(engineRequests.id, first));
    const next = await write(b.ctx, 'b3');
    expect(next.joined).toBe(false);
    expect(next.requestId).toBeGreaterThan(first);
    expect((await openFollowUps(database)).map((r) => r.id)).toEqual([next.requestId]);
  }, 60_000);

  it("a halt without an incident joins the open incident's; one open beside it is not made the incident's second", async () => {
    const { database, a, b, kill, first } = await emptied();
    const halt = { incidentId: null, killId: 'halt:x', actor: 'system:halt-cancel', reason: 'halt', startedAt: Date.now(), halt: true };
    expect(await writeFollowUp(b.ctx, halt)).toMatchObject({ requestId: first, joined: true });
    const [beside] = await database.db.insert(engineRequests).values({
      kind: 'cancel_all', requestedBy: 'system:halt-cancel', requestedAt: new Date(), params: { followUp: true, halt: true, killId: 'halt:x' },
    }).returning();
    expect(await writeFollowUp(a.ctx, { incidentId: kill.incidentId!, killId: kill.killId, actor: 'a', reason: 'again', startedAt: Date.now() }))
      .toMatchObject({ requestId: first, joined: true });
    expect((await openFollowUps(database)).map((r) => [r.id, r.incidentId]).sort()).toEqual([[first, kill.incidentId], [beside!.id, null]]);
  }, 60_000);

  it('migrating a database that already has two open for one incident keeps the one its cancel item waits on', async () => {
    // This drops the index and runs its migration again, which makes it again: the shared database
    // is left as migrated, with no database of its own to open.
    const { database, kill, first } = await emptied();
    // As before the index: written beside the kill's, one older (a halt's) and one newer.
    await database.db.execute(sql`drop index "engine_requests_one_open_follow_up"`);
    const [row] = await database.db.select().from(engineRequests).where(eq(engineRequests.id, first));
    const { id: _id, ...copy } = row!;
    const [newer] = await database.db.insert(engineRequests).values({ ...copy, status: 'running', claimedBy: 'bot-1:7', claimedAt: new Date() }).returning();
    const [other] = await database.db.insert(engineRequests).values({ ...copy, incidentId: kill.incidentId! + 1 }).returning();

    // That migration's own statements, whatever migrations came after it.
    const statements = readFileSync(new URL('../../../migrations/0020_one_open_follow_up.sql', import.meta.url), 'utf8').split('--> statement-breakpoint');
    for (const statement of statements) await database.db.execute(sql.raw(statement));
    const rows = await database.db.select().from(engineRequests).where(inArray(engineRequests.id, [first, newer!.id, other!.id])).orderBy(engineRequests.id);
    expect(rows.map((r) => [r.id, r.status])).toEqual([[first, 'pending'], [newer!.id, 'failed'], [other!.id, 'pending']]);
    expect(rows[1]!.error).toBe(`Stopped: request #${first} goes on with this cancel (one open follow-up at a time).`);
    await expect(database.db.insert(engineRequests).values({ ...copy })).rejects.toThrow();
  }, 60_000);
});

describe('the incident read and a join at once (PostgreSQL, two connections)', () => {
  it('a follow-up the incident read judged unanswered, joined before its close is written, stays pending: the join is not overwritten', async () => {
    const { database, a, kill, first, clock } = await incidentWithFollowUp('postgres');
    const items = async () => database.db.select().from(incidentChecklistItems).where(eq(incidentChecklistItems.incidentId, kill.incidentId!));
    const row = async () => (await database.db.select().from(engineRequests).where(eq(engineRequests.id, first)))[0]!;
    clock.advance(5 * 60_000 + 1);
    await ageFollowUps(database, 5 * 60_000 + 1);
    // A later kill joins it in a transaction of its own, committed only once the incident read,
    // having read it unanswered, waits on the row to close it.
    const joinerDb = connectPostgres((database as { url: string } & Database).url, { max: 1 });
    cleanup.push(() => joinerDb.close());
    let reading: Promise<unknown> | undefined;
    await joinerDb.db.transaction(async (tx) => {
      await extendFollowUpGiveUp(tx, first, { spanMs: CANCEL_FOLLOW_UP_MS });
      reading = closeUnansweredFollowUps(a.ctx, await items());
      for (;;) {
        const waiting = await database.db.execute(sql`select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`);
        if ((Array.isArray(waiting) ? waiting : (waiting as { rows: unknown[] }).rows).length > 0) break;
        await new Promise((r) => setTimeout(r, 10));
      }
    });
    await reading;
    expect(await row()).toMatchObject({ status: 'pending', error: null });
    expect((await items()).find((i) => i.item === 'cancel_orders')).toMatchObject({ state: 'pending', requestId: first });
  }, 60_000);
});
