// /pause and /unpause driven the way Slack drives them: signed slash commands on the real Bolt
// receiver, real PostgreSQL. The trading state (active | reducing | halted) is read back from
// bot_state, the command trail and the badge of the bot's replies.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { ManualClock } from '../../../src/clock.js';
import { execute } from '../../../src/db/client.js';
import { equitySnapshots, riskEvents } from '../../../src/db/schema/index.js';
import { getBotState, updateBotState } from '../../../src/services/bot-state.js';
import { pauseEntries, RISK_GUARD_ACTOR } from '../../../src/services/entries-pause.js';
import { createPostgresTestDb, emptyTablesSql, type TestDatabase } from '../../support/db.js';
import { startSlackHarness, USERS, type SlackHarness } from '../../support/slack-harness.js';

let database: TestDatabase;
let h: SlackHarness;
const clock = new ManualClock('2026-03-02T10:00:00Z');
let logFrom = 0;
const commandLog = async () => (await h.commandLog()).filter((r) => r.id > logFrom);

beforeAll(async () => {
  database = await createPostgresTestDb();
  h = await startSlackHarness({ database, clock });
}, 120_000);
afterAll(async () => {
  await h?.close();
  await database?.close();
});
beforeEach(async () => {
  await execute(database.db, sql.raw(emptyTablesSql(['bot_state', 'risk_events', 'equity_snapshots'])));
  // command_log is append-only: each test reads the rows written after it started.
  logFrom = (await h.commandLog()).at(-1)?.id ?? 0;
  h.fake.calls.length = 0;
  clock.set('2026-03-02T10:00:00Z');
});

const texts = () => h.responses().map((r) => String(r.text));
async function slash(command: string, text: string, user: string = USERS.operator, extra: Parameters<SlackHarness['slash']>[2] = {}) {
  const res = await h.slash(command, text, { user, ...extra });
  expect(res.status).toBe(200);
  await h.idle();
  return texts().at(-1) ?? '';
}

/** What the risk guard leaves behind on a drawdown breach: the pause and its risk event. */
async function riskGuardPause(at: string, drawdownNow: number) {
  await database.db.insert(equitySnapshots).values({ mode: 'paper', feed: 'kraken', at: new Date(at), equity: '8900', cash: '8900', peakEquity: '10000', drawdownPct: '11' });
  await database.db.insert(riskEvents).values({
    at: new Date(at), kind: 'max_drawdown', value: '11', threshold: '10', action: 'entries_paused', details: { mode: 'paper', equity: '8900', reference: '10000' },
  });
  await pauseEntries(database.db, { now: () => new Date(at) }, { by: RISK_GUARD_ACTOR, reason: 'drawdown 11.00% reached the 10% limit (max_drawdown)' });
  // The engine's next snapshot, some minutes later.
  await database.db.insert(equitySnapshots).values({
    mode: 'paper', feed: 'kraken', at: new Date(new Date(at).getTime() + 15 * 60_000), equity: String(10000 * (1 - drawdownNow / 100)), cash: '8900', peakEquity: '10000', drawdownPct: String(drawdownNow),
  });
}

