// `ctb mode status --json`, run as an operator's shell would (a child process), says of a stale engine
// lease what the text says: its holder's own arming (a stale holder trades again if it wakes) and the
// mode unknown while that holder was armed with the database saying live — never `armed: false` beside
// "armed (IS_LIVE): yes, in the stale engine's process". The lease row is another host's engine's.
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { updateBotState } from '../../../src/services/bot-state.js';
import { testContext } from '../../support/app-context.js';
import { ctbInShell } from '../../support/ctb-shell.js';
import { usePostgresTestDb } from '../../support/db.js';

const database = usePostgresTestDb({ truncate: ['bot_state', 'engine_lease'] });

/** The lease a hung engine on worker-1 left: last renewed an hour ago (far past ENGINE_LEASE_TTL), on the database's clock. */
async function staleLease(armed: boolean): Promise<void> {
  await database().db.execute(sql`insert into engine_lease (id, holder_id, host, pid, role, feed, armed, has_kraken_keys, acquired_at, heartbeat_at)
    values (1, 'worker-1:4242:abc', 'worker-1', 4242, 'worker', 'kraken', ${armed}, true, now() - interval '2 hours', now() - interval '1 hour')`);
}

interface StatusJson { mode: string; storedMode: string; armed: boolean; engine: { state: string; armed: boolean; host: string; pid: number } }

async function modeStatus(): Promise<{ json: StatusJson; text: string }> {
  const env = { DATABASE_URL: database().url };
  const [json, text] = await Promise.all([ctbInShell(['mode', 'status', '--json'], env), ctbInShell(['mode', 'status'], env)]);
  expect(json.code, json.stderr).toBe(0);
  expect(text.code, text.stderr).toBe(0);
  return { json: JSON.parse(json.stdout) as StatusJson, text: text.stdout };
}

describe('`ctb mode status --json` of a stale engine lease, from another process', () => {
  it("gives the stale holder's own arming (yes, and the mode unknown; no, and paper), as the text does", async () => {
    const ctx = await testContext({ database: database() });
    await updateBotState(ctx.db, ctx.clock, { mode: 'live' });
    await staleLease(true);
    const { json, text } = await modeStatus();
    expect(text).toContain("armed (IS_LIVE): yes, in the stale engine's process");
    expect(text).toMatch(/^mode: UNKNOWN — /m);
    expect(json).toMatchObject({ mode: 'unknown', storedMode: 'live', armed: true, engine: { state: 'stale', armed: true, host: 'worker-1', pid: 4242 } });

    await database().db.execute(sql`update engine_lease set armed = false`);
    const unarmed = await modeStatus();
    expect(unarmed.text).toContain("armed (IS_LIVE): no, in the stale engine's process");
    expect(unarmed.json).toMatchObject({ mode: 'paper', storedMode: 'live', armed: false, engine: { state: 'stale', armed: false } });
  }, 60_000);
});
