// `ctb mode status`, run as an operator's shell would (a child process), of an engine lease whose last
// renewal is older than twice its renewal interval but not yet stale — a bot killed with kill -9 seconds ago:
// it says when the lease was last renewed, that its holder may have stopped and from when a standby may
// take it over; never that the engine trades now. The holder's ENGINE_LEASE_TTL, in its row, is 10m
// (renewed every 200 s), so the lease stays overdue and not stale however long the child takes to
// start; the shell runs with the default 15 s, which judges nothing while the row carries the holder's.
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { execute } from '../../../src/db/client.js';
import { ENGINE_TRADING_NOW } from '../../../src/domain/engine-waiting.js';
import { readBootId, recordedScope } from '../../../src/services/engine-lease/holder-gone.js';
import { ctbInShell } from '../../support/ctb-shell.js';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { usePostgresTestDb } from '../../support/db.js';

const database = usePostgresTestDb({ truncate: ['bot_state', 'engine_lease'] });

async function leaseRenewedAgo(seconds: number, ttlMs: number | null = 600_000): Promise<string> {
  const [row] = await execute<{ heartbeat: string }>(database().db, sql`insert into engine_lease (id, holder_id, host, pid, role, feed, armed, has_kraken_keys, acquired_at, heartbeat_at, ttl_ms)
    values (1, 'vm:4242:abc', 'vm', 4242, 'all', 'replay', false, false, now() - interval '1 hour', now() - make_interval(secs => ${seconds}), ${ttlMs})
    returning to_char(heartbeat_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') as heartbeat`);
  return row!.heartbeat;
}

describe('`ctb mode status` of a lease whose renewal is overdue (its holder killed moments ago)', () => {
  it('says when it was last renewed, that its holder may have stopped, and when a standby may take over — not "trading now"', async () => {
    const heartbeat = await leaseRenewedAgo(450);
    const env = { DATABASE_URL: database().url };
    const [text, json] = await Promise.all([ctbInShell(['mode', 'status'], env), ctbInShell(['mode', 'status', '--json'], env)]);
    expect(text.code, text.stderr).toBe(0);
    const engine = /^engine: .*$/m.exec(text.stdout)?.[0] ?? '';
    expect(engine, text.stdout).toContain(`last renewed its lease at ${heartbeat}`);
    expect(engine).toMatch(/renewed every 200s while it runs: its holder may have stopped \(killed or hung\); a standby may take the lease over from \S+, when it goes stale/);
    expect(text.stdout).not.toContain(ENGINE_TRADING_NOW);
    expect(JSON.parse(json.stdout)).toMatchObject({ engine: { state: 'running', renewalOverdue: true, renewEveryMs: 200_000 } });
  }, 60_000);

  it('a lease renewed within its interval still says what the engine does', async () => {
    await leaseRenewedAgo(1);
    const text = await ctbInShell(['mode', 'status'], { DATABASE_URL: database().url });
    expect(text.stdout).toMatch(/^engine: vm:4242 .*heartbeat \d+s ago; engine trading now$/m);
    expect(text.stdout).not.toContain('may have stopped');
  }, 60_000);

  it("a row without its holder's TTL (an older binary) is judged by the reading process's, and says so", async () => {
    await leaseRenewedAgo(450, null);
    const text = await ctbInShell(['mode', 'status'], { DATABASE_URL: database().url, ENGINE_LEASE_TTL: '10m' });
    expect(text.stdout).toMatch(/^engine: vm:4242 .*renewed every 200s while it runs \(by the reading process's ENGINE_LEASE_TTL: the lease row does not carry its holder's\): its holder may have stopped/m);
  }, 60_000);

  it.runIf(readBootId() !== null)("a holder on this host whose process is gone: says so, and that a standby here takes over at once", async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid!; // exited and reaped: no process has this pid now
    const holder = `${hostname()}:${dead}:abc`;
    await execute(database().db, sql`insert into engine_lease (id, holder_id, host, pid, boot_id, role, feed, armed, has_kraken_keys, acquired_at, heartbeat_at, ttl_ms)
      values (1, ${holder}, ${hostname()}, ${dead}, ${recordedScope(readBootId(), holder)}, 'all', 'replay', false, false, now(), now(), 600000)`);
    const text = await ctbInShell(['mode', 'status'], { DATABASE_URL: database().url });
    expect(text.stdout).toMatch(new RegExp(`^engine: .*its holder's process \\(pid ${dead} on this host\\) is gone; a standby on this host takes the lease over at once$`, 'm'));
    expect(text.stdout).not.toContain('may take the lease over from');
    expect(text.stdout).not.toContain(ENGINE_TRADING_NOW);
  }, 60_000);
});