describe('/pause and /unpause in Slack', () => {
  it('an operator pauses in one step: reducing, with who, why and when, shown to the channel and in every badge', async () => {
    const reply = await slash('/pause', 'CPI print in 10 minutes');
    expect(reply).toMatch(/^\[PAPER · REDUCING\] New entries paused by UOPERATOR1: trading state reducing — CPI print in 10 minutes/);
    expect(h.responses().at(-1)!.response_type).toBe('in_channel');
    expect(await getBotState(database.db)).toMatchObject({
      entriesPaused: true, entriesPausedBy: USERS.operator, entriesPausedReason: 'CPI print in 10 minutes', entriesPausedAt: new Date('2026-03-02T10:00:00Z'), halted: false,
    });
    // Any later message carries the state: here a reader's /mode status.
    const status = await slash('/mode', 'status', USERS.reader);
    expect(status).toMatch(/^\[PAPER · REDUCING\]/);
    expect(JSON.stringify(h.responses().at(-1)!.blocks)).toContain('*reducing* — no new entries; exits and stop-losses continue');
    expect((await commandLog()).map((r) => [r.command, r.allowed, r.result])).toEqual([['pause', true, 'ok'], ['mode status', true, 'ok']]);
  });

  it('while halted, /pause says the halt comes first and what lifts it, and the alert promises no exits', async () => {
    await updateBotState(database.db, clock, { halted: true, haltedBy: 'UOPS1', haltedReason: 'fat finger', haltedAt: new Date('2026-03-02T09:00:00Z') });
    await slash('/pause', 'CPI');
    const blocks = JSON.stringify(h.responses().at(-1)!.blocks);
    expect(blocks).toContain(':octagonal_sign: *HALTED* — no orders at all (kill switch)');
    expect(blocks).toContain('*New entries paused too* — the halt comes first: nothing trades, exits and stop-losses included');
    expect(blocks).toContain('`/mode resume` lifts the halt, once an audit has passed since the halt (`/golive audit`) and the incident checklist is done. Then the bot is reducing');
    expect(blocks).not.toMatch(/Exits and stop-losses continue/);
    const [event] = await execute<{ title: string }>(database.db, sql`select e.title from alert_events e join alert_groups g on g.id = e.group_id where g.fingerprint = 'entries_paused:operator' order by e.id desc limit 1`);
    expect(event?.title).toBe('New entries paused by UOPERATOR1: CPI (the bot is halted: no orders at all until the halt is lifted; entries stay paused after it)');
  });

  it('refuses a reader, changes nothing, and records the refusal', async () => {
    const reply = await slash('/pause', 'let me', USERS.reader);
    expect(reply).toMatch(/not allowed to run `\/pause \[reason\]`: it needs the operator role/);
    expect((await getBotState(database.db)).entriesPaused).toBe(false);
    const unpause = await slash('/unpause', '', USERS.reader);
    expect(unpause).toMatch(/not allowed to run `\/unpause/);
    expect((await commandLog()).map((r) => [r.command, r.allowed])).toEqual([['pause', false], ['unpause', false]]);
  });

  it('while halted, /unpause says the halt comes first and what lifts it, not that entries resumed', async () => {
    await slash('/pause', 'CPI');
    await updateBotState(database.db, clock, { halted: true, haltedBy: 'UOPS1', haltedReason: 'fat finger', haltedAt: new Date('2026-03-02T09:00:00Z') });
    const reply = await slash('/unpause', '');
    expect(reply).toMatch(/New entries unpaused, but the bot is halted: nothing trades until the halt is lifted/);
    expect(reply).not.toMatch(/resumed/);
    const blocks = JSON.stringify(h.responses().at(-1)!.blocks);
    expect(blocks).toContain('*New entries unpaused* — but the halt comes first: nothing trades, exits and stop-losses included');
    expect(blocks).toContain('`/mode resume` lifts the halt, once an audit has passed since the halt (`/golive audit`) and the incident checklist is done. Then the bot is active');
    expect(await getBotState(database.db)).toMatchObject({ halted: true, entriesPaused: false });
    expect(blocks).toContain(':octagonal_sign: *HALTED* — no orders at all (kill switch)');
    const [event] = await execute<{ title: string }>(database.db, sql`select e.title from alert_events e join alert_groups g on g.id = e.group_id where g.fingerprint = 'entries_resumed' order by e.id desc limit 1`);
    expect(event?.title).toBe('New entries unpaused by UOPERATOR1 (the bot is halted: no orders at all until the halt is lifted; active after it)');
    // Nothing paused any more: the halt is still what keeps it from trading, and what lifts it is said.
    expect(await slash('/unpause', '')).toMatch(/New entries are not paused: there is nothing to unpause\./);
    expect(JSON.stringify(h.responses().at(-1)!.blocks)).toContain('The bot is halted, and the halt comes first: nothing trades, exits included. `/mode resume` lifts the halt');
  });

  it('a second pause says who paused first and keeps their reason and time', async () => {
    await slash('/pause', 'first');
    clock.set('2026-03-02T10:05:00Z');
    const again = await slash('/pause', 'second', USERS.operator);
    expect(again).toMatch(/New entries are already paused by UOPERATOR1 since 2026-03-02T10:00:00.000Z \(first\): nothing changed/);
    expect(await getBotState(database.db)).toMatchObject({ entriesPausedReason: 'first', entriesPausedAt: new Date('2026-03-02T10:00:00Z') });
    expect((await commandLog()).at(-1)).toMatchObject({ command: 'pause', allowed: true, result: expect.stringMatching(/^already_paused/) });
  });

  it('applies a retried /pause once', async () => {
    await slash('/pause', 'retry me', USERS.operator, { triggerId: 'trgPAUSE1' });
    await slash('/pause', 'retry me', USERS.operator, { triggerId: 'trgPAUSE1', retryNum: 1, retryReason: 'http_timeout' });
    expect(h.responses()).toHaveLength(1);
    expect((await commandLog()).filter((r) => r.command === 'pause')).toHaveLength(1);
    expect((await getBotState(database.db)).entriesPausedReason).toBe('retry me');
  });

  it('unpauses an operator pause at once and records it; a second unpause says there is nothing to do', async () => {
    await slash('/pause', 'maintenance');
    const reply = await slash('/unpause', '');
    expect(reply).toMatch(/^\[PAPER\] New entries resumed: trading state active/);
    expect(JSON.stringify(h.responses().at(-1)!.blocks)).toContain('Was paused by <@UOPERATOR1>');
    expect(await getBotState(database.db)).toMatchObject({ entriesPaused: false, entriesPausedBy: null, entriesPausedReason: null, entriesPausedAt: null });
    expect(await database.db.select().from(riskEvents)).toMatchObject([{ kind: 'cleared', action: 'entries_resumed', details: { actor: USERS.operator, forced: false, breach: null } }]);
    expect(await slash('/unpause', '')).toMatch(/New entries are not paused: there is nothing to unpause/);
  });

  it('after a risk-guard pause, names the breach and refuses until it clears or is forced with a reason', async () => {
    await riskGuardPause('2026-03-02T09:00:00Z', 10.8);
    const refused = await slash('/unpause', '');
    expect(refused).toMatch(/paused by the risk guard: drawdown 11\.00% reached the 10% limit \(max_drawdown\) at 2026-03-02T09:00:00\.000Z\. It has not cleared: drawdown 10\.80% at 2026-03-02T09:15:00\.000Z \(limit 10%\)/);
    expect((await getBotState(database.db)).entriesPaused).toBe(true);

    const noReason = await slash('/unpause', 'force');
    expect(noReason).toMatch(/`\/unpause force` needs a reason/);
    const badWord = await slash('/unpause', 'now please');
    expect(badWord).toMatch(/takes nothing, or `force <reason>` — got "now please"/);
    expect((await getBotState(database.db)).entriesPaused).toBe(true);

    const forced = await slash('/unpause', 'force reviewed the book with risk, resuming');
    expect(forced).toMatch(/New entries resumed: trading state active \(forced past a risk breach\)/);
    expect(JSON.stringify(h.responses().at(-1)!.blocks)).toContain('*Forced* past the uncleared max_drawdown breach');
    expect((await getBotState(database.db)).entriesPaused).toBe(false);
    const [, cleared] = await database.db.select().from(riskEvents).orderBy(riskEvents.id);
    expect(cleared).toMatchObject({ kind: 'cleared', details: { forced: true, breach: 'max_drawdown', reason: 'reviewed the book with risk, resuming', pausedBy: RISK_GUARD_ACTOR } });
  });

  it('unpauses a risk-guard pause without force once the drawdown is back under the limit', async () => {
    await riskGuardPause('2026-03-02T09:00:00Z', 6.5);
    const reply = await slash('/unpause', '');
    expect(reply).toMatch(/New entries resumed: trading state active/);
    expect(JSON.stringify(h.responses().at(-1)!.blocks)).toContain('The max_drawdown breach has cleared: drawdown 6.50%');
  });
});
