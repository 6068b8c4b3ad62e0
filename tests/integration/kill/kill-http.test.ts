// POST /kill on the running bot's HTTP server: bearer token (constant-time compare), refused when
// the token is unset, bad bodies named, idempotent with Idempotency-Key, and it cancels on Kraken
// directly even when the engine loop is stuck holding the order lock.
import { afterEach, describe, expect, it } from 'vitest';
import { startBot, type RunningBot } from '../../../src/app/runtime.js';
import { testConfig } from '../../../src/config/env.js';
import { incidents } from '../../../src/db/schema/index.js';
import { bearerMatches } from '../../../src/http/kill-route.js';
import { silentLogger } from '../../../src/logger.js';
import { getBotState } from '../../../src/services/bot-state.js';
import { killFeature } from '../../../src/app/features/kill.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { startFakeKraken, type FakeKraken } from '../../support/fake-kraken.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TOKEN = 'kill-token-0123456789abcdef-XYZ';
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!().catch(() => {});
});

async function start(env: Record<string, string | undefined> = {}): Promise<{ bot: RunningBot; kraken: FakeKraken; database: TestDatabase; url: string }> {
  const database = await createPostgresTestDb();
  cleanup.push(() => database.close());
  const kraken = await startFakeKraken({ apiKey: TEST_API_KEY, secret: TEST_API_SECRET });
  cleanup.push(() => kraken.close());
  kraken.addOrder({ txid: 'OPEN-1', pair: 'XBTUSD', type: 'sell', ordertype: 'limit', price: '90000', vol: '0.01', vol_exec: '0', status: 'open', opentm: 1 });
  const config = testConfig({
    IS_LIVE: 'true', KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url, KRAKEN_RATE_LIMIT: 'false',
    KILL_HTTP_TOKEN: TOKEN, DATA_DIR: mkdtempSync(join(tmpdir(), 'ctb-kill-http-')), HOST: '127.0.0.1', ...env,
  });
  const bot = await startBot({ config, role: 'web', feed: 'replay', port: 0, logger: silentLogger(), database, features: [killFeature] });
  cleanup.push(() => bot.stop());
  return { bot, kraken, database, url: `http://127.0.0.1:${bot.port}/kill` };
}

const post = (url: string, opts: { token?: string; body?: string; key?: string } = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...(opts.key ? { 'idempotency-key': opts.key } : {}) },
    ...(opts.body !== undefined ? { body: opts.body } : {}),
  });

describe('POST /kill', () => {
  it('with the token: cancels on Kraken, halts in paper, opens the incident, answers the result', async () => {
    const t = await start();
    const res = await post(t.url, { token: TOKEN, body: JSON.stringify({ reason: 'scripted stop' }) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { ok: boolean; state: string; incidentId: number; cancel: { venues: Array<{ venue: string; canceled: number; confirmed: boolean }> } };
    expect(body).toMatchObject({ ok: true, state: 'written', alreadyKilled: false });
    expect(body.cancel.venues.find((v) => v.venue === 'kraken')).toMatchObject({ canceled: 1, confirmed: true });
    expect(t.kraken.callsTo('CancelAll')).toHaveLength(2); // at once, and once more after the halt is written
    expect(await getBotState(t.database.db)).toMatchObject({ halted: true, mode: 'paper', haltedBy: 'http:kill', haltedReason: 'scripted stop' });
  });

  it('refuses a missing or wrong token (401) and changes nothing', async () => {
    const t = await start();
    for (const token of [undefined, 'wrong-token-0123456789abcdef-XYZ', `${TOKEN}x`, TOKEN.slice(0, -1)]) {
      const res = await post(t.url, token === undefined ? {} : { token });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await res.text()).not.toContain(TOKEN);
    }
    expect(t.kraken.orderChangingCalls()).toEqual([]);
    expect((await getBotState(t.database.db)).halted).toBe(false);
  });

  it('is refused (403) when KILL_HTTP_TOKEN is unset, whatever is sent', async () => {
    const t = await start({ KILL_HTTP_TOKEN: undefined });
    const res = await post(t.url, { token: TOKEN });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: string }).error).toMatch(/KILL_HTTP_TOKEN is not set/);
    expect(t.kraken.orderChangingCalls()).toEqual([]);
  });

  it('names a bad body and does nothing', async () => {
    const t = await start();
    const notJson = await post(t.url, { token: TOKEN, body: 'reason=stop' });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: string }).error).toMatch(/not a JSON object; expected \{"reason"/);
    const badArgs = await post(t.url, { token: TOKEN, body: JSON.stringify({ reason: 'x'.repeat(600) }) });
    expect(badArgs.status).toBe(400);
    expect(((await badArgs.json()) as { error: string }).error).toMatch(/at most 500 characters/);
    expect(t.kraken.orderChangingCalls()).toEqual([]);
  });

  it('is idempotent: the same Idempotency-Key joins the same kill; another says already killed', async () => {
    const t = await start();
    const first = (await (await post(t.url, { token: TOKEN, key: 'req-1' })).json()) as { killId: string; incidentId: number };
    const retry = (await (await post(t.url, { token: TOKEN, key: 'req-1' })).json()) as { killId: string; incidentId: number; alreadyKilled: boolean };
    expect(retry.killId).toBe(first.killId);
    expect(retry).toMatchObject({ incidentId: first.incidentId, alreadyKilled: true });
    const other = (await (await post(t.url, { token: TOKEN })).json()) as { alreadyKilled: boolean };
    expect(other.alreadyKilled).toBe(true);
    expect(await t.database.db.select().from(incidents)).toHaveLength(1);
  });

  it("writes the halt for every process at once while Kraken's CancelAll is still hanging, then answers with Kraken's count", async () => {
    const t = await start();
    // Kraken holds CancelAll's answer 3 s: a halt seen before that was written without waiting for
    // it (the bound is Kraken's answer, not a guess at how fast a loaded machine writes a row).
    const KRAKEN_ANSWERS_AFTER = 3_000;
    t.kraken.setLatency('CancelAll', KRAKEN_ANSWERS_AFTER);
    const started = Date.now();
    const answer = post(t.url, { token: TOKEN, body: '{"reason":"kraken slow"}' });
    while (!(await getBotState(t.database.db)).halted && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 10));
    expect(Date.now() - started).toBeLessThan(KRAKEN_ANSWERS_AFTER);
    expect(t.kraken.callsTo('CancelAll')).toHaveLength(1);
    t.kraken.setLatency('CancelAll', 0);
    const res = await answer;
    expect(res.status).toBe(200);
    const body = (await res.json()) as { ok: boolean; cancel: { venues: Array<{ venue: string; canceled: number }> } };
    expect(body.ok).toBe(true);
    expect(body.cancel.venues.find((v) => v.venue === 'kraken')?.canceled).toBe(1);
  });
});

describe('bearerMatches', () => {
  it('accepts only the exact token after "Bearer "', () => {
    expect(bearerMatches(`Bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(bearerMatches(`bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(bearerMatches(TOKEN, TOKEN)).toBe(false);
    expect(bearerMatches('Bearer ', '')).toBe(false);
    expect(bearerMatches(undefined, TOKEN)).toBe(false);
    expect(bearerMatches(`Basic ${TOKEN}`, TOKEN)).toBe(false);
  });
});
