// The kill switch driven the way Slack drives it: signed /kill, checklist button clicks and
// /mode resume on the real Bolt receiver, with the real Kraken adapter against the fake Kraken.
import { eq, sql } from 'drizzle-orm';
import { liftHaltPlacedBy } from '../../../src/db/queries/reconcile-state.js';
import { RECONCILIATION_ACTOR } from '../../../src/services/reconcile/start/run.js';
import { afterEach, describe, expect, it } from 'vitest';
import { connectPostgres } from '../../../src/db/client.js';
import { auditRuns, incidentChecklistItems, incidents } from '../../../src/db/schema/index.js';
import { getBotState } from '../../../src/services/bot-state.js';
import { createKillFeature } from '../../../src/app/features/kill.js';
import { executeKill } from '../../../src/services/kill/kill.js';
import { readPendingKills } from '../../../src/services/kill/pending-kill.js';
import { isHaltLatched } from '../../../src/services/kill/runtime.js';
import { notifiedIncidentPoster, notifiedIncidentThread } from '../../../src/app/notifier-ports.js';
import { incidentHandlers } from '../../../src/services/engine-requests/handlers.js';
import { startRequestRunner, type RequestRunner } from '../../../src/services/engine-requests/runner.js';
import { checklistFollowUp } from '../../../src/services/kill/checklist-records.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { startFakeKraken, type FakeKraken } from '../../support/fake-kraken.js';
import { killTestContext } from '../../support/kill-context.js';
import { startStallProxy } from '../../support/stall-proxy.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';
import { OPS_CHANNEL, startSlackHarness, USERS, type SlackHarness } from '../../support/slack-harness.js';
import { DEFAULT_AUDIT_SETTINGS } from '../../support/gate-thresholds.js';

let database: TestDatabase;
let kraken: FakeKraken;
let h: SlackHarness;
let engine: RequestRunner | undefined;

/** The engine's process (a worker on the same database): carries out the flatten and reconcile handed to it. */
function engineProcess(): RequestRunner {
  engine = startRequestRunner(h.ctx, { holder: 'worker-host:4242', handlers: incidentHandlers(h.ctx), onFinished: checklistFollowUp(h.ctx), pollMs: 20 });
  return engine;
}

afterEach(async () => {
  await engine?.stop();
  engine = undefined;
  await h?.close();
  await kraken?.close();
  await database?.close();
});

async function start(env: Record<string, string> = {}): Promise<void> {
  database = await createPostgresTestDb();
  kraken = await startFakeKraken({ apiKey: TEST_API_KEY, secret: TEST_API_SECRET });
  kraken.addOrder({ txid: 'OPEN-1', pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '40000', vol: '0.01', vol_exec: '0', status: 'open', opentm: 1 });
  h = await startSlackHarness({
    database,
    env: {
      IS_LIVE: 'true', KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url, KRAKEN_RATE_LIMIT: 'false',
      REPORTS_DIR: mkdtempSync(join(tmpdir(), 'ctb-reports-')), ...env,
    },
    features: [createKillFeature({ incidentPoster: notifiedIncidentPoster, incidentThread: notifiedIncidentThread })],
  });
}

