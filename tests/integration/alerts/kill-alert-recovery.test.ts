// One kill, one critical alert group, resolved by the kill's confirmation: the halt's cancel in the
// bot (which learns of another process's kill) joins the kill's group instead of opening its own, so
// each escalation step pages once; a confirmation resolves the group it recovers, so paging stops.
// Real PostgreSQL, escalation driven by a manual clock.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asc, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAlertRuntime, type AlertRuntime } from '../../../src/alerts/runtime.js';
import type { OutboxAlertSink } from '../../../src/alerts/sink.js';
import { buildAppContext, type OwnedContext } from '../../../src/app/build-context.js';
import { ManualClock } from '../../../src/clock.js';
import { testConfig } from '../../../src/config/env.js';
import { insertIncident } from '../../../src/db/queries/kill-incidents.js';
import { markIntent } from '../../../src/db/queries/ledger-intents.js';
import { alertDeliveries, alertEscalations, alertGroups, alertPages, engineRequests, orderIntents, type EngineRequest } from '../../../src/db/schema/index.js';
import { silentLogger } from '../../../src/logger.js';
import { cancelAllHandler, tellFollowUp } from '../../../src/services/engine-requests/handlers.js';
import { getEngineRequest } from '../../../src/services/engine-requests/store.js';
import { writeFollowUp } from '../../../src/services/kill/follow-up-request.js';
import { doChecklistItem } from '../../../src/services/kill/incident.js';
import { executeKill } from '../../../src/services/kill/kill.js';
import { cancelOnHalt } from '../../../src/services/kill/halt-cancel.js';
import { rotationOnDatabaseClock } from '../../support/oncall-fixtures.js';
import { usePostgresTestDb } from '../../support/db.js';
import { ALERT_TABLES, passEscalationTime } from '../../support/alert-fixtures.js';
import { TEST_KRAKEN_KEY, TEST_KRAKEN_SECRET } from '../../support/kill-context.js';
import { openOrder, recordingExchange, type RecordingExchange } from '../../support/recording-exchange.js';

const MIN = 60_000;
const database = usePostgresTestDb({ truncate: [...ALERT_TABLES, 'engine_requests', 'incident_checklist_items', 'incidents', 'order_intents'] });
let ctx: OwnedContext;
let runtime: AlertRuntime;
let clock: ManualClock;
let kraken: RecordingExchange;

beforeEach(async () => {
  clock = new ManualClock('2026-01-05T12:00:00Z');
  kraken = recordingExchange('kraken');
  ctx = await buildAppContext({
    config: testConfig({
      SLACK_APPROVERS: 'UAPPROVER1', ESCALATION_ACK_SLA: '5m', ESCALATION_MAX_ROUNDS: '2', SLACK_ALERTS_CHANNEL: 'C0ALERTS',
      // Thread notes are queued for this channel; no delivery tick runs, so nothing is sent (the URL answers nothing).
      SLACK_BOT_TOKEN: 'xoxb-0000-test-not-a-real-token', SLACK_SIGNING_SECRET: 'test-signing-secret', SLACK_API_URL: 'http://127.0.0.1:9',
      KRAKEN_API_KEY: TEST_KRAKEN_KEY, KRAKEN_API_SECRET: TEST_KRAKEN_SECRET, KILL_CONFIRM_ATTEMPTS: '1', KILL_CONFIRM_WAIT: '1ms', DATA_DIR: mkdtempSync(join(tmpdir(), 'ctb-kill-alert-')),
    }),
    database: database(), clock, logger: silentLogger(),
    exchanges: { kraken: () => kraken, paper: () => recordingExchange('paper') },
  });
  runtime = createAlertRuntime(ctx, { slack: null, mailer: null });
  await rotationOnDatabaseClock(ctx.db, ['UALICE', 'UBOB']); // who is paged is judged at the database's now()
});
afterEach(async () => {
  await ctx?.close();
});

const pages = async () => (await ctx.db.select().from(alertPages).orderBy(asc(alertPages.id))).map((p) => `${p.round}.${p.step}:${p.userId}`);
const liveGroups = async () => (await ctx.db.select().from(alertGroups)).filter((g) => g.status !== 'resolved').map((g) => g.fingerprint);

