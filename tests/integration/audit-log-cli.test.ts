// `ctb audit-log` prints the append-only command trail: what Slack users ran (allowed or refused)
// through the real receiver, and what the terminal ran, with filters and clear usage errors.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditLogResult } from '../../commands/audit-log.js';
import type { CliIo } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/program.js';
import { cliActor } from '../../src/cli/with-context.js';
import { commandLog } from '../../src/db/schema/index.js';
import { createPostgresTestDb, type TestDatabase } from '../support/db.js';
import { startSlackHarness, USERS, type SlackHarness } from '../support/slack-harness.js';

function cli(database: TestDatabase) {
  let out = '';
  let err = '';
  const dir = mkdtempSync(join(tmpdir(), 'ctb-audit-log-'));
  const io: CliIo = {
    env: { DATABASE_URL: database.url, LOG_DIR: join(dir, 'logs'), DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'warn' },
    cwd: dir,
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
  };
  return {
    run: async (...args: string[]) => {
      out = '';
      err = '';
      const code = await runCli(['audit-log', ...args], io);
      return { code, out, err };
    },
    json: async (...args: string[]) => {
      out = '';
      err = '';
      const code = await runCli(['audit-log', '--json', ...args], io);
      if (code !== 0) throw new Error(`exit ${code}: ${err}`);
      return JSON.parse(out) as AuditLogResult;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

describe('ctb audit-log', () => {
  let database: TestDatabase;
  let h: SlackHarness;
  let c: ReturnType<typeof cli>;
  beforeAll(async () => {
    database = await createPostgresTestDb();
    // Older history, written as the trail would have been.
    await database.db.insert(commandLog).values([
      { at: new Date('2026-01-01T08:00:00Z'), source: 'cli', actor: 'cli:ops', command: 'backup', args: '{}', allowed: true, result: 'ok' },
      { at: new Date('2026-01-02T08:00:00Z'), source: 'system', actor: 'system:escalation', command: 'kill', args: '{"reason":"unacknowledged"}', allowed: true, result: 'ok' },
    ]);
    h = await startSlackHarness({ database });
    // One at a time: each is acked before its work runs, so the trail's order is the work's order.
    for (const [command, text, user] of [['/kill', 'market is on fire', USERS.reader], ['/mode', 'status', USERS.operator], ['/mode', 'paper because', USERS.approver1]] as const) {
      await h.slash(command, text, { user });
      await h.idle();
    }
    c = cli(database);
  });
  afterAll(async () => {
    c?.cleanup();
    await h?.close();
    await database?.close();
  });

  it('prints every recorded command oldest first, refused ones included, as JSON', async () => {
    const r = await c.json();
    const rows = r.entries.map((e) => [e.source, e.actor, e.command, e.allowed, e.result]);
    expect(rows).toEqual([
      ['cli', 'cli:ops', 'backup', true, 'ok'],
      ['system', 'system:escalation', 'kill', true, 'ok'],
      ['slack', USERS.reader, 'kill', false, 'refused'],
      ['slack', USERS.operator, 'mode status', true, 'ok'],
      ['slack', USERS.approver1, 'mode paper', false, 'refused'],
    ]);
    expect(r.entries[2]).toMatchObject({ args: 'market is on fire', details: { slash: '/kill', channel: 'C0TESTOPS' } });
    expect(r.more).toBe(false);
    expect(r.filters).toEqual({ since: null, user: null, command: null, limit: 50 });
  });

  it('prints a readable line per command in the terminal, refusals in capitals', async () => {
    const { code, out } = await c.run('--user', USERS.reader);
    expect(code).toBe(0);
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\s+slack\\s+${USERS.reader}\\s+REFUSED\\s+kill market is on fire\\s+→ refused$`));
    expect(lines[2]).toBe(`1 entry (user ${USERS.reader})`);
  });

  it('filters by user, by command word and by time', async () => {
    expect((await c.json('--user', `<@${USERS.operator}>`)).entries.map((e) => e.command)).toEqual(['mode status']);
    expect((await c.json('--command', 'kill')).entries.map((e) => e.actor)).toEqual(['system:escalation', USERS.reader]);
    expect((await c.json('--command', '/mode')).entries.map((e) => e.command)).toEqual(['mode status', 'mode paper']);
    expect((await c.json('--command', 'mode paper')).entries.map((e) => e.actor)).toEqual([USERS.approver1]);
    expect((await c.json('--period', '2026-01-02')).entries[0]?.actor).toBe('system:escalation');
    const recent = await c.json('1h');
    expect(recent.entries.every((e) => e.source === 'slack' || e.actor.startsWith('cli:'))).toBe(true);
    expect(recent.entries.some((e) => e.command === 'backup')).toBe(false);
  });

  it('still takes the deprecated --since, warning that --period replaces it', async () => {
    const old = await c.run('--json', '--since', '2026-01-02');
    expect(old.code).toBe(0);
    expect(old.err).toContain('warning: --since is deprecated and will be removed; use --period 2026-01-02 (or: ctb audit-log 2026-01-02)');
    const r = JSON.parse(old.out) as AuditLogResult;
    expect(r.filters.since).toBe('2026-01-02T00:00:00.000Z');
    expect(r.entries[0]?.actor).toBe('system:escalation');
  });

  it('keeps the newest N with --limit and says older ones were left out', async () => {
    const r = await c.json('--limit', '2', '--command', 'kill');
    expect(r.entries.map((e) => e.actor)).toEqual(['system:escalation', USERS.reader]);
    expect(r.more).toBe(false);
    const one = await c.run('--limit', '1', '--command', 'kill');
    expect(one.out).toContain(USERS.reader);
    expect(one.out).not.toContain('system:escalation');
    expect(one.out).toContain('older ones left out — raise --limit (now 1)');
  });

  it('records its own use in the trail', async () => {
    const r = await c.json('--user', cliActor().id, '--command', 'audit-log');
    // The reads above ran as the terminal user; each one is recorded after it printed.
    expect(r.entries.length).toBeGreaterThan(0);
    expect(r.entries.every((e) => e.source === 'cli' && e.command === 'audit-log')).toBe(true);
  });

  it.each([
    [['--period', 'yesterday'], /--period: expected a duration such as 30m, 2h or 7d, or an ISO date\/time .* got "yesterday"/],
    [['2999-01-01'], /--period: 2999-01-01T00:00:00.000Z is in the future/],
    [['--limit', 'ten'], /--limit: expected a whole number from 1 to 1000, got "ten"/],
    [['--limit', '0'], /--limit: expected a whole number from 1 to 1000, got "0"/],
    [['--limit', '5000'], /--limit: expected a whole number from 1 to 1000, got "5000"/],
    [['--user', 'alice'], /--user: expected a Slack user id such as U012ABCDEF, cli:<name> or system:<job>, got "alice"/],
    [['--command', 'rm -rf; drop'], /--command: expected a command name such as kill, mode or "mode paper", got "rm -rf; drop"/],
  ])('rejects %j with exit 2 and says what is expected', async (args, message) => {
    const before = (await database.db.select().from(commandLog)).length;
    const { code, err, out } = await c.run(...args);
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toMatch(message);
    expect(err).toMatch(/\n\(run ctb audit-log --help for its usage and options\)\n$/);
    // The malformed attempt itself is in the trail, with its usage result.
    // In the order written, so the last is the newest (rows fill space freed by earlier deletes anywhere).
    const after = await database.db.select().from(commandLog).orderBy(commandLog.id);
    expect(after.length).toBe(before + 1);
    expect(after.at(-1)).toMatchObject({ source: 'cli', command: 'audit-log', allowed: true });
    expect(after.at(-1)?.result).toMatch(/^bad_(since|limit|user|command): /);
  });

  it('exits 2 on an option it does not know', async () => {
    const { code, err } = await c.run('--verbose');
    expect(code).toBe(2);
    expect(err).toMatch(/unknown option '--verbose'/);
  });

  // Last: the trail is append-only, so the row it adds stays for any test after it.
  it('finds rows written under the former hyphenated name of a command by the name it is typed by', async () => {
    const [legacy] = await database.db.insert(commandLog).values(
      { at: new Date('2026-01-01T09:00:00Z'), source: 'cli', actor: 'cli:ops', command: 'incident-done', args: '{"item":"cancel_orders"}', allowed: true, result: 'ok' },
    ).returning();
    expect((await c.json('--command', 'incident done')).entries.map((e) => e.id)).toEqual([legacy!.id]);
  });
});
