// `ctb kill` with the key where no bot has used DATA_DIR (no embedded database there): it still cancels
// on Kraken and says what Kraken answered. When Kraken carried out its first CancelAll but the answer
// was lost on the way back (the fake cancels, then answers a truncated body), the CancelAll sent after
// it counts 0: the line says none open and that how many the first cancel cancelled is unknown —
// never "0 order(s) cancelled".
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ctbIn } from '../../support/ctb-shell.js';
import { startFakeKraken } from '../../support/fake-kraken.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!().catch(() => {});
});

describe('ctb kill where no bot has used DATA_DIR, when the answer to its first CancelAll is lost', () => {
  it('says none open (confirmed) and that how many the first cancel cancelled is unknown, not "0 order(s) cancelled"; exits 2', async () => {
    const kraken = await startFakeKraken({ apiKey: TEST_API_KEY, secret: TEST_API_SECRET });
    cleanup.push(() => kraken.close());
    kraken.addOrder({ txid: 'OPEN-1', pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '40000', vol: '0.01', vol_exec: '0', status: 'open', opentm: 1 });
    kraken.simulator.faults.add({ endpoint: 'CancelAll', kind: 'truncated', after: true, times: 1 });
    const dir = mkdtempSync(join(tmpdir(), 'ctb-kill-nobot-'));

    const run = await ctbIn(dir, ['kill', '--reason', 'lost answer'], {
      LOG_LEVEL: 'warn', DATA_DIR: './data', LOG_DIR: join(dir, 'logs'), KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url,
    });
    const why = `exit ${run.code}\n${run.stdout}\n${run.stderr.slice(-3000)}`;
    // The first CancelAll cancelled the order (its answer lost); the one after it found nothing.
    expect(kraken.state.orders.get('OPEN-1')?.status, why).toBe('canceled');
    expect(kraken.callsTo('CancelAll').length, why).toBe(2);
    expect(run.code, why).toBe(2);
    expect(run.stdout.split('\n')[0], why).toMatch(/^NO BOT HALTED — no bot has used DATA_DIR /);
    expect(run.stdout.split('\n')[1], why).toBe('Kraken: none open (confirmed); how many the first cancel cancelled is unknown (its answer was lost).');
    expect(existsSync(join(dir, 'data')), why).toBe(false);
  }, 60_000);
});
