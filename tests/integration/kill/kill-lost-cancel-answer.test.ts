// `ctb kill` from a shell with the key, when Kraken carries out the first CancelAll but its answer
// is lost on the way back (the fake cancels, then answers a truncated body): the open order is gone,
// so zero open orders are confirmed and the kill exits 0 — but how many that first cancel cancelled
// is not known, and the reply says so instead of counting it as 0. The CancelAll sent before the
// database is opened is only a head start: when its connection (and the re-send's) is dropped
// without an answer, the kill's rounds after it cancel and confirm.
import { afterEach, describe, expect, it } from 'vitest';
import { ctbInShell } from '../../support/ctb-shell.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';
import { liveKillWorld } from '../../support/kill-world.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!().catch(() => {});
});

describe('ctb kill when the answer to its first CancelAll is lost', () => {
  it('says none open (confirmed) and that how many the first cancel cancelled is unknown — not "0 cancelled" — and exits 0', async () => {
    const { database, kraken } = await liveKillWorld(cleanup);
    kraken.simulator.faults.add({ endpoint: 'CancelAll', kind: 'truncated', after: true, times: 1 });

    const run = await ctbInShell(['kill', '--reason', 'lost answer'], {
      DATABASE_URL: database.url, KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url,
    });
    const why = `exit ${run.code}\n${run.stdout}\n${run.stderr.slice(-3000)}`;
    // The first CancelAll cancelled the order (its answer lost); the ones after it found nothing.
    expect(kraken.state.orders.get('OPEN-1')?.status, why).toBe('canceled');
    expect(kraken.callsTo('CancelAll').length, why).toBeGreaterThanOrEqual(2);
    expect(run.code, why).toBe(0);
    expect(run.stdout.split('\n')[0], why).toBe('KILLED — none open now (kraken and paper confirmed; how many kraken cancelled is not known).');
    expect(run.stdout, why).toMatch(/^ {2}kraken: none open \(confirmed\); how many the first cancel cancelled is unknown \(its answer was lost\)$/m);
    expect(run.stdout, why).not.toMatch(/kraken: 0 cancelled/);
  }, 120_000);

  it('its early CancelAll and the re-send both dropped (other side closed): a head start only — the rounds after it cancel and confirm, exit 0', async () => {
    const { database, kraken } = await liveKillWorld(cleanup, ['OPEN-1', 'OPEN-2']);
    // The CancelAll sent before the database is opened, the kill's re-send of it, then its first OpenOrders.
    kraken.failNext('CancelAll', 'reset', 2);
    kraken.failNext('OpenOrders', 'reset', 1);

    const run = await ctbInShell(['kill', '--reason', 'dropped'], {
      DATABASE_URL: database.url, KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url,
    });
    const why = `exit ${run.code}\n${run.stdout}\n${run.stderr.slice(-3000)}`;
    expect(run.code, why).toBe(0);
    expect(run.stdout.split('\n')[0], why).toBe('KILLED — every open order cancelled.');
    expect(run.stdout, why).toMatch(/^ {2}kraken: at least 2 cancelled, none open \(confirmed\); how many the first cancel cancelled is unknown \(its answer was lost\)$/m);
    expect([...kraken.state.orders.values()].filter((o) => o.status === 'open')).toEqual([]);
  }, 120_000);
});
