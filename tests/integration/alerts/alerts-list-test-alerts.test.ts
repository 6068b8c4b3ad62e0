// A critical `ctb alerts test` pages on-call and says "Acknowledge it with `ctb alerts ack N`": the
// group it pages for is listed by `ctb alerts list` (marked [TEST]) until it is resolved. A test
// that pages nobody (warning) stays out of the list: it is the audit's record of the channels only.
import { describe, expect, it } from 'vitest';
import { ctbInShell } from '../../support/ctb-shell.js';
import { usePostgresTestDb } from '../../support/db.js';

const database = usePostgresTestDb();

describe('ctb alerts list after ctb alerts test', () => {
  it('lists the group a critical test pages for, marked as a test, until it is resolved', async () => {
    const env = { DATABASE_URL: database().url };
    const warning = await ctbInShell(['alerts', 'test', '--severity', 'warning'], env);
    const warningGroup = /— group (\d+),/.exec(warning.stdout)?.[1];
    const critical = await ctbInShell(['alerts', 'test', '--severity', 'critical'], env);
    const group = /Acknowledge it with `ctb alerts ack (\d+)`/.exec(critical.stdout)?.[1];
    expect(group, critical.stdout + critical.stderr).toBeDefined();
    expect(warningGroup).toBeDefined();

    const list = await ctbInShell(['alerts', 'list', '--json'], env);
    expect(list.code).toBe(0);
    const json = JSON.parse(list.stdout);
    expect(json.total).toBe(1);
    expect(json.groups).toEqual([expect.objectContaining({ id: Number(group), severity: 'critical', status: 'open', test: true })]);
    const text = await ctbInShell(['alerts', 'list'], env);
    expect(text.stdout).toMatch(new RegExp(`^\\s*${group}\\s+critical .*\\[TEST\\] .*\\(NOT acknowledged\\)$`, 'm'));

    expect((await ctbInShell(['alerts', 'resolve', group!], env)).code).toBe(0);
    expect((await ctbInShell(['alerts', 'list'], env)).stdout).toBe('No open alerts.\n');
  }, 120_000);
});
