// A kill saved in DATA_DIR names the database it was aimed at (never a secret), and is written only
// into that one: a process on another database that reads the same DATA_DIR stays halted (and, with
// the Kraken key, cancels there) but leaves the saved kill in the file for a process on the right one.
import { existsSync, mkdtempSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { incidents } from '../../../src/db/schema/index.js';
import { getBotState } from '../../../src/services/bot-state.js';
import { cancelOnHalt } from '../../../src/services/kill/halt-cancel.js';
import { readEnv } from '../../../src/config/env.js';
import { loadConfig } from '../../../src/config/load.js';
import { readServerIdentity } from '../../../src/db/queries/server-identity.js';
import { knownServerIdentity } from '../../../src/services/kill/database-identity.js';
import { startHaltWatcher } from '../../../src/services/kill/halt-watcher.js';
import { executeKill } from '../../../src/services/kill/kill.js';
import { killTargetOf, sameKillTarget } from '../../../src/services/kill/kill-target.js';
import { addPendingKill, pendingKillPath, readPendingKills } from '../../../src/services/kill/pending-kill.js';
import { replayPendingKills } from '../../../src/services/kill/replay-pending.js';
import { isHaltLatched } from '../../../src/services/kill/runtime.js';
import { resumeAfterHalt } from '../../../src/services/kill/resume.js';
import { selfHeal } from '../../../src/services/self-heal/self-heal.js';
import { ctbInShell } from '../../support/ctb-shell.js';
import { freePort } from '../../support/free-port.js';
import { killTestContext, recordingDatabase, useKillTestDb } from '../../support/kill-context.js';
import { startStallProxy } from '../../support/stall-proxy.js';
import { openOrder } from '../../support/recording-exchange.js';

const kill = useKillTestDb(['incident_checklist_items', 'incidents', 'bot_state', 'audit_runs', 'order_intents', 'engine_requests', 'engine_lease']);

afterEach(() => {
  vi.restoreAllMocks();
});

/** A bot with the key on the test database (DATABASE_URL names it), in `dataDir`, cancelling on Kraken whenever it learns of a kill. */
async function botOnTestDatabase(dataDir?: string) {
  const t = await killTestContext({ database: kill.db(), armed: true, env: { DATABASE_URL: kill.db().url }, ...(dataDir ? { dataDir } : {}) });
  kill.track(t.ctx);
  const stop = t.ctx.kill.latch.onHalt((reason, killId) => void cancelOnHalt(t.ctx, reason, killId));
  return { t, stop };
}

const saved = (killId: string, target?: string) => ({
  killId, at: '2026-03-02T09:59:00.000Z', actor: 'cli:ops', actorSource: 'cli' as const, trigger: 'manual' as const, reason: `saved ${killId}`, cancelReport: {},
  ...(target !== undefined ? { target } : {}),
});

describe('a kill saved in DATA_DIR names its database', () => {
  it('`ctb kill` against a PostgreSQL that does not answer saves host, port and database name — never the user nor the password', async () => {
    const port = await freePort();
    const run = await ctbInShell(['kill', '--reason', 'closedport'], { DATABASE_URL: `postgres://ops:s3cret-pw@127.0.0.1:${port}/x`, KILL_DB_TIMEOUT: '1s' });
    const dataDir = /saved only in (\S+)kill-pending\.json/.exec(run.stdout + run.stderr)?.[1];
    expect(dataDir, `${run.stdout}\n${run.stderr}`).toBeDefined();
    expect(readPendingKills(dataDir!)).toEqual([expect.objectContaining({ reason: 'closedport', target: `PostgreSQL 127.0.0.1:${port}/x` })]);
    expect(readFileSync(pendingKillPath(dataDir!), 'utf8')).not.toMatch(/s3cret-pw|ops@/);
  }, 120_000);

  it('the embedded database is named by its directory; localhost and 127.0.0.1 name the same server', () => {
    expect(killTargetOf({ DATA_DIR: '/srv/ctb/data' })).toBe('embedded PGlite in /srv/ctb/data/pglite');
    expect(killTargetOf({ DATABASE_URL: 'postgres://u:p@localhost/ctb', DATA_DIR: 'x' })).toBe(killTargetOf({ DATABASE_URL: 'postgresql://other@127.0.0.1:5432/ctb', DATA_DIR: 'y' }));
    expect(killTargetOf({ DATABASE_URL: 'postgres://u:p@db.internal:6432/ctb', DATA_DIR: 'x' })).toBe('PostgreSQL db.internal:6432/ctb');
    // One server however its name is written: case, the root's dot, an empty host (the driver's localhost).
    expect(killTargetOf({ DATABASE_URL: 'postgres://u:p@LOCALHOST:5432/ctb', DATA_DIR: 'x' })).toBe('PostgreSQL 127.0.0.1:5432/ctb');
    expect(killTargetOf({ DATABASE_URL: 'postgres://u:p@localhost.:5432/ctb', DATA_DIR: 'x' })).toBe('PostgreSQL 127.0.0.1:5432/ctb');
    expect(killTargetOf({ DATABASE_URL: 'postgres:///ctb', DATA_DIR: 'x' })).toBe('PostgreSQL 127.0.0.1:5432/ctb');
    expect(killTargetOf({ DATABASE_URL: 'postgres://u:p@DB.Internal.:6432/ctb', DATA_DIR: 'x' })).toBe('PostgreSQL db.internal:6432/ctb');
    // A URL the driver refuses is not taken apart: with an unencoded / its "database name" is the password.
    expect(killTargetOf({ DATABASE_URL: 'postgres://u:/s3cret@db.internal/ctb', DATA_DIR: 'x' })).toBe('PostgreSQL (DATABASE_URL unreadable)');
  });

  it('what DATABASE_URL leaves out is named as the driver fills it in: PGHOST, PGPORT, PGDATABASE, then the user', () => {
    const env = (postgresEnv: Record<string, string>) => readEnv({ DATABASE_URL: 'postgres:///', DATA_DIR: 'x', ...postgresEnv });
    expect(killTargetOf(readEnv({ DATABASE_URL: 'postgres:///ctb', DATA_DIR: 'x', PGHOST: 'DB.internal', PGPORT: '6432' })))
      .toBe(killTargetOf({ DATABASE_URL: 'postgres://u:p@db.internal:6432/ctb', DATA_DIR: 'y' }));
    expect(killTargetOf(env({ PGHOST: 'db.internal', PGDATABASE: 'ctb' }))).toBe('PostgreSQL db.internal:5432/ctb');
    expect(killTargetOf(env({ PGUSER: 'ops' }))).toBe('PostgreSQL 127.0.0.1:5432/ops');
    expect(killTargetOf({ DATABASE_URL: 'postgres://ops@127.0.0.1', DATA_DIR: 'x', postgresEnv: { PGDATABASE: 'ctb' } })).toBe('PostgreSQL 127.0.0.1:5432/ctb');
    // What the URL says wins over the variables, as in the driver.
    expect(killTargetOf(readEnv({ DATABASE_URL: 'postgres://u@db.internal:6432/ctb', DATA_DIR: 'x', PGHOST: 'other', PGPORT: '7000', PGDATABASE: 'x' })))
      .toBe('PostgreSQL db.internal:6432/ctb');
    // ::1 is localhost too; a port written with a leading zero is the same port.
    expect(killTargetOf({ DATABASE_URL: 'postgres://u@[::1]:05432/ctb', DATA_DIR: 'x' })).toBe('PostgreSQL 127.0.0.1:5432/ctb');
  });

  it('PG* variables set in .env are not the driver\'s (it reads the process environment only): they name nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctb-dotenv-'));
    writeFileSync(join(dir, '.env'), 'PGHOST=elsewhere.internal\nPGPORT=7000\n');
    const config = loadConfig({ DATABASE_URL: 'postgres:///ctb', DATA_DIR: dir }, join(dir, '.env'));
    expect(killTargetOf(config)).toBe('PostgreSQL 127.0.0.1:5432/ctb');
  });

  it('an embedded database reached through a symbolic link to its DATA_DIR is the same one, also as saved by an older version', () => {
    const real = mkdtempSync(join(tmpdir(), 'ctb-real-'));
    const link = join(mkdtempSync(join(tmpdir(), 'ctb-link-')), 'data');
    symlinkSync(real, link);
    expect(killTargetOf({ DATA_DIR: link })).toBe(killTargetOf({ DATA_DIR: real }));
    expect(killTargetOf({ DATA_DIR: `${link}/` })).toBe(`embedded PGlite in ${realpathSync(real)}/pglite`);
    // Saved before targets were resolved through links: the path as written.
    expect(sameKillTarget(`embedded PGlite in ${link}/pglite`, killTargetOf({ DATA_DIR: real }))).toBe(true);
    expect(sameKillTarget(`embedded PGlite in ${real}-other/pglite`, killTargetOf({ DATA_DIR: real }))).toBe(false);
  });
});

