// `ctb kill` with the key on an embedded DATA_DIR another ctb process holds (its lock names a live pid
// that shares no socket): the kill fails before it can answer (pglite_busy), but the CancelAll it sent
// at start is on its way to Kraken. It is not abandoned when the error is printed: the shell waits for
// it (one call's deadline at most), says what Kraken did, and exits non-zero.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lockPath } from '../../../src/db/pglite-lock.js';
import { pgliteDirOf } from '../../../src/db/pglite-start.js';
import { ctbChildInShell } from '../../support/ctb-shell.js';
import { startFakeKraken } from '../../support/fake-kraken.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!().catch(() => {});
});

describe('ctb kill when the embedded database is in use by another process', () => {
  it('waits for the CancelAll it sent at start, says what Kraken did, and exits 1', async () => {
    const kraken = await startFakeKraken({ apiKey: TEST_API_KEY, secret: TEST_API_SECRET });
    cleanup.push(() => kraken.close());
    kraken.addOrder({ txid: 'OPEN-1', pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '40000', vol: '0.01', vol_exec: '0', status: 'open', opentm: 1 });
    // Kraken has not answered the cancel yet when the kill fails.
    const release = kraken.hold('CancelAll');
    const dataDir = join(mkdtempSync(join(tmpdir(), 'ctb-kill-busy-')), 'data');
    // A bot's embedded database, held by a live process that is not the kill's (this test runner).
    mkdirSync(pgliteDirOf(dataDir), { recursive: true });
    writeFileSync(join(pgliteDirOf(dataDir), 'PG_VERSION'), '17\n');
    writeFileSync(lockPath(dataDir), JSON.stringify({ pid: process.pid, socketPath: null, since: '2026-12-06T22:00:00.000Z', host: hostname(), role: 'all' }));

    const kill = ctbChildInShell(['kill', '--reason', 'busy database'], {
      DATA_DIR: dataDir, KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url,
    });
    cleanup.push(async () => {
      if (kill.child.exitCode === null && kill.child.signalCode === null) kill.child.kill('SIGKILL');
      await kill.exited.catch(() => {});
    });
    await kill.stderrLine(/^error: The embedded database is in use by another ctb process/);
    release();
    const exit = await kill.exited;
    const why = `exit ${exit.code}\n${kill.stdout()}\n${kill.stderr().slice(-3000)}`;
    expect(exit, why).toEqual({ code: 1, signal: null });
    expect(kraken.state.orders.get('OPEN-1')?.status, why).toBe('canceled');
    expect(kill.stdout().trim().split('\n').at(-1), why).toBe('Kraken: 1 order(s) cancelled, none open (confirmed).');
  }, 60_000);

  it('with --json, the error object carries what Kraken did (kraken), not stderr alone', async () => {
    const kraken = await startFakeKraken({ apiKey: TEST_API_KEY, secret: TEST_API_SECRET });
    cleanup.push(() => kraken.close());
    kraken.addOrder({ txid: 'OPEN-1', pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '40000', vol: '0.01', vol_exec: '0', status: 'open', opentm: 1 });
    const dataDir = join(mkdtempSync(join(tmpdir(), 'ctb-kill-busy-json-')), 'data');
    mkdirSync(pgliteDirOf(dataDir), { recursive: true });
    writeFileSync(join(pgliteDirOf(dataDir), 'PG_VERSION'), '17\n');
    writeFileSync(lockPath(dataDir), JSON.stringify({ pid: process.pid, socketPath: null, since: '2026-12-06T22:00:00.000Z', host: hostname(), role: 'all' }));

    const kill = ctbChildInShell(['kill', '--reason', 'busy database', '--json'], {
      DATA_DIR: dataDir, KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url,
    });
    cleanup.push(async () => {
      if (kill.child.exitCode === null && kill.child.signalCode === null) kill.child.kill('SIGKILL');
      await kill.exited.catch(() => {});
    });
    const exit = await kill.exited;
    const why = `exit ${exit.code}\n${kill.stdout()}\n${kill.stderr().slice(-3000)}`;
    expect(exit, why).toEqual({ code: 1, signal: null });
    expect(JSON.parse(kill.stdout()), why).toMatchObject({ ok: false, exitCode: 1, kraken: 'Kraken: 1 order(s) cancelled, none open (confirmed).' });
  }, 60_000);
});
