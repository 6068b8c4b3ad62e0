// The live switch's engine verdict must still hold when the flip commits. Two orderings, each forced
// by the database (a lock the test holds, a trigger), never by sleeps between steps:
// - an engine restarted unarmed whose lease write lands between the verdict and the flip's commit;
// - a lease that went stale while the switch waited on bot_state's row lock (a kill holds it), judged
//   on the transaction's start time instead of the clock at the read.
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { getBotState } from '../../../src/services/bot-state.js';
import { openLiveRequest } from '../../../src/services/mode/open-live-request.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { startFakeKraken, type FakeKraken } from '../../support/fake-kraken.js';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.js';
import { APPROVER_B, APPROVER_C, modeHarness, OPERATOR, resetModeTables, slackActor, type ModeHarness } from '../../support/mode-harness.js';

let database: TestDatabase;
let kraken: FakeKraken;
let slack: FakeSlack;
let h: ModeHarness;
let other: postgres.Sql;

beforeAll(async () => {
  database = await createPostgresTestDb();
  kraken = await startFakeKraken();
  other = postgres(database.url, { max: 4, onnotice: () => {} });
});

afterAll(async () => {
  await other.end();
  await kraken.close();
  await database.close();
});

beforeEach(async () => {
  await resetModeTables(database.db);
  slack = await startFakeSlack();
  h = await modeHarness({ database, slack, kraken });
});

afterEach(async () => {
  await other`drop trigger if exists hold_live_flip on bot_state`;
  await other`drop function if exists hold_live_flip()`;
  await h.ctx.close();
  await slack.close();
});

/** Resolves once `seen` is true; polls the database's own view of who waits, not the time. */
async function until(seen: () => Promise<boolean>): Promise<void> {
  while (!(await seen())) await new Promise((r) => setImmediate(r));
}

async function approvedOnce() {
  const result = await openLiveRequest(h.ctx, h.ctx.liveSwitch, { actor: slackActor(OPERATOR), reason: 'paper criteria met' });
  if (!result.opened) throw new Error(`request not opened: ${result.audit.summary}`);
  await h.react(result.request, APPROVER_B);
  return result.request;
}

describe('the live switch holds its engine verdict until the flip commits', () => {
  it('makes an engine restarted unarmed wait for the flip: its lease write cannot land between the verdict and the commit', async () => {
    const request = await approvedOnce();
    // The flip's bot_state update waits on an advisory lock the test holds: the switch is then past its verdict, before its commit.
    await other.unsafe(`create function hold_live_flip() returns trigger language plpgsql as $$
      begin perform pg_advisory_xact_lock(424242); return new; end $$`);
    await other.unsafe(`create trigger hold_live_flip before update on bot_state for each row when (new.mode = 'live') execute function hold_live_flip()`);
    const holder = await other.reserve();
    await holder`select pg_advisory_lock(424242)`;
    const switching = h.react(request, APPROVER_C);
    await until(async () => (await other`select 1 from pg_locks where locktype = 'advisory' and objid = 424242 and not granted
      and database = (select oid from pg_database where datname = current_database())`).length > 0);

    // The engine restarted unarmed renews its lease (another connection, as the lease keeper would).
    let renewed = false;
    const renewal = other`update engine_lease set armed = false where id = 1`.then(() => { renewed = true; });
    let armedBeforeCommit: unknown;
    try {
      await until(async () => renewed
        || (await other`select 1 from pg_stat_activity where wait_event_type = 'Lock' and query like 'update engine_lease%'`).length > 0);
      armedBeforeCommit = (await other`select armed from engine_lease where id = 1`)[0]?.armed;
    } finally {
      await holder`select pg_advisory_unlock(424242)`;
      holder.release();
    }
    // While the switch stood between the verdict and the commit, the row the verdict read was the row that stood.
    expect(armedBeforeCommit).toBe(true);
    expect(await switching).toMatchObject({ kind: 'quorum', switch: { switched: true } });
    await renewal;
    // The unarmed restart comes after the flip, where the engine reads LIVE with its own arming at start.
    expect((await getBotState(h.ctx.db)).mode).toBe('live');
  });

  it('judges the lease on the clock at the read: a lease gone stale while the switch waited on bot_state is not running', async () => {
    const request = await approvedOnce();
    const ttl = h.ctx.config.ENGINE_LEASE_TTL;
    // A kill holding bot_state's row lock: the switch's transaction has started and waits in lockBotState.
    const killer = await other.reserve();
    await killer`begin`;
    await killer`select 1 from bot_state for update`;
    const switching = h.react(request, APPROVER_C);
    await until(async () => (await other`select 1 from pg_stat_activity where wait_event_type = 'Lock' and query like '%bot_state%for update%'`).length > 0);
    // The engine's last heartbeat: fresh at the switch's transaction start (now() there), stale by the
    // time the kill lets go (the kill's transaction runs 50 ms on the database's clock before committing).
    const [waiting] = await other`select xact_start from pg_stat_activity where wait_event_type = 'Lock' and query like '%bot_state%for update%'`;
    await killer`update engine_lease set heartbeat_at = ${waiting!.xact_start}::timestamptz - ${ttl}::int * interval '1 millisecond' + interval '20 milliseconds' where id = 1`;
    await killer`select pg_sleep(0.05)`;
    await killer`commit`;
    killer.release();

    expect(await switching).toMatchObject({ kind: 'quorum', switch: { switched: false, status: 'failed' } });
    expect((await getBotState(h.ctx.db)).mode).toBe('paper');
  });
});