const killGroup = async (incidentId: number) => (ctx.alerts as OutboxAlertSink).record({
  source: 'kill', severity: 'critical', fingerprint: `kill:${incidentId}`, title: 'Kill switch: trading halted, but open orders could not be confirmed cancelled',
});
const incident = () => insertIncident(ctx.db, { killId: 'k-1', openedAt: clock.now(), openedBy: 'cli:alice', trigger: 'manual', reason: 'drill' });
const stuckOrder = () => {
  kraken.open.push(openOrder('OSTUCK-1'));
  kraken.sticky.add('OSTUCK-1');
};
/** An order the engine wrote its intent for just before the halt, not answered by Kraken yet: it may still land. */
const orderOnItsWay = async () => {
  const [row] = await ctx.db.insert(orderIntents).values({
    clientOrderId: 'c-on-its-way', mode: 'live', feed: 'kraken', strategy: 's', symbol: 'BTC/USD', side: 'buy', purpose: 'entry', type: 'market',
    quantity: '0.01', status: 'pending', createdAt: clock.now(), updatedAt: clock.now(),
  }).returning();
  return row!;
};
/** Kraken answers that order: it is open on Kraken now. */
const orderLands = async (intent: { id: number; clientOrderId: string }) => {
  kraken.open.push(openOrder('OLANDED-1', { clientOrderId: intent.clientOrderId }));
  await markIntent(ctx.db, { id: intent.id, status: 'open', exchangeOrderId: 'OLANDED-1', at: clock.now() });
};
/** This context with a short database deadline: a wait for orders on their way that runs out in 0.3 s (a read it cuts short is not clear either). */
const shortWait = () => ({ ...ctx, config: { ...ctx.config, KILL_DB_TIMEOUT: 300 } });
const groupOf = async (fingerprint: string) => (await ctx.db.select().from(alertGroups).where(eq(alertGroups.fingerprint, fingerprint)))[0];

