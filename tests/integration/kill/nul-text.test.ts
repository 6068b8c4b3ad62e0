// Text PostgreSQL refuses (a NUL, a lone surrogate) never stops a write: a kill whose reason carries
// one — from POST /kill, Slack's /kill or the terminal — is halted in the database with the
// character replaced by U+FFFD, and every command keeps its command-trail entry.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startBot } from '../../../src/app/runtime.js';
import type { CliIo } from '../../../src/cli/io.js';
import { runCli } from '../../../src/cli/program.js';
import { testConfig } from '../../../src/config/env.js';
import { cleanJson, cleanText } from '../../../src/db/clean-text.js';
import { alertEvents, alertGroups, commandLog, incidents } from '../../../src/db/schema/index.js';
import { silentLogger } from '../../../src/logger.js';
import { getBotState } from '../../../src/services/bot-state.js';
import { killFeature } from '../../../src/app/features/kill.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { startSlackHarness, USERS } from '../../support/slack-harness.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!().catch(() => {});
});

async function freshDb(): Promise<TestDatabase> {
  const database = await createPostgresTestDb();
  cleanup.push(() => database.close());
  return database;
}

// No bot with the Kraken key runs here: the lease says so and the kill hands Kraken's cancel to nobody; the short KILL_HANDOFF_TIMEOUT bounds an unreadable lease.
const NO_BOT = { KILL_HANDOFF_TIMEOUT: '500ms' };
const REASON = 'drill\u0000x';
const STORED = 'drill\uFFFDx';

async function expectHaltWritten(database: TestDatabase, by: string): Promise<void> {
  expect(await getBotState(database.db)).toMatchObject({ halted: true, mode: 'paper', haltedReason: STORED, haltedBy: by });
  const [incident] = await database.db.select().from(incidents);
  expect(incident).toMatchObject({ reason: STORED, openedBy: by });
  const trail = await database.db.select().from(commandLog);
  expect(trail.find((e) => e.command === 'kill')).toMatchObject({ actor: by, allowed: true, result: expect.any(String) });
  expect(trail.find((e) => e.command === 'kill')!.args).toContain(STORED);
}

describe('cleanText / cleanJson', () => {
  it('replaces NUL and lone surrogates, keeps real pairs and everything else', () => {
    expect(cleanText('a\u0000b\ud800c\udc00d😀')).toBe('a\uFFFDb\uFFFDc\uFFFDd😀');
    expect(cleanJson({ 'k\u0000': ['v\u0000', 1, null, { deep: '\udfff' }] })).toEqual({ 'k\uFFFD': ['v\uFFFD', 1, null, { deep: '\uFFFD' }] });
  });
});

describe('a kill reason carrying a NUL', () => {
  it('POST /kill answers ok and the halt, the incident and the trail entry are all written', async () => {
    const database = await freshDb();
    const bot = await startBot({
      config: testConfig({ ...NO_BOT, KILL_HTTP_TOKEN: 'kill-token-0123456789abcdef-XYZ', DATA_DIR: mkdtempSync(join(tmpdir(), 'ctb-nul-')), HOST: '127.0.0.1' }),
      role: 'web', feed: 'replay', port: 0, logger: silentLogger(), database, features: [killFeature],
    });
    cleanup.push(() => bot.stop());
    const res = await fetch(`http://127.0.0.1:${bot.port}/kill`, {
      method: 'POST', headers: { authorization: 'Bearer kill-token-0123456789abcdef-XYZ', 'content-type': 'application/json' },
      body: JSON.stringify({ reason: REASON }),
    });
    expect(res.status).toBe(200);
    // ok depends on Kraken (no key here: handed to a bot that is not running); the halt does not.
    expect(await res.json()).toMatchObject({ state: 'written', alreadyKilled: false });
    await expectHaltWritten(database, 'http:kill');
  });

  it("Slack's /kill halts in the database and keeps its trail entry", async () => {
    const database = await freshDb();
    const h = await startSlackHarness({ database, features: [killFeature], env: NO_BOT });
    cleanup.push(() => h.close());
    expect((await h.slash('/kill', REASON, { user: USERS.operator })).status).toBe(200);
    await h.idle();
    await expectHaltWritten(database, USERS.operator);
    expect(h.responses().map((r) => String(r.text)).join('\n')).toMatch(/Killed/);
  });

  it('ctb kill halts in the database (the reason as the program receives it)', async () => {
    const database = await freshDb();
    const cwd = mkdtempSync(join(tmpdir(), 'ctb-nul-cli-'));
    let out = '';
    const io: CliIo = {
      env: { ...NO_BOT, LOG_LEVEL: 'error', LOG_DIR: join(cwd, 'logs'), DATABASE_URL: database.url, DATA_DIR: join(cwd, 'data') }, cwd,
      stdout: { write: (s: string) => void (out += s) }, stderr: { write: () => undefined },
    };
    await runCli(['kill', '--reason', REASON], io);
    expect(out).toMatch(/KILLED/);
    const user = (await database.db.select().from(commandLog)).find((e) => e.command === 'kill')!.actor;
    expect(user).toMatch(/^cli:/);
    await expectHaltWritten(database, user);
  });
});

describe('any other command text carrying a NUL', () => {
  it('keeps its command-trail entry, even when the text is refused as bad arguments', async () => {
    const database = await freshDb();
    const h = await startSlackHarness({ database });
    cleanup.push(() => h.close());
    await h.slash('/oncall', 'override <@UOPERATOR1> 2h\u0000\ud800', { user: USERS.operator });
    await h.idle();
    const trail = await h.commandLog();
    expect(trail.some((e) => e.args.includes('\uFFFD'))).toBe(true);
  });

  it('an alert whose title and details carry them is stored', async () => {
    const database = await freshDb();
    const h = await startSlackHarness({ database });
    cleanup.push(() => h.close());
    await h.ctx.alerts.raise({ source: 'exchange', severity: 'warning', title: 'odd\u0000reply', details: { body: 'x\u0000y', half: '\ud83d' } });
    const [group] = await database.db.select().from(alertGroups);
    expect(group?.title).toBe('odd\uFFFDreply');
    const [event] = await database.db.select().from(alertEvents);
    expect(event?.details).toEqual({ body: 'x\uFFFDy', half: '\uFFFD' });
  });
});
