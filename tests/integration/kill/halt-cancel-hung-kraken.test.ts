// The bot's halt cancel against a Kraken that has stopped answering: its "could not confirm" alert and
// its follow-up request come within KILL_CONFIRM_WAIT plus one call's deadline, as a kill's answer
// does, each call that missed its deadline is logged, and what it says it cancelled is never a count
// of a CancelAll whose answer was lost. Against the fake Kraken, real PostgreSQL, the cancel's
// deadlines on a clock of the test's own (tests/support/held-kraken.ts).
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { engineRequests } from '../../../src/db/schema/index.js';
import { KILL_CALL_TIMEOUT_MS } from '../../../src/services/kill/cancel-everywhere.js';
import { cancelOnHalt } from '../../../src/services/kill/halt-cancel.js';
import { HELD_KRAKEN_WAIT_MS as WAIT_MS, heldKrakenWorld, sentTo } from '../../support/held-kraken.js';
import { useKillTestDb } from '../../support/kill-context.js';

const kill = useKillTestDb(['incident_checklist_items', 'incidents', 'bot_state', 'audit_runs', 'order_intents', 'engine_requests', 'engine_lease']);


const cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  while (cleanup.length) await Promise.resolve(cleanup.pop()!()).catch(() => {});
});
const world = (env: Record<string, string> = {}) => heldKrakenWorld(kill, cleanup, env);

describe("the halt's cancel against a Kraken that does not answer", () => {
  it("raises its \"could not confirm\" alert and writes its follow-up within KILL_CONFIRM_WAIT plus one call's deadline, logging each call that did not answer, with no count of a cancel whose answer was lost", async () => {
    const w = await world();
    w.stopKraken();
    const start = w.clock.now();

    const report = await cancelOnHalt(w.ctx, 'reconciliation found an unexplained order');

    expect(w.clock.now() - start).toBeLessThanOrEqual(WAIT_MS + KILL_CALL_TIMEOUT_MS);
    expect(sentTo(w.kraken)).toEqual(['CancelAll', 'OpenOrders']);
    expect(report).toMatchObject({ confirmed: false, canceled: null, attempts: 1, lostAnswers: [1] });
    const said = w.lines.filter((l) => l.level >= 40).map((l) => l.msg);
    expect(said).toEqual(expect.arrayContaining([
      'halted: kraken: CancelAll (try 1) did not answer within 10 s.',
      'halted: kraken: OpenOrders (try 1) did not answer within 5 s.',
    ]));
    // The CancelAll may have run: never "cancelled no order(s)".
    const unconfirmed = said.find((m) => m.includes('zero open orders could not be confirmed'))!;
    expect(unconfirmed).toMatch(/^halted: (.+) may have cancelled orders; how many the first cancel cancelled is unknown \(its answer was lost\), but zero open orders could not be confirmed/);
    expect(unconfirmed).not.toMatch(/cancelled (no|0) order/);
    expect(w.alerts).toEqual([expect.objectContaining({ title: expect.stringMatching(/^Halted, but zero open orders on .+ could not be confirmed after cancelling/) })]);
    const requests = await kill.db().db.select().from(engineRequests).where(eq(engineRequests.kind, 'cancel_all'));
    expect(requests.map((r) => r.status)).toEqual(['pending']);
  }, 30_000);

  it('says only a lower bound of what it cancelled when a CancelAll\'s answer was lost (its connection dropped)', async () => {
    // Two rounds, no more.
    const w = await world({ KILL_CONFIRM_ATTEMPTS: '2', KILL_CONFIRM_WAIT: '1ms' });
    // The first CancelAll's connection drops (it may have run), the next one answers; Kraken's open orders cannot be read.
    w.kraken.failNext('CancelAll', 'reset');
    w.kraken.failNext('OpenOrders', 'EService:Unavailable', 2);

    const report = await cancelOnHalt(w.ctx, 'reconciliation found an unexplained order');

    expect(report).toMatchObject({ confirmed: false, canceled: 1, lostAnswers: [1] });
    const unconfirmed = w.lines.filter((l) => l.level >= 50).map((l) => l.msg).find((m) => m.includes('zero open orders could not be confirmed'));
    expect(unconfirmed).toMatch(/^halted: (.+) cancelled at least 1 order\(s\); how many the first cancel cancelled is unknown \(its answer was lost\), but zero open orders could not be confirmed: its open orders could not be read/);
  }, 30_000);
});