describe('replaying saved kills', () => {
  it('a kill aimed at another database is not written here: left in the file, said once, and this bot stays halted and cancels on Kraken', async () => {
    const { t, stop } = await botOnTestDatabase();
    t.kraken.open.push(openOrder('K1'));
    const elsewhere = 'PostgreSQL 127.0.0.1:1/x';
    await addPendingKill(t.dataDir, saved('aimed-elsewhere', elsewhere));
    const errors: string[] = [];
    vi.spyOn(t.ctx.logger, 'error').mockImplementation(((...args: unknown[]) => void errors.push(String(args.find((a) => typeof a === 'string') ?? ''))) as never);

    const replay = await replayPendingKills(t.ctx);
    expect(replay).toMatchObject({ written: [], remaining: 1, elsewhere: [{ killId: 'aimed-elsewhere', target: elsewhere }] });
    expect(replay.error).toBeUndefined();
    expect(readPendingKills(t.dataDir).map((k) => k.killId)).toEqual(['aimed-elsewhere']);
    expect(await kill.db().db.select().from(incidents)).toEqual([]);
    expect((await getBotState(kill.db().db)).halted).toBe(false);
    // A halt is never ignored: this process is halted, and it cancelled on Kraken for the kill.
    expect(isHaltLatched(t.ctx)).toBe(true);
    expect(t.kraken.calls).toContain('cancelAllOrders');
    // Saved with no server identity (the killing process never learned it): the name alone decided, and the line says so.
    expect(errors.filter((e) => e.includes(`aimed at ${elsewhere} (identity unknown: decided by name; the killing process never learned its server identity), not at this process's database (PostgreSQL 127.0.0.1:`))).toHaveLength(1);
    // The next poll says nothing new.
    await replayPendingKills(t.ctx);
    expect(errors.filter((e) => e.includes(`aimed at ${elsewhere}`))).toHaveLength(1);
    // `ctb self-heal` and a resume here name the database the saved kill waits for.
    const heal = await selfHeal(t.ctx, { attempts: 1, baseDelayMs: 1, sleep: async () => {} });
    expect(heal.actions.find((a) => a.check === 'pending_kill')).toMatchObject({
      status: 'failed', detail: `0 saved kill(s) written to the database; 1 aimed at another database (${elsewhere}) left for a process on it; the bot stays halted (ctb kill saved lists them; one whose database will never answer again is dropped with --discard)` });
    await expect(resumeAfterHalt(t.ctx, { id: 'U0OPERATOR', source: 'slack' })).rejects.toMatchObject({ hint: expect.stringContaining('ctb kill saved --discard <kill id> --reason "…" drops one') });
    await expect(resumeAfterHalt(t.ctx, { id: 'U0OPERATOR', source: 'slack' })).rejects.toThrow(`A kill is still waiting to be written to the database (${elsewhere}); the bot stays halted.`);
    expect(readPendingKills(t.dataDir).map((k) => k.killId)).toEqual(['aimed-elsewhere']);
    stop();
  });

  it('a kill aimed at this database, and one saved by an older version (no database named), are written; one aimed elsewhere stays', async () => {
    const { t, stop } = await botOnTestDatabase();
    await addPendingKill(t.dataDir, saved('aimed-here', killTargetOf(t.ctx.config)));
    await addPendingKill(t.dataDir, saved('older-version'));
    await addPendingKill(t.dataDir, saved('aimed-elsewhere', 'embedded PGlite in /somewhere/else/pglite'));
    const replay = await replayPendingKills(t.ctx);
    expect(replay).toMatchObject({ written: ['aimed-here', 'older-version'], remaining: 1 });
    expect(readPendingKills(t.dataDir).map((k) => k.killId)).toEqual(['aimed-elsewhere']);
    expect(existsSync(pendingKillPath(t.dataDir))).toBe(true);
    expect((await getBotState(kill.db().db)).halted).toBe(true);
    stop();
  });

  it('a kill made through another address of the same server (a proxy) records that server, and the bot on it writes the kill', async () => {
    const direct = new URL(kill.db().url);
    const proxy = kill.track(await startStallProxy(direct.hostname, Number(direct.port || 5432)));
    const proxied = proxy.urlFor(kill.db().url);
    const shell = await killTestContext({ database: kill.track(recordingDatabase(proxied, [])), env: { DATABASE_URL: proxied, KILL_DB_TIMEOUT: '1s' } });
    kill.track(shell.ctx);
    const identity = await readServerIdentity(kill.db().db);
    // This process learned its server while the database answered: its halt watcher asks at its first poll.
    const watcher = await startHaltWatcher(shell.ctx, { timer: false });
    await vi.waitFor(() => expect(knownServerIdentity(shell.ctx)).toEqual(identity));
    await watcher.stop();
    proxy.set('down');
    const result = await executeKill(shell.ctx, { actor: { id: 'U0OPERATOR', source: 'slack' }, reason: 'through the proxy', trigger: 'manual' });
    expect(result.state).toBe('pending');
    const [entry] = readPendingKills(shell.dataDir);
    expect(entry).toMatchObject({ target: `PostgreSQL 127.0.0.1:${proxy.port}/${kill.db().name}`, server: identity });

    const { t, stop } = await botOnTestDatabase(shell.dataDir);
    expect(killTargetOf(t.ctx.config)).not.toBe(entry!.target);
    const replay = await replayPendingKills(t.ctx);
    expect(replay).toMatchObject({ written: [entry!.killId], remaining: 0 });
    expect(replay.elsewhere).toBeUndefined();
    expect(await kill.db().db.select().from(incidents)).toEqual([expect.objectContaining({ killId: entry!.killId, reason: 'through the proxy' })]);
    stop();
  });

  it('a kill that recorded another server is not written here even under this database\'s name: both servers are named', async () => {
    const { t, stop } = await botOnTestDatabase();
    const identity = await readServerIdentity(kill.db().db);
    const other = { systemIdentifier: '7000000000000000001', database: identity.database };
    await addPendingKill(t.dataDir, { ...saved('other-server', killTargetOf(t.ctx.config)), server: other });
    const errors: string[] = [];
    vi.spyOn(t.ctx.logger, 'error').mockImplementation(((...args: unknown[]) => void errors.push(String(args.find((a) => typeof a === 'string') ?? ''))) as never);
    const replay = await replayPendingKills(t.ctx);
    expect(replay).toMatchObject({ written: [], remaining: 1, elsewhere: [{ killId: 'other-server' }] });
    expect(await kill.db().db.select().from(incidents)).toEqual([]);
    expect(isHaltLatched(t.ctx)).toBe(true);
    expect(errors.filter((e) => e.includes(`(server 7000000000000000001, database ${identity.database}), not at this process's database`)
      && e.includes(`server ${identity.systemIdentifier}, database ${identity.database})`))).toHaveLength(1);
    stop();
  });

  it('replayed by two callers at once (the halt watcher poll and the self-heal): written once, announced once', async () => {
    const { t, stop } = await botOnTestDatabase();
    await addPendingKill(t.dataDir, saved('replayed-twice', killTargetOf(t.ctx.config)));
    const [first, second] = await Promise.all([replayPendingKills(t.ctx), replayPendingKills(t.ctx)]);
    for (const replay of [first, second]) expect(replay).toMatchObject({ written: ['replayed-twice'], remaining: 0 });
    expect(t.alerts.filter((a) => a.source === 'kill' && a.title.startsWith('A kill saved in DATA_DIR'))).toHaveLength(1);
    expect(await kill.db().db.select().from(incidents)).toHaveLength(1);
    expect(readPendingKills(t.dataDir)).toEqual([]);
    stop();
  });
});
