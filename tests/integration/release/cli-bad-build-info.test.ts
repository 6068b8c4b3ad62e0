// bin/ctb.js reads dist/build-info.json only to warn when the checkout moved since the build: an
// empty or cut-short file (a disk that filled up, a build killed mid-write) is "no build commit",
// never a reason to stop a command — `ctb kill` above all. An install of this tree whose
// build-info.json is broken runs `ctb kill` to Kraken's CancelAll, and other commands run too.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ctbIn, type ShellRun } from '../../support/ctb-shell.js';
import { createPostgresTestDb } from '../../support/db.js';
import { startFakeKraken } from '../../support/fake-kraken.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';

const ROOT = realpathSync(new URL('../../..', import.meta.url).pathname);
const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanup.length) await Promise.resolve(cleanup.pop()!()).catch(() => {});
});

/** An install of this tree (its bin/, its built dist/ linked) whose dist/build-info.json holds `text`. */
function installWithBuildInfo(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ctb-build-info-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'bin'));
  for (const file of readdirSync(join(ROOT, 'bin'))) copyFileSync(join(ROOT, 'bin', file), join(dir, 'bin', file));
  copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  mkdirSync(join(dir, 'dist'));
  for (const name of readdirSync(join(ROOT, 'dist'))) {
    if (name !== 'build-info.json') symlinkSync(join(ROOT, 'dist', name), join(dir, 'dist', name));
  }
  writeFileSync(join(dir, 'dist', 'build-info.json'), text);
  return dir;
}

function ctb(install: string, args: string[], env: Record<string, string>): Promise<ShellRun> {
  const cwd = mkdtempSync(join(tmpdir(), 'ctb-build-info-shell-'));
  cleanup.push(() => rmSync(cwd, { recursive: true, force: true }));
  return ctbIn(cwd, args, { LOG_LEVEL: 'warn', ...env }, { entry: join(install, 'bin/ctb.js') });
}

const BROKEN = [
  ['empty', ''],
  ['cut short', '{\n  "hash": "8fcf8dccb5d1221c",\n  "commit": "82fc9ffd'],
] as const;

describe('ctb with a broken dist/build-info.json', () => {
  for (const [what, text] of BROKEN) {
    it(`${what}: ctb kill still cancels every open order at Kraken`, async () => {
      const database = await createPostgresTestDb();
      cleanup.push(() => database.close());
      const kraken = await startFakeKraken({ apiKey: TEST_API_KEY, secret: TEST_API_SECRET });
      cleanup.push(() => kraken.close());
      kraken.addOrder({ txid: 'OPEN-1', pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '40000', vol: '0.01', vol_exec: '0', status: 'open', opentm: 1 });
      const run = await ctb(installWithBuildInfo(text), ['kill', '--reason', 'drill'], {
        DATABASE_URL: database.url, KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url,
      });
      expect(run.stderr).not.toMatch(/SyntaxError|JSON/);
      expect(run.code, run.stderr).toBe(0);
      expect(kraken.callsTo('CancelAll').length).toBeGreaterThanOrEqual(1);
      expect([...kraken.state.orders.values()].filter((o) => o.status === 'open')).toEqual([]);
      expect(run.stdout.split('\n')[0]).toBe('KILLED — every open order cancelled.');
    }, 120_000);

    it(`${what}: other commands run (ctb version, ctb --help)`, async () => {
      const install = installWithBuildInfo(text);
      const version = await ctb(install, ['version'], {});
      expect(version.stderr).not.toMatch(/SyntaxError|JSON/);
      expect(version.code, version.stderr).toBe(0);
      const help = await ctb(install, ['--help'], {});
      expect(help.code, help.stderr).toBe(0);
      expect(help.stdout).toContain('kill');
    }, 120_000);
  }
});
