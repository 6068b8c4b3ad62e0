// What a keyless kill may conclude from the database alone: "nothing of this bot on Kraken" only when
// the database records no use of Kraken ever. Each record of Kraken use, alone, is enough to refuse
// that conclusion (db/queries/kraken-use-ever.ts); a paper-only demo's records are not.
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { krakenUseEver } from '../../../src/db/queries/kraken-use-ever.js';
import { recordRateLimitRefusal } from '../../../src/db/queries/kraken-rate-counter.js';
import { acquireLease, releaseLease } from '../../../src/db/queries/engine-lease.js';
import { engineRequests, incidents, modeChangeRequests, orderIntents } from '../../../src/db/schema/index.js';
import type { Db } from '../../../src/db/client.js';
import { usePostgresTestDb, useTestDb, type DbKind } from '../../support/db.js';
import { recordLiveOrderEver } from '../../support/live-order-ever.js';

const db = usePostgresTestDb({ truncate: ['order_intents', 'fills', 'engine_lease', 'bot_state', 'mode_change_requests', 'kraken_rate_counter', 'incidents', 'engine_requests'] });

const bot = { holderId: 'bot-1', host: 'vm', pid: 4570, role: 'all', feed: 'kraken', armed: false, hasKrakenKeys: false };
const krakenCancel = (attempts: number) => ({ venues: [{ venue: 'paper', canceled: 0, confirmed: true, attempts: 1, survivors: [], errors: [] }, { venue: 'kraken', canceled: 2, confirmed: true, attempts, survivors: [], errors: [] }], allConfirmed: true });
const incident = (cancelReport: Record<string, unknown>) => ({ killId: `k-${Math.random()}`, openedAt: new Date(), openedBy: 'cli:op', trigger: 'manual' as const, reason: 'drill', status: 'closed' as const, cancelReport });

describe('krakenUseEver: what the database records of this bot on Kraken', () => {
  it('a paper-only database (paper orders, a keyless lease, a kill that asked only paper) records none', async () => {
    const d = db().db;
    await d.insert(orderIntents).values({ clientOrderId: 'p-1', mode: 'paper', feed: 'replay', strategy: 'test', symbol: 'BTC/USD', side: 'buy', purpose: 'entry', type: 'limit', quantity: '0.01', limitPrice: '40000', status: 'filled', createdAt: new Date(), updatedAt: new Date() });
    await acquireLease(d, bot, 15_000);
    await d.insert(incidents).values(incident({ venues: [{ venue: 'paper', canceled: 1, confirmed: true, attempts: 1, survivors: [], errors: [] }], allConfirmed: true }));
    // A keyless kill's queued Kraken venue that no bot ever took: Kraken was never asked.
    await d.insert(incidents).values(incident({ venues: [{ venue: 'kraken', canceled: null, confirmed: false, attempts: 0, survivors: [], errors: ['no key'] }], allConfirmed: false }));
    expect(await krakenUseEver(d)).toBeNull();
  });

  it('a live order intent ever', async () => {
    await recordLiveOrderEver(db().db);
    expect(await krakenUseEver(db().db)).toBe('a live order placed');
  });

  it('an engine lease (held or stale) with the Kraken key, or armed', async () => {
    await acquireLease(db().db, { ...bot, hasKrakenKeys: true }, 15_000);
    expect(await krakenUseEver(db().db)).toBe('an engine lease held with the Kraken key or armed');
    await db().db.execute(sql`update engine_lease set has_kraken_keys = false, armed = true`);
    expect(await krakenUseEver(db().db)).toBe('an engine lease held with the Kraken key or armed');
  });

  it('an engine that took the lease with the key or armed and stopped cleanly (its lease row deleted): kept, with its host', async () => {
    await keptPastStop(db().db);
  });

  it('a keyless, unarmed engine that took the lease and stopped records none', async () => {
    const d = db().db;
    await acquireLease(d, bot, 15_000);
    await releaseLease(d, bot.holderId);
    expect(await krakenUseEver(d)).toBeNull();
  });

  it('live mode now, or a switch to live ever (the kill has put the mode back to paper since)', async () => {
    await db().db.execute(sql`insert into bot_state (id, mode) values (1, 'live')`);
    expect(await krakenUseEver(db().db)).toBe('live mode');
    await db().db.execute(sql`update bot_state set mode = 'paper'`);
    expect(await krakenUseEver(db().db)).toBeNull();
    await db().db.insert(modeChangeRequests).values({
      requester: 'U1', requesterSource: 'slack', fromMode: 'paper', toMode: 'live', status: 'switched', slackChannel: 'C1', slackTs: '1.1',
      createdAt: sql`now() - interval '1 hour'`, expiresAt: sql`now()`, approvedAt: sql`now() - interval '50 minutes'`, switchAuditRunId: 1, snapshotRef: 'snap',
      decidedAt: sql`now() - interval '50 minutes'`, decidedBy: 'U2',
    });
    expect(await krakenUseEver(db().db)).toBe('live mode');
  });

  it("a process with the key refused for Kraken's rate limit", async () => {
    await recordRateLimitRefusal(db().db, { keyId: 'k1', process: 'vm:1:all', agoMs: 0, call: 'OpenOrders' });
    expect(await krakenUseEver(db().db)).toBe("a process with the Kraken key refused for Kraken's rate limit");
  });

  it("an earlier kill's cancel on Kraken, or a bot's answer to a handed-over cancel", async () => {
    await db().db.insert(incidents).values(incident(krakenCancel(1)));
    expect(await krakenUseEver(db().db)).toBe('an earlier cancel on Kraken');
    await db().db.execute(sql`delete from incidents`);
    await db().db.insert(engineRequests).values({ kind: 'cancel_all', status: 'done', requestedBy: 'cli:op', requestedAt: new Date(), claimedBy: 'vm:4570', result: { report: krakenCancel(2).venues[1]! } });
    expect(await krakenUseEver(db().db)).toBe('an earlier cancel on Kraken');
  });
});

/** A keyed, then an armed, engine's take and clean stop: each is still what the database records after it. */
async function keptPastStop(d: Db): Promise<void> {
  await acquireLease(d, { ...bot, host: 'vm-keyed', hasKrakenKeys: true }, 15_000);
  expect(await releaseLease(d, bot.holderId)).toBe(true);
  expect(await krakenUseEver(d)).toMatch(/^a bot with the Kraken key or armed ran here \(host vm-keyed, seen seeking the engine lease at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)$/);
  await d.execute(sql`delete from bot_state`);
  await acquireLease(d, { ...bot, host: 'vm-armed', armed: true }, 15_000);
  await releaseLease(d, bot.holderId);
  expect(await krakenUseEver(d)).toMatch(/^a bot with the Kraken key or armed ran here \(host vm-armed, /);
}

describe.each<DbKind>(['pglite'])('the record of a keyed engine on %s (the embedded database runs the same migration)', (kind) => {
  const embedded = useTestDb(kind, { truncate: ['engine_lease', 'bot_state'] });
  it('is kept past a clean stop', async () => {
    await keptPastStop(embedded().db);
  });
});
