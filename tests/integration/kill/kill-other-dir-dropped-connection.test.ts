// `ctb kill` with the key where there is no embedded database at DATA_DIR (another directory than the
// bot's): no bot to halt, none to hand an unconfirmed cancel to, so the kill's own rounds must confirm.
// Kraken's connection is dropped without an answer ("other side closed": a server closing a kept-alive
// socket as the request goes out) — here deterministically, the fake destroying the socket of the first
// calls. One such drop used to end the kill with "the cancel failed"; it costs a round now, and the
// reply says only what is known (a cancel whose answer was lost makes the count a lower bound).
import { afterEach, describe, expect, it } from 'vitest';
import { ctbChildInShell, ctbInShell } from '../../support/ctb-shell.js';
import { startFakeKraken, type FakeKraken } from '../../support/fake-kraken.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!().catch(() => {});
});

const openAtKraken = (kraken: FakeKraken) => [...kraken.state.orders.values()].filter((o) => o.status === 'open' || o.status === 'pending');

async function fakeKraken(onRequestStart?: (path: string) => void): Promise<FakeKraken> {
  const kraken = await startFakeKraken({ apiKey: TEST_API_KEY, secret: TEST_API_SECRET, ...(onRequestStart ? { onRequestStart } : {}) });
  cleanup.push(() => kraken.close());
  for (const txid of ['OPEN-1', 'OPEN-2']) {
    kraken.addOrder({ txid, pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '40000', vol: '0.01', vol_exec: '0', status: 'open', opentm: 1 });
  }
  return kraken;
}

const key = (kraken: FakeKraken) => ({ KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url });

const NO_BOT = /^NO BOT HALTED — no bot has used DATA_DIR .*: there is no embedded database there, so this kill recorded no halt and created none\. /;

