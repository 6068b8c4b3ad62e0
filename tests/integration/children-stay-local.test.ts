// No child process a test starts reaches beyond this machine: not Kraken (the go-live audit reads its
// public AssetPairs with no key at all), not Slack, not anyone. The shared spawn helpers give a child
// Kraken and Slack on a closed local port unless the test chose its own (in the environment or the
// child's .env), and fail a run that connected elsewhere anyway (tests/support/local-only.ts).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/services/audit/types.js';
import { ctbInShell } from '../support/ctb-shell.js';
import { createPostgresTestDb, type TestDatabase } from '../support/db.js';
import { CLOSED_LOCAL_URL, localOnly } from '../support/local-only.js';

let database: TestDatabase;
const dirs: string[] = [];

beforeAll(async () => {
  database = await createPostgresTestDb();
});
afterAll(async () => {
  await database?.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const pairsCheck = (stdout: string) => (JSON.parse(stdout) as { results: CheckResult[] }).results.find((r) => r.id === 'exchange.trading_pairs');

describe("a test's child processes", () => {
  it('run the key-less audit in a shell against a closed local port, not Kraken: AssetPairs is refused on this machine', async () => {
    const run = await ctbInShell(['audit', '--dry-run', '--json'], { DATABASE_URL: database.url, TRADING_PAIRS: 'BTC/USD' });
    expect(pairsCheck(run.stdout)).toMatchObject({ status: 'fail', value: expect.stringMatching(/^could not reach Kraken: .*ECONNREFUSED 127\.0\.0\.1:3\b/) });
  });

  it('fail the test that started them when they connect beyond this machine, and never get there', async () => {
    await expect(ctbInShell(['audit', '--dry-run', '--json'], { DATABASE_URL: database.url, KRAKEN_API_URL: 'https://api.kraken.com', TRADING_PAIRS: 'BTC/USD' }))
      .rejects.toThrow(/^ctb audit --dry-run --json connected beyond this machine \(api\.kraken\.com:443\): a test's child must not reach Kraken, Slack or any other remote host/);
  });

  it("keep the Kraken and Slack a test chose, in the environment or in the child's .env (which the environment would override)", () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctb-local-only-'));
    dirs.push(dir);
    expect(localOnly({ PATH: '/bin' }, dir)).toEqual({ PATH: '/bin', KRAKEN_API_URL: CLOSED_LOCAL_URL });
    expect(localOnly({ KRAKEN_API_URL: 'http://127.0.0.1:4000', SLACK_BOT_TOKEN: 'xoxb-1' }, dir))
      .toEqual({ KRAKEN_API_URL: 'http://127.0.0.1:4000', SLACK_BOT_TOKEN: 'xoxb-1', SLACK_API_URL: `${CLOSED_LOCAL_URL}/api/` });
    writeFileSync(join(dir, '.env'), '# the fake\nKRAKEN_API_URL=http://127.0.0.1:4000\nSLACK_BOT_TOKEN=xoxb-1\nSLACK_API_URL=http://127.0.0.1:4001/api/\n');
    expect(localOnly({ PATH: '/bin' }, dir)).toEqual({ PATH: '/bin' });
    writeFileSync(join(dir, '.env'), 'SLACK_APP_TOKEN=xapp-1\n');
    expect(localOnly({}, dir)).toEqual({ KRAKEN_API_URL: CLOSED_LOCAL_URL, SLACK_API_URL: `${CLOSED_LOCAL_URL}/api/` });
  });
});
