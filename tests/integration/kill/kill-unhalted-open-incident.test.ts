// `ctb kill` typed in a shell (a child process: node bin/ctb.js kill) against a database where an
// incident was left open on a bot that is not halted (it was trading): the kill halts it and says it
// halted it now, joining that open incident — never "already killed", which would say the bot was
// halted all along. The next kill, on the bot now halted, is the one already killed.
import { eq, sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { execute } from '../../../src/db/client.js';
import { alertGroups } from '../../../src/db/schema/index.js';
import { getBotState } from '../../../src/services/bot-state.js';
import { persistKill } from '../../../src/services/kill/persist-kill.js';
import { ctbInShell } from '../../support/ctb-shell.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';
import { liveKillWorld } from '../../support/kill-world.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!().catch(() => {});
});

describe('ctb kill on a bot not halted whose incident is still open', () => {
  it('halts it, says it halted it now and which open incident it joins, and only the next kill is "already killed"', async () => {
    const { database, kraken } = await liveKillWorld(cleanup, ['OPEN-1']);
    const earlier = await persistKill(database.db, { killId: 'earlier', at: new Date(Date.now() - 3_600_000), actor: 'cli:ops', trigger: 'manual', reason: 'earlier drill', cancelReport: {} });
    // The halt lifted since, the incident left open: the bot trades.
    await execute(database.db, sql`update bot_state set halted = false, halted_by = null, halted_reason = null, halted_at = null where id = 1`);
    const env = { DATABASE_URL: database.url, KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url };

    const run = await ctbInShell(['kill', '--reason', 'trading again'], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe(`KILLED — the bot was not halted: halted now, joining incident #${earlier.incident.id} (still open) — every open order cancelled.`);
    expect(run.stdout).not.toContain('Already killed');
    expect(await getBotState(database.db)).toMatchObject({ halted: true, mode: 'paper', haltedReason: 'trading again', haltedBy: expect.stringMatching(/^cli:/) });
    // A kill that halted a trading bot is news: its alert is raised, on the incident's group.
    expect(await database.db.select({ title: alertGroups.title }).from(alertGroups).where(eq(alertGroups.fingerprint, `kill:${earlier.incident.id}`)))
      .toEqual([{ title: expect.stringMatching(/^Kill switch: trading halted/) }]);

    const again = await ctbInShell(['kill', '--json'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ alreadyKilled: true, joinedIncident: true, incidentId: earlier.incident.id, state: 'written' });
  });

  it('on a bot halted since by reconciliation, says it took that halt over and joins the open incident, never "already killed"', async () => {
    const { database, kraken } = await liveKillWorld(cleanup, ['OPEN-1']);
    const earlier = await persistKill(database.db, { killId: 'earlier', at: new Date(Date.now() - 3_600_000), actor: 'cli:ops', trigger: 'manual', reason: 'earlier drill', cancelReport: {} });
    // The kill's halt lifted since, the incident left open; reconciliation halted the bot later (its pass would lift that halt).
    await execute(database.db, sql`update bot_state set halted = true, halted_by = 'system:reconciliation', halted_reason = 'reconciliation', halted_at = now() - interval '10 minutes' where id = 1`);
    const env = { DATABASE_URL: database.url, KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url };

    const run = await ctbInShell(['kill', '--reason', 'now'], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe(`KILLED — the bot was halted by system:reconciliation (reconciliation): this kill took that halt over (only a resume lifts it now), joining incident #${earlier.incident.id} (still open) — every open order cancelled.`);
    expect(run.stdout).not.toContain('Already killed');
    expect(await getBotState(database.db)).toMatchObject({ halted: true, mode: 'paper', haltedBy: expect.stringMatching(/^cli:/), haltedReason: expect.stringMatching(/^now \(already halted by system:reconciliation since .*: reconciliation\)$/) });
    // This kill made the halt one only a resume lifts: its alert is raised, on the incident's group.
    expect(await database.db.select({ title: alertGroups.title }).from(alertGroups).where(eq(alertGroups.fingerprint, `kill:${earlier.incident.id}`)))
      .toEqual([{ title: expect.stringMatching(/^Kill switch: trading halted/) }]);

    // The halt is now a kill's of that incident: the next kill is the one already killed.
    const again = await ctbInShell(['kill', '--json'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ alreadyKilled: true, joinedIncident: true, incidentId: earlier.incident.id, state: 'written' });
    expect(JSON.parse(again.stdout).haltTakenOver).toBeUndefined();
  });
});