const incidentPosts = () => h.fake.callsTo('chat.postMessage').filter((c) => String(c.body.text).includes('Incident #'));
/** The incident thread is posted beside the kill's reply, not before it: wait for it. */
async function postedIncident() {
  for (let i = 0; i < 200 && incidentPosts().length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  const rows = await database.db.select().from(incidents);
  // Each test's database is new: one kill, one incident. More would mean another test's rows are
  // here, and a click on the wrong incident would answer for it (seen once under load: say so).
  expect(rows.map((r) => ({ id: r.id, status: r.status, openedAt: r.openedAt })), 'incidents in this test\'s database').toHaveLength(1);
  const [incident] = rows;
  for (let i = 0; i < 200 && (incident?.slackTs ?? 'posting:').startsWith('posting:'); i++) {
    await new Promise((r) => setTimeout(r, 20));
    Object.assign(incident!, (await database.db.select().from(incidents))[0]);
  }
  return incident!;
}
const replyTexts = () => h.responses().map((r) => String(r.text));

describe('/kill in Slack', () => {
  it('an operator kills: Kraken CancelAll, halted in paper, reply in channel, incident thread with the checklist as buttons', async () => {
    await start();
    const res = await h.slash('/kill', 'fills look wrong', { user: USERS.operator });
    expect(res.status).toBe(200);
    await h.idle();

    expect(kraken.callsTo('CancelAll')).toHaveLength(2); // at once, and once more after the halt is written
    expect(kraken.state.orders.get('OPEN-1')!.status).toBe('canceled');
    expect(await getBotState(database.db)).toMatchObject({ halted: true, mode: 'paper', haltedBy: USERS.operator, haltedReason: 'fills look wrong' });
    expect(isHaltLatched(h.ctx)).toBe(true);

    const reply = h.responses().at(-1)!;
    expect(reply.response_type).toBe('in_channel');
    expect(String(reply.text)).toMatch(/Killed: every open order cancelled/);

    const incident = await postedIncident();
    const [post] = incidentPosts();
    expect(post!.body.channel).toBe(OPS_CHANNEL);
    const actions = (post!.body.blocks as Array<{ type: string; elements?: Array<Record<string, unknown>> }>).find((b) => b.type === 'actions')!;
    expect(actions.elements!.map((e) => e.action_id)).toEqual([
      'incident_item_cancel_orders', 'incident_item_close_positions', 'incident_item_reconcile_ledger', 'incident_item_notify_stakeholders',
    ]);
    const flatten = actions.elements!.find((e) => e.action_id === 'incident_item_close_positions')!;
    expect(flatten.confirm).toMatchObject({ confirm: { text: 'Close positions' } });
    expect(incident.slackChannel).toBe(OPS_CHANNEL);
    expect(incident.slackTs).toMatch(/^\d+\.\d+$/);
  });

  it('kills even when the reason is far too long (it is cut, never a reason to refuse the kill)', async () => {
    await start();
    await h.slash('/kill', `spread blew out ${'x'.repeat(900)}`, { user: USERS.operator });
    await h.idle();
    expect(kraken.callsTo('CancelAll')).toHaveLength(2);
    const state = await getBotState(database.db);
    expect(state.halted).toBe(true);
    expect(state.haltedReason).toHaveLength(500);
    expect(state.haltedReason).toMatch(/^spread blew out x+…$/);
  });

  it('a Slack retry of the same /kill does nothing more; a second /kill says it was already killed', async () => {
    await start();
    await h.slash('/kill', 'first', { user: USERS.operator, triggerId: 'trgKILL1' });
    await h.idle();
    await postedIncident();
    await h.slash('/kill', 'first', { user: USERS.operator, triggerId: 'trgKILL1', retryNum: 1, retryReason: 'http_timeout' });
    await h.idle();
    expect(kraken.callsTo('CancelAll')).toHaveLength(2);
    expect(h.responses()).toHaveLength(1);

    await h.slash('/kill', 'again', { user: USERS.operator });
    await h.idle();
    expect(kraken.callsTo('CancelAll')).toHaveLength(4); // cancelling again is harmless and wanted
    expect(replyTexts().at(-1)).toMatch(/Already killed \(incident #\d+\)/);
    expect(await database.db.select().from(incidents)).toHaveLength(1);
    expect(incidentPosts()).toHaveLength(1);
  });

  it('refuses a user who is not an operator and changes nothing', async () => {
    await start();
    const res = await h.slash('/kill', 'let me', { user: USERS.reader });
    expect(res.status).toBe(200);
    await h.idle();
    expect(replyTexts().at(-1)).toMatch(/not allowed to run `\/kill \[reason\]`/);
    expect(kraken.orderChangingCalls()).toEqual([]);
    expect(kraken.state.orders.get('OPEN-1')!.status).toBe('open');
    expect((await getBotState(database.db)).halted).toBe(false);
    expect(isHaltLatched(h.ctx)).toBe(false);
    expect(await database.db.select().from(incidents)).toEqual([]);
    expect((await h.commandLog()).at(-1)).toMatchObject({ actor: USERS.reader, allowed: false });
  });

  it('checklist buttons record who and when, update the thread, refuse non-operators; /mode resume needs them done and an audit', async () => {
    await start();
    await h.slash('/kill', 'drill', { user: USERS.operator });
    await h.idle();
    const incident = await postedIncident();
    const click = (item: string, user: string = USERS.operator) =>
      h.action({ actionId: `incident_item_${item}`, value: String(incident!.id), user, channel: OPS_CHANNEL, messageTs: incident!.slackTs! });

    await click('notify_stakeholders', USERS.reader);
    await h.idle();
    expect(replyTexts().at(-1)).toMatch(/not allowed/);
    const before = await database.db.select().from(incidentChecklistItems).where(eq(incidentChecklistItems.item, 'notify_stakeholders'));
    expect(before[0]!.doneAt).toBeNull();

    await h.slash('/mode', 'resume', { user: USERS.operator });
    await h.idle();
    expect(replyTexts().at(-1)).toMatch(/^\[PAPER · HALTED\] Resuming needs \d+ conditions that are not met:\n {2}1\. No passing audit run after the halt .*\n {2}2\. Checklist item \w+ of incident \d+ is not done → ctb incident done \w+/);

    engineProcess();
    for (const item of ['cancel_orders', 'close_positions', 'reconcile_ledger', 'notify_stakeholders']) {
      await click(item);
      await h.idle();
    }
    const items = await database.db.select().from(incidentChecklistItems).orderBy(incidentChecklistItems.position);
    expect(items.map((i) => [i.item, i.doneBy, i.doneAt !== null])).toEqual([
      ['cancel_orders', USERS.operator, true], ['close_positions', USERS.operator, true],
      ['reconcile_ledger', USERS.operator, true], ['notify_stakeholders', USERS.operator, true],
    ]);
    expect(kraken.callsTo('CancelAll')).toHaveLength(3); // the cancel button cancelled again
    const updates = h.fake.callsTo('chat.update');
    expect(updates.at(-1)!.body).toMatchObject({ channel: OPS_CHANNEL, ts: incident!.slackTs });
    // Every item done: only "cancel again" keeps its button while the incident is open (never refused).
    const lastActions = (updates.at(-1)!.body.blocks as Array<{ type: string; elements?: Array<{ action_id: string }> }>).filter((b) => b.type === 'actions');
    expect(lastActions.flatMap((b) => b.elements!.map((e) => e.action_id))).toEqual(['incident_item_cancel_orders']);
    const threadReplies = h.fake.callsTo('chat.postMessage').filter((c) => c.body.thread_ts === incident!.slackTs);
    expect(threadReplies).toHaveLength(4);
    expect(String(threadReplies[0]!.body.text)).toMatch(/done by <@UOPERATOR1>/);

    // A second click on a done item keeps the first record.
    await click('notify_stakeholders', USERS.operator);
    await h.idle();
    expect(String(h.fake.callsTo('chat.postMessage').at(-1)!.body.text)).toMatch(/already done by <@UOPERATOR1>/);

    await database.db.insert(auditRuns).values({
      at: new Date(), actor: 'cli:ops', mode: 'paper', dryRun: false, passed: true, summary: 'all checks passed', results: [],
      thresholds: { minPaperTrades: 50, minRoiPct: '0', alertWindowMs: 7 * 86_400_000, ...DEFAULT_AUDIT_SETTINGS }, // the built-in defaults: no engine recorded a policy here
    });
    await h.slash('/mode', 'resume', { user: USERS.operator });
    await h.idle();
    expect(replyTexts().at(-1)).toMatch(/Halt lifted: trading resumes in paper/);
    expect(await getBotState(database.db)).toMatchObject({ halted: false, mode: 'paper' });
    expect(isHaltLatched(h.ctx)).toBe(false);
  });
});

describe('a checklist item asked of the engine\'s process', () => {
  it('shows pending in the thread, then the thread is updated and told once when the engine\'s process answers', async () => {
    await start({ INCIDENT_HANDOVER_WAIT: '200ms' });
    await h.slash('/kill', 'drill', { user: USERS.operator });
    await h.idle();
    const incident = await postedIncident();
    await h.action({ actionId: 'incident_item_close_positions', value: String(incident.id), user: USERS.operator, channel: OPS_CHANNEL, messageTs: incident.slackTs! });
    await h.idle();
    const inThread = () => h.fake.callsTo('chat.postMessage').filter((c) => c.body.thread_ts === incident.slackTs).map((c) => String(c.body.text));
    // Nothing has taken it yet: the reply and the thread's checklist say so, in the same words.
    expect(inThread().at(-1)).toMatch(/Close open positions \(flatten\): pending — Queued in the database for the engine's process \(request #\d+\), not yet taken/);
    const lastUpdate = () => JSON.stringify(h.fake.callsTo('chat.update').at(-1)?.body.blocks ?? []);
    expect(lastUpdate()).toMatch(/pending\*: queued in the database for the engine's process \(request #\d+\), not yet taken/);
    expect(inThread().at(-1) + lastUpdate()).not.toMatch(/[Hh]anded to the engine/);
    expect(lastUpdate()).not.toMatch(/incident_item_close_positions/);

    engineProcess();
    const answered = () => inThread().filter((t) => /Close open positions \(flatten\): done \(asked by <@UOPERATOR1>, request #\d+\) — No open positions to close\./.test(t));
    for (let i = 0; i < 200 && answered().length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(answered()).toHaveLength(1);
    for (let i = 0; i < 200 && !/white_check_mark: ~Close open positions/.test(lastUpdate()); i++) await new Promise((r) => setTimeout(r, 25));
    expect(lastUpdate()).toMatch(/white_check_mark: ~Close open positions \(flatten\)~ — <@UOPERATOR1>/);
    // Later polls of this and any other replica do not tell it again.
    await new Promise((r) => setTimeout(r, 1_200));
    expect(answered()).toHaveLength(1);
    const [row] = await database.db.select().from(incidentChecklistItems).where(eq(incidentChecklistItems.item, 'close_positions'));
    expect(row).toMatchObject({ state: 'done', doneBy: USERS.operator });
  });
});

describe('an incident left open when reconciliation lifts a later halt', () => {
  it('the running bot redraws its Slack message to say it is open on a bot not halted, and what closes it', async () => {
    await start();
    await h.slash('/kill', 'drill', { user: USERS.operator });
    await h.idle();
    const incident = await postedIncident();
    // The kill's halt lifted since and the incident left open; reconciliation halted the bot later.
    await database.db.execute(sql`update bot_state set halted = true, halted_by = ${RECONCILIATION_ACTOR}, halted_reason = 'reconciliation', halted_at = now(), version = version + 1 where id = 1`);
    const said = `Incident #${incident.id} is still open although the bot is not halted`;
    const updates = () => h.fake.callsTo('chat.update').filter((c) => c.body.ts === incident.slackTs).map((c) => JSON.stringify(c.body.blocks));
    // The watcher's poll sees the bot halted and redraws the message: drawn while halted, it never says it.
    for (let i = 0; i < 200 && updates().length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(updates().length).toBeGreaterThan(0);
    expect(updates().some((u) => u.includes(said))).toBe(false);
    // Reconciliation passes and lifts its own halt (an incident opened before it does not keep it).
    expect(await liftHaltPlacedBy(database.db, RECONCILIATION_ACTOR, new Date())).toBe(true);
    for (let i = 0; i < 200 && !updates().some((u) => u.includes(said)); i++) await new Promise((r) => setTimeout(r, 25));
    expect(updates().at(-1)).toContain(`${said}: \`/mode resume\``);
  });
});

describe('a kill from the terminal', () => {
  it('is posted to the ops channel by the running bot, once', async () => {
    await start();
    const other = connectPostgres(database.url, { max: 2 });
    // The harness runs no engine with the key to take the Kraken cancel from this keyless terminal: the
    // lease says so and nothing is handed over; the short KILL_HANDOFF_TIMEOUT bounds an unreadable lease.
    const cli = await killTestContext({ database: other, env: { KILL_HANDOFF_TIMEOUT: '500ms' } });
    try {
      await executeKill(cli.ctx, { actor: { id: 'cli:ops', source: 'cli' }, reason: 'from the terminal', trigger: 'manual' });
    } finally {
      await cli.ctx.close();
      await other.close();
    }
    const incident = await postedIncident();
    expect(incident.slackChannel).toBe(OPS_CHANNEL);
    expect(String(incidentPosts()[0]!.body.text)).toMatch(/killed by cli:ops — from the terminal/);
    await new Promise((r) => setTimeout(r, 1_200)); // two more polls of the halt watcher
    expect(incidentPosts()).toHaveLength(1);
    expect(isHaltLatched(h.ctx)).toBe(true);
  });
});

describe('/kill while the database is stalled', () => {
  it('cancels on Kraken at once and replies that the halt is saved on its host only, pending until the database returns', async () => {
    database = await createPostgresTestDb();
    const proxy = await startStallProxy();
    const viaProxy = connectPostgres(proxy.urlFor(database.url), { max: 5 });
    kraken = await startFakeKraken({ apiKey: TEST_API_KEY, secret: TEST_API_SECRET });
    kraken.addOrder({ txid: 'OPEN-1', pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '40000', vol: '0.01', vol_exec: '0', status: 'open', opentm: 1 });
    try {
      h = await startSlackHarness({
        database: viaProxy,
        // Each of the kill's reads and writes on the stalled database is given up after KILL_DB_TIMEOUT
        // (300 ms here, 3 s by default), one after another before the reply: the reply is the same, sooner.
        env: { IS_LIVE: 'true', KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url, KRAKEN_RATE_LIMIT: 'false', KILL_DB_TIMEOUT: '300ms' },
        features: [createKillFeature({ incidentPoster: notifiedIncidentPoster })],
      });
      proxy.set('stall');
      const sent = Date.now();
      const res = await h.slash('/kill', 'db is wedged', { user: USERS.operator });
      expect(res.status).toBe(200);
      while (kraken.callsTo('CancelAll').length === 0 && Date.now() - sent < 5_000) await new Promise((r) => setTimeout(r, 5));
      expect(Date.now() - sent).toBeLessThan(1_000);
      expect(kraken.state.orders.get('OPEN-1')!.status).toBe('canceled');
      expect(isHaltLatched(h.ctx)).toBe(true);
      for (let i = 0; i < 400 && h.responses().length === 0; i++) await new Promise((r) => setTimeout(r, 25));
      // Kraken is confirmed clear; the paper venue lives in the stalled database, so it is not.
      expect(replyTexts().at(-1)).toMatch(/Kill saved on the bot's host, not confirmed in the database \(the write may still land\): some open orders could not be confirmed cancelled; this process is halted/);
      expect(JSON.stringify(h.responses().at(-1))).toMatch(/\*kraken\*: 1 cancelled, none left open/);
      expect(JSON.stringify(h.responses().at(-1))).toMatch(/the halt is saved in DATA_DIR on the bot's host and not confirmed in the database \(the write may still land\)/);
      expect(readPendingKills(h.ctx.config.DATA_DIR)).toHaveLength(1);
      proxy.set('forward');
      // The halt watcher writes the saved kill once the database answers again.
      for (let i = 0; i < 400 && readPendingKills(h.ctx.config.DATA_DIR).length > 0; i++) await new Promise((r) => setTimeout(r, 25));
      expect(readPendingKills(h.ctx.config.DATA_DIR)).toEqual([]);
      expect(await getBotState(database.db)).toMatchObject({ halted: true, haltedBy: USERS.operator });
    } finally {
      proxy.set('forward');
      await h?.close();
      h = undefined as unknown as SlackHarness;
      await viaProxy.close();
      await proxy.close();
    }
  }, 30_000);
});
