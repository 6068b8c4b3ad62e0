// The alert lane's shared "does the database answer" probe (sink.ts, databaseProbe), on real
// PostgreSQL behind a TCP proxy whose connection goes dead: each asker's wait ends at its own
// deadline while the probe is stuck, and the probe itself ends at its bound (its connection
// destroyed), so a later asker starts a fresh probe instead of joining the dead one.
import { describe, expect, it } from 'vitest';
import { databaseProbe } from '../../../src/alerts/sink.js';
import { usePostgresTestDb } from '../../support/db.js';
import { useAlertOutageBed } from '../../support/alert-outage-bed.js';

const database = usePostgresTestDb();
const bed = useAlertOutageBed(database);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Polls until `done` (10 s at most). */
async function until(done: () => boolean): Promise<void> {
  const end = Date.now() + 10_000;
  while (!done() && Date.now() < end) await sleep(20);
}

describe('the shared database probe', () => {
  it('answers each asker at its own deadline while stuck, and a probe past its bound gives way to a fresh one', async () => {
    const answers = databaseProbe(bed.proxied.db, 800);
    expect(await answers(5_000)).toBe(true);
    expect(bed.proxy.connections).toBe(1);

    // The probe's connection stalls and then goes dead for good (half-open): it never answers.
    bed.proxy.set('stall');
    let firstSettled = false;
    const first = answers(4_000).finally(() => (firstSettled = true));
    bed.proxy.deadenOpen();

    // A joiner with a short deadline has its "no answer" at that deadline, the probe still stuck.
    expect(await answers(50)).toBe(false);
    expect(firstSettled).toBe(false);
    expect(bed.proxy.connections).toBe(1);

    // The network passes again, but not on the dead connection. The stuck probe ends at its bound:
    // no answer, and its connection destroyed.
    bed.proxy.set('forward');
    expect(await first).toBe(false);
    await until(() => bed.proxy.connections === 0);
    expect(bed.proxy.connections).toBe(0);

    // The next asker starts a fresh probe, which the database answers.
    expect(await answers(4_000)).toBe(true);
  });
});