describe('ctb kill with no bot database, when Kraken drops the connection', () => {
  it('tries again after its CancelAll and OpenOrders connections are dropped, confirms none open, and says the count is a lower bound', async () => {
    const kraken = await fakeKraken();
    // The early CancelAll and the kill's re-send of it, then the first OpenOrders: sockets closed, no answer.
    kraken.failNext('CancelAll', 'reset', 2);
    kraken.failNext('OpenOrders', 'reset', 1);
    const run = await ctbInShell(['kill', '--reason', 'dropped'], key(kraken));
    const why = `exit ${run.code}\n${run.stdout}\n${run.stderr.slice(-3000)}`;
    expect(run.code, why).toBe(2);
    const lines = run.stdout.split('\n');
    expect(lines[0], why).toMatch(NO_BOT);
    expect(lines[1], why).toBe('Kraken: at least 2 cancelled, none open (confirmed); how many the first cancel cancelled is unknown (its answer was lost).');
    expect(openAtKraken(kraken)).toEqual([]);
    expect(kraken.callsTo('CancelAll').length, why).toBeGreaterThanOrEqual(3);
    expect(kraken.callsTo('OpenOrders').length, why).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it('--json: what was cancelled, confirmed, in how many tries, and which answers were lost', async () => {
    const kraken = await fakeKraken();
    kraken.failNext('CancelAll', 'reset', 2);
    const run = await ctbInShell(['kill', '--reason', 'dropped', '--json'], key(kraken));
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(2);
    const out = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({
      ok: false, code: 'no_bot_database', exitCode: 2, halted: false,
      kraken: { canceled: 2, confirmed: true, open: 0, lostAnswers: [1], survivors: [] },
    });
    expect((out['kraken'] as { errors: string[] }).errors[0]).toMatch(/^cancel-all \(attempt 1\): Could not reach Kraken at .*other side closed/);
    expect(openAtKraken(kraken)).toEqual([]);
  }, 120_000);

  it('never confirmed (every CancelAll dropped): names what is still open, no count it does not know, and that orders may remain open', async () => {
    const kraken = await fakeKraken();
    kraken.failNext('CancelAll', 'reset', 1000);
    const run = await ctbInShell(['kill', '--reason', 'dropped'], { ...key(kraken), KILL_CONFIRM_WAIT: '1s', KILL_CONFIRM_ATTEMPTS: '2' });
    const why = `exit ${run.code}\n${run.stdout}\n${run.stderr.slice(-3000)}`;
    expect(run.code, why).toBe(2);
    const lines = run.stdout.split('\n');
    expect(lines[0], why).toMatch(NO_BOT);
    const tries = Number(/NOT CONFIRMED after (\d+) tries/.exec(lines[1] ?? '')?.[1]);
    expect(tries, why).toBeGreaterThanOrEqual(2);
    expect(lines[1], why).toMatch(new RegExp(`^Kraken: no cancel answered, NOT CONFIRMED after ${tries} tries — still open: OPEN-1 [^;]+; OPEN-2 [^—]+ — cancel-all \\(attempt ${tries}\\): Could not reach Kraken at [^ ]+ \\(fetch failed: other side closed\\)\\. Orders may remain open on Kraken\\.$`));
    expect(kraken.callsTo('CancelAll').length, why).toBeGreaterThanOrEqual(tries);
  }, 120_000);

  it('with a DATABASE_URL it cannot use (nothing recorded either): the same rounds, confirmed after the dropped connections', async () => {
    const kraken = await fakeKraken();
    // No early cancel on this path: the first CancelAll and the first OpenOrders are dropped.
    kraken.failNext('CancelAll', 'reset', 1);
    kraken.failNext('OpenOrders', 'reset', 1);
    const run = await ctbInShell(['kill', '--reason', 'dropped'], { ...key(kraken), DATABASE_URL: 'mysql://ctb@127.0.0.1/ctb' });
    const why = `exit ${run.code}\n${run.stdout}\n${run.stderr.slice(-3000)}`;
    expect(run.code, why).toBe(2);
    expect(run.stdout, why).toMatch(/^NOT HALTED — Kraken: at least 2 cancelled, none open \(confirmed\); how many the first cancel cancelled is unknown \(its answer was lost\); the bot may place new ones until the halt is recorded\.$/m);
    expect(openAtKraken(kraken)).toEqual([]);
  }, 120_000);

  it('with a DATABASE_URL it cannot use, stopped (SIGINT) during its rounds: says no halt was recorded anywhere and orders are not confirmed cancelled, exits 130', async () => {
    let asked!: () => void;
    const openOrdersAsked = new Promise<void>((resolve) => (asked = resolve));
    const kraken = await fakeKraken((path) => {
      if (path.endsWith('/OpenOrders')) asked();
    });
    const release = kraken.hold('OpenOrders');
    cleanup.push(async () => release());
    const run = ctbChildInShell(['kill', '--reason', 'stopped'], { ...key(kraken), DATABASE_URL: 'mysql://ctb@127.0.0.1/ctb' });
    await openOrdersAsked;
    run.child.kill('SIGINT');
    const { code } = await run.exited;
    const why = `exit ${code}\n${run.stdout()}\n${run.stderr()}`;
    expect(code, why).toBe(130);
    expect(run.stderr(), why).toContain([
      'INTERRUPTED (SIGINT) before the kill answered:',
      '  Halt: NOT RECORDED — DATABASE_URL or DATA_DIR cannot be used, so the kill cannot tell which database the bot reads: the running bot (if any) is NOT halted and keeps trading.',
      '  Orders on Kraken: NOT CONFIRMED cancelled — the kill was stopped before zero open orders were confirmed: orders may remain open on Kraken.',
      "  Next: fix DATABASE_URL or DATA_DIR (see .env.example) and run `ctb kill` again, or cancel in Kraken's UI.",
    ].join('\n'));
  }, 120_000);

  it('with a DATABASE_URL it cannot use, --json: one JSON object on stdout with what Kraken answered', async () => {
    const kraken = await fakeKraken();
    const run = await ctbInShell(['kill', '--reason', 'json', '--json'], { ...key(kraken), DATABASE_URL: 'mysql://ctb@127.0.0.1/ctb' });
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({
      ok: false, code: 'database_setting_unusable', exitCode: 2, halted: false, error: expect.stringContaining('DATABASE_URL'),
      kraken: { canceled: 2, confirmed: true, open: 0, survivors: [] },
    });
    expect(openAtKraken(kraken)).toEqual([]);
  }, 120_000);

  it('stopped (SIGINT) while its rounds wait on Kraken: says no halt was recorded and orders are not confirmed cancelled, exits 130', async () => {
    let asked!: () => void;
    const openOrdersAsked = new Promise<void>((resolve) => (asked = resolve));
    const kraken = await fakeKraken((path) => {
      if (path.endsWith('/OpenOrders')) asked();
    });
    // Kraken takes the open-orders query of the first round and does not answer it.
    const release = kraken.hold('OpenOrders');
    cleanup.push(async () => release());
    const run = ctbChildInShell(['kill', '--reason', 'stopped'], key(kraken));
    await openOrdersAsked;
    run.child.kill('SIGINT');
    const { code } = await run.exited;
    const why = `exit ${code}\n${run.stdout()}\n${run.stderr()}`;
    expect(code, why).toBe(130);
    expect(run.stderr(), why).toContain('INTERRUPTED (SIGINT) before the kill answered:\n  Halt: NO BOT HALTED — there is no embedded database in DATA_DIR ');
    expect(run.stderr(), why).toContain('  Orders on Kraken: NOT CONFIRMED cancelled — the kill was stopped before zero open orders were confirmed: orders may remain open on Kraken.');
  }, 120_000);
});