describe('a kill that could not confirm zero open orders', () => {
  it('raises one critical group: the halt cancel of the bot that learns of it joins the kill\'s, so each step pages once', async () => {
    // Another process killed: its incident is open and its alert says it could not confirm.
    const { id } = await incident();
    await killGroup(id);
    // This bot learns of the halt and cancels on Kraken; an order survives, so it cannot confirm either.
    stuckOrder();
    expect((await cancelOnHalt(ctx, 'drill'))?.confirmed).toBe(false);
    expect(await liveGroups()).toEqual([`kill:${id}`]);
    expect(await runtime.escalation.tick()).toBe(1);
    await passEscalationTime(ctx.db, clock, 5 * MIN);
    expect(await runtime.escalation.tick()).toBe(1);
    expect(await pages()).toEqual(['1.0:UALICE', '1.1:UBOB']);
  });

  it('a halt with no incident keeps its own group, which a later confirmed halt cancel resolves', async () => {
    stuckOrder();
    expect((await cancelOnHalt(ctx, 'drill'))?.confirmed).toBe(false);
    expect(await liveGroups()).toEqual(['halt-cancel:unconfirmed']);
    await runtime.escalation.tick();
    kraken.sticky.clear();
    await passEscalationTime(ctx.db, clock, 2 * MIN);
    expect((await cancelOnHalt(ctx, 'drill'))?.confirmed).toBe(true);
    const [group] = await ctx.db.select().from(alertGroups).where(eq(alertGroups.fingerprint, 'halt-cancel:unconfirmed'));
    expect(group).toMatchObject({ status: 'resolved', resolvedBy: 'system:halt-cancel' });
    for (let i = 0; i < 6; i += 1) {
      await passEscalationTime(ctx.db, clock, 5 * MIN);
      await runtime.escalation.tick();
    }
    expect(await pages()).toEqual(['1.0:UALICE']);
  });

  it('a halt cancel that Kraken confirms while an order is still on its way leaves the halt\'s group open; once it lands, the next one cancels it and resolves', async () => {
    stuckOrder();
    expect((await cancelOnHalt(ctx, 'drill'))?.confirmed).toBe(false);
    kraken.sticky.clear();
    const intent = await orderOnItsWay();
    expect((await cancelOnHalt(shortWait(), 'drill'))?.confirmed).toBe(true);
    expect(await liveGroups()).toEqual(['halt-cancel:unconfirmed']);
    await orderLands(intent);
    expect((await cancelOnHalt(ctx, 'drill'))?.confirmed).toBe(true);
    expect(kraken.open).toEqual([]);
    expect(await groupOf('halt-cancel:unconfirmed')).toMatchObject({ status: 'resolved', resolvedBy: 'system:halt-cancel' });
  });

  it('a halt cancel that confirms on its first try leaves the kill\'s group to the kill\'s follow-up, which resolves it once no order is on its way', async () => {
    const { id } = await incident();
    await killGroup(id);
    const { requestId } = await writeFollowUp(ctx, { incidentId: id, killId: 'k-1', actor: 'cli:alice', reason: 'drill', startedAt: Date.now() - 1_000 });
    expect((await cancelOnHalt(ctx, 'drill'))?.confirmed).toBe(true);
    // A halt cancel runs on every halt, a kill that confirmed included: it never ends the kill's page.
    expect(await liveGroups()).toEqual([`kill:${id}`]);
    const request = { ...(await getEngineRequest(ctx.db, requestId))!, claimedBy: 'bot-1:7' };
    const intent = await orderOnItsWay();
    expect(await cancelAllHandler(shortWait())(request)).toMatchObject({ ok: false, summary: expect.stringMatching(/on their way/) });
    expect(await liveGroups()).toEqual([`kill:${id}`]);
    await orderLands(intent);
    expect(await cancelAllHandler(ctx)(request)).toMatchObject({ ok: true });
    expect(kraken.open).toEqual([]);
    expect(await groupOf(`kill:${id}`)).toMatchObject({ status: 'resolved', resolvedBy: 'bot-1:7' });
  });

  it('its follow-up\'s confirmation resolves the kill\'s group (who confirmed, in its thread) instead of adding an occurrence: paging stops', async () => {
    const { id } = await incident();
    await killGroup(id);
    await runtime.escalation.tick();
    await passEscalationTime(ctx.db, clock, 2 * MIN);
    const request = { id: 9, incidentId: id, params: { killId: 'k-1', followUp: true }, claimedBy: 'bot-1:7' } as unknown as EngineRequest;
    await tellFollowUp(ctx, request, true, 'Kraken: 1 cancelled, none open (confirmed).');
    const [group] = await ctx.db.select().from(alertGroups).where(eq(alertGroups.fingerprint, `kill:${id}`));
    expect(group).toMatchObject({ status: 'resolved', resolvedBy: 'bot-1:7', count: 1 });
    const [esc] = await ctx.db.select().from(alertEscalations).where(eq(alertEscalations.groupId, group!.id));
    expect(esc).toMatchObject({ status: 'stopped', stoppedReason: 'resolved by bot-1:7' });
    const notes = (await ctx.db.select().from(alertDeliveries).where(eq(alertDeliveries.groupId, group!.id))).map((d) => JSON.stringify(d.payload));
    expect(notes.some((n) => n.includes('Resolved by bot-1:7: Kill switch: zero open orders on Kraken now confirmed'))).toBe(true);
    // Past the ACK SLA (the reviewer's 4 minutes after the confirmation) and two more rounds: nobody else is paged.
    for (let i = 0; i < 6; i += 1) {
      await passEscalationTime(ctx.db, clock, 5 * MIN);
      await runtime.escalation.tick();
    }
    expect(await pages()).toEqual(['1.0:UALICE']);
  });

  it('a halt follow-up with an incident tells the kill\'s group too, and its confirmation resolves it', async () => {
    const { id } = await incident();
    await killGroup(id);
    const request = { id: 10, incidentId: id, params: { killId: 'k-1', followUp: true, halt: true }, claimedBy: 'bot-1:7' } as unknown as EngineRequest;
    await tellFollowUp(ctx, request, false, 'Kraken: NOT confirmed.');
    expect(await liveGroups()).toEqual([`kill:${id}`]);
    await tellFollowUp(ctx, request, true, 'Kraken: none open (confirmed).');
    expect(await liveGroups()).toEqual([]);
  });

  it('a confirmed cancel again resolves the kill\'s group, saying who cancelled', async () => {
    stuckOrder();
    const result = await executeKill(ctx, { actor: { id: 'UALICE', source: 'slack' }, reason: 'drill', trigger: 'manual' });
    expect(result.ok).toBe(false);
    expect(await liveGroups()).toEqual([`kill:${result.incidentId}`]);
    await runtime.escalation.tick();
    kraken.sticky.clear();
    await passEscalationTime(ctx.db, clock, 2 * MIN);
    const done = await doChecklistItem(ctx, { item: 'cancel_orders', actor: { id: 'UBOB', source: 'slack' }, confirmed: true });
    expect(done.state).toBe('done');
    const [group] = await ctx.db.select().from(alertGroups).where(eq(alertGroups.fingerprint, `kill:${result.incidentId}`));
    expect(group).toMatchObject({ status: 'resolved', resolvedBy: 'UBOB' });
    for (let i = 0; i < 6; i += 1) {
      await passEscalationTime(ctx.db, clock, 5 * MIN);
      await runtime.escalation.tick();
    }
    expect(await pages()).toEqual(['1.0:UALICE']);
  });

  it('a cancel again that Kraken confirms while an order is still on its way is not done and resolves nothing; once it lands, the next one cancels it and resolves', async () => {
    stuckOrder();
    const result = await executeKill(ctx, { actor: { id: 'UALICE', source: 'slack' }, reason: 'drill', trigger: 'manual' });
    expect(result.ok).toBe(false);
    await runtime.escalation.tick();
    kraken.sticky.clear();
    const intent = await orderOnItsWay();
    await passEscalationTime(ctx.db, clock, 2 * MIN);
    const bob = { id: 'UBOB', source: 'slack' as const };
    const notClear = await doChecklistItem(ctx, { item: 'cancel_orders', actor: bob, confirmed: true });
    expect(notClear).toMatchObject({ ok: false, state: 'pending' });
    expect(notClear.summary).toMatch(/^Cancel again NOT CONFIRMED CLEAR — kraken: none open, paper: none open, but 1 order\(s\) still on their way and may reach the exchange after this cancel\. The cancel goes on as request #\d+: .* Until then an order may still reach the exchange\.$/);
    expect(await liveGroups()).toEqual([`kill:${result.incidentId}`]);
    await orderLands(intent);
    await passEscalationTime(ctx.db, clock, 1 * MIN);
    const done = await doChecklistItem(ctx, { item: 'cancel_orders', actor: bob, confirmed: true });
    expect(done).toMatchObject({ ok: true, state: 'done' });
    expect(kraken.open).toEqual([]);
    expect(await groupOf(`kill:${result.incidentId}`)).toMatchObject({ status: 'resolved', resolvedBy: 'UBOB' });
    for (let i = 0; i < 6; i += 1) {
      await passEscalationTime(ctx.db, clock, 5 * MIN);
      await runtime.escalation.tick();
    }
    expect(await pages()).toEqual(['1.0:UALICE']);
  });

  it('a later kill that confirms zero open orders resolves the earlier kill\'s group', async () => {
    stuckOrder();
    const first = await executeKill(ctx, { actor: { id: 'UALICE', source: 'slack', requestId: 'r-1' }, reason: 'drill', trigger: 'manual' });
    expect(first.ok).toBe(false);
    await runtime.escalation.tick();
    kraken.sticky.clear();
    await passEscalationTime(ctx.db, clock, 2 * MIN);
    const second = await executeKill(ctx, { actor: { id: 'UBOB', source: 'slack' }, reason: 'again', trigger: 'manual' });
    expect(second).toMatchObject({ ok: true, alreadyKilled: true, incidentId: first.incidentId });
    const [group] = await ctx.db.select().from(alertGroups).where(eq(alertGroups.fingerprint, `kill:${first.incidentId}`));
    expect(group).toMatchObject({ status: 'resolved', resolvedBy: 'UBOB' });
    for (let i = 0; i < 6; i += 1) {
      await passEscalationTime(ctx.db, clock, 5 * MIN);
      await runtime.escalation.tick();
    }
    expect(await pages()).toEqual(['1.0:UALICE']);
  });

  it('a Slack retry of a kill (the same kill, replayed) resolves nothing', async () => {
    const alice = { id: 'UALICE', source: 'slack' as const, requestId: 'r-2' };
    const first = await executeKill(ctx, { actor: alice, reason: 'drill', trigger: 'manual' });
    expect(first.ok).toBe(true);
    await executeKill(ctx, { actor: alice, reason: 'drill', trigger: 'manual' });
    expect(await liveGroups()).toEqual([`kill:${first.incidentId}`]);
  });
});

describe("a halt's own alert group (raised before any incident existed)", () => {
  it('is resolved once its follow-up, taken over by a kill\'s incident, confirms on Kraken that no order is open — and not before', async () => {
    // A reconciliation halt with no incident: an order survives, so the halt's group opens and its follow-up is written.
    stuckOrder();
    expect((await cancelOnHalt(ctx, 'reconciliation'))?.confirmed).toBe(false);
    expect(await liveGroups()).toEqual(['halt-cancel:unconfirmed']);
    // An operator's kill opens an incident; its follow-up takes over the halt's (one follow-up at a time).
    const { id } = await incident();
    const [halt] = await ctx.db.select().from(engineRequests);
    const { requestId, joined } = await writeFollowUp(ctx, { incidentId: id, killId: 'k-1', actor: 'cli:alice', reason: 'drill', startedAt: Date.now() });
    expect({ requestId, joined }).toEqual({ requestId: halt!.id, joined: true });
    await runtime.escalation.tick();

    // A try while the order is still open confirms nothing: the halt's group stays open and keeps paging.
    const request = async () => ({ ...(await getEngineRequest(ctx.db, requestId))!, claimedBy: 'bot-1:7' });
    expect(await cancelAllHandler(ctx)(await request())).toMatchObject({ ok: false });
    expect(await groupOf('halt-cancel:unconfirmed')).toMatchObject({ status: 'open' });
    await passEscalationTime(ctx.db, clock, 5 * MIN);
    expect(await runtime.escalation.tick()).toBe(1);

    // Kraken lets go of the order; the next try confirms none open: the halt's group is resolved, paging stops.
    kraken.sticky.clear();
    expect(await cancelAllHandler(ctx)(await request())).toMatchObject({ ok: true });
    expect(kraken.open).toEqual([]);
    expect(await liveGroups()).toEqual([]);
    expect(await groupOf('halt-cancel:unconfirmed')).toMatchObject({ status: 'resolved', resolvedBy: 'bot-1:7' });
    for (let i = 0; i < 6; i += 1) {
      await passEscalationTime(ctx.db, clock, 5 * MIN);
      await runtime.escalation.tick();
    }
    expect(await pages()).toEqual(['1.0:UALICE', '1.1:UBOB']);
  });

  it('is resolved by a cancel again that confirms clear, which withdraws the follow-up that would have resolved it', async () => {
    stuckOrder();
    expect((await cancelOnHalt(ctx, 'reconciliation'))?.confirmed).toBe(false);
    // An operator's kill, unconfirmed too: its incident's follow-up takes over the halt's.
    const kill = await executeKill(ctx, { actor: { id: 'UALICE', source: 'slack' }, reason: 'drill', trigger: 'manual' });
    expect(kill.ok).toBe(false);
    expect((await liveGroups()).sort()).toEqual(['halt-cancel:unconfirmed', `kill:${kill.incidentId}`]);
    kraken.sticky.clear();
    const done = await doChecklistItem(ctx, { item: 'cancel_orders', actor: { id: 'UBOB', source: 'slack' }, confirmed: true });
    expect(done.state).toBe('done');
    expect(await liveGroups()).toEqual([]);
    expect(await groupOf('halt-cancel:unconfirmed')).toMatchObject({ status: 'resolved', resolvedBy: 'UBOB' });
  });
});
