// A kill's halt is lifted only by the operator's resume, whatever halted the bot before or after it.
// The kill takes an earlier halt over (the row names the kill, the earlier reason kept in its own),
// and the reconciliation's lift — one statement judged against the row — never lifts a halt while a
// kill's incident opened since that halt is open. Both orders, at the statements and the kill's service, on both databases.
import { sql } from 'drizzle-orm';
import { beforeEach, describe, expect, it } from 'vitest';
import { execute } from '../../../src/db/client.js';
import { createBotStateRow } from '../../../src/db/queries/bot-state-row.js';
import { liftHaltPlacedBy, placeHaltIfRunning } from '../../../src/db/queries/reconcile-state.js';
import { getBotState } from '../../../src/services/bot-state.js';
import { persistKill, type KillRecord } from '../../../src/services/kill/persist-kill.js';
import { RECONCILIATION_ACTOR, RECONCILIATION_REASON } from '../../../src/services/reconcile/start/run.js';
import { useTestDb, type DbKind } from '../../support/db.js';

const RECON_AT = new Date('2026-03-01T10:00:00Z');
const KILL_AT = new Date('2026-03-01T10:05:00Z');
const killRecord = (over: Partial<KillRecord> = {}): KillRecord => ({
  killId: 'kill-1', at: KILL_AT, actor: 'cli:operator', trigger: 'manual', reason: 'live-nokey', cancelReport: {}, ...over,
});

