// What `ctb kill` in a shell advises when Kraken is not confirmed clear and no bot takes the cancel
// on: a shell WITH the key that cannot reach Kraken is told what stopped it (the address and the DNS
// error), never to "run ctb kill again where the key is", and its tries agree with themselves; a
// running bot without the key is named as such, never as "no bot with the key is running".
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { ctbInShell } from '../../support/ctb-shell.js';
import { holdLease } from '../../support/held-lease.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';
import { recordLiveOrderEver } from '../../support/live-order-ever.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!().catch(() => {});
});

async function database(): Promise<TestDatabase> {
  const db = await createPostgresTestDb();
  cleanup.push(() => db.close());
  return db;
}

describe('ctb kill: the advice when Kraken is not confirmed', () => {
  it('with the key and Kraken unreachable (DNS): names the address and the error, counts its tries once, and never sends the operator to "where the key is"', async () => {
    const { url } = await database();
    const run = await ctbInShell(['kill', '--reason', 'no dns'], {
      DATABASE_URL: url, KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: 'http://kraken.invalid',
      KILL_CONFIRM_WAIT: '1s', KILL_CONFIRM_ATTEMPTS: '2',
    });
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(1);
    const line = run.stdout.split('\n').find((l) => l.startsWith('  kraken:'))!;
    const tries = /NOT CONFIRMED after (\d+) tries — /.exec(line)?.[1];
    expect(Number(tries), line).toBeGreaterThan(2);
    // The last error is of the last try, numbered as the count is.
    expect(line).toMatch(new RegExp(`\\(attempt ${tries}\\): Could not reach Kraken at http://kraken\\.invalid/? \\(fetch failed: getaddrinfo (ENOTFOUND|EAI_AGAIN) kraken\\.invalid\\)$`));
    expect(run.stdout).toMatch(/^NO BOT WITH THE KRAKEN KEY IS RUNNING \(no engine running\): orders may remain open on Kraken\. Request #\d+ waits 5 min for a bot with the key to take it; this process has the key, but Kraken did not confirm \(the kraken line above says why\): run `ctb kill` again once Kraken answers here, or cancel in Kraken's UI\.$/m);
    expect(run.stdout).not.toContain('where the key is');
  }, 120_000);

  it('cancelling on Kraken alone (no database to record the halt in) and Kraken unreachable: names the address and the DNS error', async () => {
    const key = { KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: 'http://kraken.invalid' };
    const unreachable = /Could not reach Kraken at http:\/\/kraken\.invalid\/? \(fetch failed: getaddrinfo (ENOTFOUND|EAI_AGAIN) kraken\.invalid\)/;
    // No embedded database in DATA_DIR (another directory than the bot's).
    // Nobody to hand the cancel on to: the kill's own rounds, each try failing the same way.
    const noDatabase = await ctbInShell(['kill', '--reason', 'no dns, no bot here'], { ...key, KILL_CONFIRM_WAIT: '1s', KILL_CONFIRM_ATTEMPTS: '2' });
    expect(noDatabase.code, `${noDatabase.stdout}\n${noDatabase.stderr}`).toBe(2);
    expect(noDatabase.stdout.split('\n')[1]).toMatch(new RegExp(`^Kraken: cancel failed, NOT CONFIRMED after (\\d+) tries — open-orders query \\(attempt \\1\\): ${unreachable.source}\. Orders may remain open on Kraken\.$`));
    // A DATABASE_URL it cannot use.
    const badUrl = await ctbInShell(['kill', '--reason', 'no dns, bad url'], { ...key, DATABASE_URL: 'mysql://ctb@127.0.0.1/ctb', KILL_CONFIRM_WAIT: '1s', KILL_CONFIRM_ATTEMPTS: '2' });
    expect(badUrl.code, `${badUrl.stdout}\n${badUrl.stderr}`).toBe(2);
    expect(badUrl.stdout).toMatch(new RegExp(`^NOT KILLED — Kraken: cancel failed, NOT CONFIRMED after (\\d+) tries — open-orders query \\(attempt \\1\\): ${unreachable.source}\. Orders may remain open on Kraken, and the bot may place new ones\.$`, 'm'));
  }, 120_000);

  it('without the key, beside a running bot that has none either: says that bot has no Kraken key, never that no bot is running', async () => {
    const db = await database();
    await recordLiveOrderEver(db.db);
    cleanup.push(await holdLease(db.db, { holderId: 'keyless-bot', host: hostname(), pid: process.pid, role: 'all', feed: 'replay', armed: false, hasKrakenKeys: false }, 60_000));
    const logDir = mkdtempSync(join(tmpdir(), 'ctb-kill-logs-'));
    const run = await ctbInShell(['kill', '--reason', 'keyless bot'], { DATABASE_URL: db.url, LOG_LEVEL: 'info', LOG_DIR: logDir });
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(1);
    const bot = `${hostname()}:${process.pid}`;
    const lines = run.stdout.split('\n');
    expect(lines[1]).toMatch(new RegExp(`^This process has no Kraken key and the running bot ${bot} has no Kraken key: the cancel on Kraken is queued in the database \\(request #\\d+\\)`));
    const request = Number(/request #(\d+)/.exec(lines[1]!)![1]);

    // The log lines carry the terminal's facts: the request it queued (never "no_bot", no request), the running bot it named.
    const logs = existsSync(logDir) ? readdirSync(logDir).filter((f) => f.endsWith('.log')).flatMap((f) => readFileSync(join(logDir, f), 'utf8').split('\n'))
      // The same line may be in more than one file (system.log and anomalies.log): each is counted once.
      .filter((l, i, all) => l.startsWith('{') && all.indexOf(l) === i).map((l) => JSON.parse(l) as Record<string, unknown>) : [];
    const unconfirmed = logs.filter((l) => l['msg'] === 'kill could not confirm zero open orders' && l['venue'] === 'kraken');
    expect(unconfirmed, JSON.stringify(logs)).toHaveLength(1);
    expect((unconfirmed[0]!['report'] as { handedOff: unknown }).handedOff).toEqual({ requestId: request, by: null, status: 'queued', queuedFor: null });
    expect(unconfirmed[0]!['notice']).toBe(lines[1]);
    const queued = logs.find((l) => typeof l['msg'] === 'string' && (l['msg'] as string).startsWith('kill: not confirmed'));
    expect(queued, JSON.stringify(logs)).toMatchObject({ requestId: request, runningBot: null, keylessBot: bot });
    expect(logs.some((l) => l['notice'] === lines[1] && l['krakenAccess'] === 'queued')).toBe(true);
    expect(run.stdout).toContain(`this process has no Kraken key and the running bot ${bot} has no Kraken key, so nobody could cancel there now`);
    expect(run.stdout).toMatch(new RegExp(`^THE RUNNING BOT ${bot} HAS NO KRAKEN KEY: orders may remain open on Kraken\\. Request #\\d+ waits 5 min for a bot with the key to take it; run \`ctb kill\` again where the key is`, 'm'));
    expect(run.stdout).not.toMatch(/no bot with the (Kraken )?key is running/i);

    // The incident's cancel item, read afterwards, says the same of that bot.
    const shown = await ctbInShell(['incident'], { DATABASE_URL: db.url });
    expect(shown.stdout).toMatch(new RegExp(`\\[~\\] cancel_orders .* PENDING: queued in the database for a bot with the Kraken key \\(request #\\d+\\), not yet taken: the running bot ${bot} has no Kraken key \\(${bot} \\(.*no Kraken keys\\), heartbeat \\d+s ago\\); until a bot with the Kraken key takes it, orders may stay open on Kraken`));
    expect(shown.stdout).not.toMatch(/no bot with the (Kraken )?key is running/i);
  }, 120_000);
});
