// A keyless kill decides two things from the engine lease — whether this bot was never live here
// (nothing to cancel, nobody to ask) and whether a running bot with the key can take the cancel —
// and both rest on one reading of it: a lease that changes between the two cannot make the kill
// say one thing of Kraken in one decision and the opposite in the other.
import { afterEach, describe, expect, it } from 'vitest';
import { acquireLease, releaseLease } from '../../../src/db/queries/engine-lease.js';
import { engineRequests } from '../../../src/db/schema/index.js';
import { executeKill } from '../../../src/services/kill/kill.js';
import { killTestContext, useKillTestDb } from '../../support/kill-context.js';
import { openOrder } from '../../support/recording-exchange.js';
import { hookedDatabase } from '../../support/statement-hooks.js';

/**
 * Each reading of the engine lease (readLease's statement, as the kill's database sends it), and what
 * runs after a reading and before its answer is used (the lease changing).
 */
const reads = { count: 0, afterRead: null as null | ((n: number) => Promise<void>) };
const LEASE_READ = /^select now\(\) as db_now, l\.\* from \(select 1\) as one left join engine_lease l on l\.id = 1$/;

const operator = { id: 'U0OPERATOR', source: 'slack' as const };
const keyedBot = { holderId: 'worker-1', host: 'worker-1', pid: 42, role: 'worker', feed: 'kraken', armed: false, hasKrakenKeys: true };
const kill = useKillTestDb(['incident_checklist_items', 'incidents', 'bot_state', 'audit_runs', 'order_intents', 'engine_requests', 'engine_lease']);

afterEach(() => {
  reads.count = 0;
  reads.afterRead = null;
});

describe('a keyless kill reads the engine lease once for its Kraken decisions', () => {
  it('a bot with the key holds the lease at the reading and is gone right after: the cancel is still handed to it and waited for, never "nobody could cancel"', async () => {
    const database = kill.track(hookedDatabase(kill.db().url, [{
      match: LEASE_READ,
      after: async () => {
        reads.count += 1;
        await reads.afterRead?.(reads.count);
      },
    }]));
    const t = await killTestContext({ database, env: { KILL_HANDOFF_TIMEOUT: '300ms' } });
    kill.track(t.ctx);
    await acquireLease(kill.db().db, keyedBot, 15_000);
    // The lease changes once it has been read the first time: the bot stops and releases it.
    reads.afterRead = async (n) => {
      if (n === 1) await releaseLease(kill.db().db, keyedBot.holderId);
    };
    t.paper.open.push(openOrder('P1'));
    const result = await executeKill(t.ctx, { actor: operator, reason: 'lease changes', trigger: 'manual' });

    expect(result.krakenAccess).not.toBe('never_live');
    const kraken = result.cancel.venues.find((v) => v.venue === 'kraken')!;
    // Handed over to the bot the reading showed: a request was written and waited for, not refused at once as "no bot".
    expect(kraken.errors.join('\n')).not.toMatch(/nobody could cancel there now/);
    expect(kraken.errors.at(-1)).toMatch(/no running bot with the key took the cancel within 0.3 s/);
    const requests = await kill.db().db.select().from(engineRequests);
    expect(requests.some((r) => r.kind === 'cancel_all' && r.status === 'failed' && /no process with a Kraken key answered/.test(r.error ?? ''))).toBe(true);
  });
});
