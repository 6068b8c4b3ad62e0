// The terminal's errors about alerts say what the CLI really accepts and point at the CLI's own
// commands, not at Slack's alert message.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertGroups } from '../../../src/db/schema/index.js';
import { ctbInShell } from '../../support/ctb-shell.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';

let database: TestDatabase;
let group: number;
beforeAll(async () => {
  database = await createPostgresTestDb();
  const at = new Date('2026-01-05T10:00:00Z');
  [{ id: group }] = await database.db.insert(alertGroups)
    .values({ source: 'engine', fingerprint: 'f', severity: 'warning', title: 'Kraken 5xx', firstAt: at, lastAt: at })
    .returning({ id: alertGroups.id }) as [{ id: number }];
}, 120_000);
afterAll(async () => {
  await database?.close();
});

const ctb = (...args: string[]) => ctbInShell(args, { DATABASE_URL: database.url });

describe('ctb alerts errors in the terminal', () => {
  it('a silence duration it cannot read names the range it takes, and 2h is taken', async () => {
    const bad = await ctb('alerts', 'silence', String(group), '3y');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('error: "3y" is not a duration: expected one from 1s to 7d in s, m, h or d, such as 30m, 2h, 1h30m or 1d.');
    const ok = await ctb('alerts', 'silence', String(group), '2h');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/silenced until/);
  }, 60_000);

  it('an unknown group points at ctb alerts list, not at the alert message', async () => {
    const r = await ctb('alerts', 'ack', '999');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: There is no alert group 999. ctb alerts list shows the groups not resolved, with their numbers.');
    expect(r.stderr).not.toContain('alert message');
  }, 60_000);
});