describe.each<DbKind>(['postgres', 'pglite'])("a kill's halt and reconciliation's, on %s", (kind) => {
  const database = useTestDb(kind, { truncate: ['incident_checklist_items', 'incidents', 'kill_replays', 'bot_state'] });
  beforeEach(async () => {
    await createBotStateRow(database().db);
    await execute(database().db, sql`update bot_state set mode = 'live' where id = 1`);
  });

  it('a kill on a bot reconciliation halted takes the halt over, keeps the earlier reason visible, and a passing reconciliation lifts nothing', async () => {
    const { db } = database();
    expect(await placeHaltIfRunning(db, { reason: RECONCILIATION_REASON, actor: RECONCILIATION_ACTOR, now: RECON_AT })).toBe(true);
    const killed = await persistKill(db, killRecord());
    expect(killed).toMatchObject({ wasHalted: true, alreadyKilled: false });
    expect(await getBotState(db)).toMatchObject({
      halted: true, mode: 'paper', haltedBy: 'cli:operator', haltedAt: KILL_AT,
      haltedReason: `live-nokey (already halted by ${RECONCILIATION_ACTOR} since ${RECON_AT.toISOString()}: ${RECONCILIATION_REASON})`,
    });

    expect(await liftHaltPlacedBy(db, RECONCILIATION_ACTOR, new Date())).toBe(false);
    expect(await getBotState(db)).toMatchObject({ halted: true, haltedBy: 'cli:operator' });
  });

  it('the same on a bot already in paper: the kill still takes the halt over', async () => {
    const { db } = database();
    await execute(db, sql`update bot_state set mode = 'paper' where id = 1`);
    await placeHaltIfRunning(db, { reason: RECONCILIATION_REASON, actor: RECONCILIATION_ACTOR, now: RECON_AT });
    await persistKill(db, killRecord());
    expect(await liftHaltPlacedBy(db, RECONCILIATION_ACTOR, new Date())).toBe(false);
    expect(await getBotState(db)).toMatchObject({ halted: true, mode: 'paper', haltedBy: 'cli:operator' });
  });

  it("a reconciliation halt after a kill's leaves the kill its author, and its passing lifts nothing", async () => {
    const { db } = database();
    await persistKill(db, killRecord());
    expect(await placeHaltIfRunning(db, { reason: RECONCILIATION_REASON, actor: RECONCILIATION_ACTOR, now: new Date() })).toBe(false);
    expect(await liftHaltPlacedBy(db, RECONCILIATION_ACTOR, new Date())).toBe(false);
    expect(await getBotState(db)).toMatchObject({ halted: true, haltedBy: 'cli:operator', haltedReason: 'live-nokey', haltedAt: KILL_AT });
  });

  it("a second kill joining the open incident keeps the first kill's reason, time and actor", async () => {
    const { db } = database();
    await persistKill(db, killRecord());
    const second = await persistKill(db, killRecord({ killId: 'kill-2', actor: 'slack:U2', reason: 'again', at: new Date(KILL_AT.getTime() + 60_000) }));
    expect(second).toMatchObject({ alreadyKilled: true, joined: true, replayed: false });
    expect(await getBotState(db)).toMatchObject({ halted: true, haltedBy: 'cli:operator', haltedReason: 'live-nokey', haltedAt: KILL_AT });
  });

  it('a kill on a bot not halted whose incident is still open halts it, joins that incident, and is not "already killed"', async () => {
    const { db } = database();
    const first = await persistKill(db, killRecord());
    await execute(db, sql`update bot_state set halted = false, halted_by = null, halted_reason = null, halted_at = null where id = 1`);
    const later = new Date(KILL_AT.getTime() + 60_000);
    const second = await persistKill(db, killRecord({ killId: 'kill-2', actor: 'slack:U2', reason: 'trading again', at: later }));
    expect(second).toMatchObject({ alreadyKilled: false, joined: true, wasHalted: false, incident: { id: first.incident.id } });
    expect(await getBotState(db)).toMatchObject({ halted: true, mode: 'paper', haltedBy: 'slack:U2', haltedReason: 'trading again', haltedAt: later });
  });

  it("a reconciliation halt written while a kill's incident is open (as before kills took halts over) is not lifted by reconciliation passing", async () => {
    const { db } = database();
    await persistKill(db, killRecord());
    await execute(db, sql`update bot_state set halted_by = ${RECONCILIATION_ACTOR}, halted_reason = ${RECONCILIATION_REASON} where id = 1`);
    expect(await liftHaltPlacedBy(db, RECONCILIATION_ACTOR, new Date())).toBe(false);
    expect(await getBotState(db)).toMatchObject({ halted: true });
    // Once no incident is open, reconciliation's own halt lifts as ever.
    await execute(db, sql`update incidents set status = 'closed', closed_at = now(), closed_by = 'test'`);
    expect(await liftHaltPlacedBy(db, RECONCILIATION_ACTOR, new Date())).toBe(true);
  });

  it('an incident left open on a bot no longer halted does not keep a reconciliation halt placed after it: reconciliation passing lifts it', async () => {
    const { db } = database();
    await persistKill(db, killRecord());
    // The kill's halt lifted without closing its incident (an older resume's lift).
    await execute(db, sql`update bot_state set halted = false, halted_by = null, halted_at = null, halted_reason = null where id = 1`);
    expect(await placeHaltIfRunning(db, { reason: RECONCILIATION_REASON, actor: RECONCILIATION_ACTOR, now: new Date(KILL_AT.getTime() + 60_000) })).toBe(true);
    expect(await liftHaltPlacedBy(db, RECONCILIATION_ACTOR, new Date())).toBe(true);
    expect(await getBotState(db)).toMatchObject({ halted: false });
  });

  it('a kill that came after a reconciliation halt and left it reconciliation\'s (as before kills took halts over) keeps it', async () => {
    const { db } = database();
    await placeHaltIfRunning(db, { reason: RECONCILIATION_REASON, actor: RECONCILIATION_ACTOR, now: RECON_AT });
    await persistKill(db, killRecord());
    await execute(db, sql`update bot_state set halted_by = ${RECONCILIATION_ACTOR}, halted_at = ${RECON_AT.toISOString()}::timestamptz, halted_reason = ${RECONCILIATION_REASON} where id = 1`);
    expect(await liftHaltPlacedBy(db, RECONCILIATION_ACTOR, new Date())).toBe(false);
    expect(await getBotState(db)).toMatchObject({ halted: true });
  });
});
