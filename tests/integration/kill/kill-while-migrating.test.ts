// POST /kill to a `ctb start` (a child process, holding the Kraken key, not armed) whose start waits
// for its database during the migrations: it used to answer 503 "starting", cancelling nothing. A kill
// needs no database to cancel at Kraken: it cancels there (the fake Kraken, with open orders of this
// bot), saves the halt in DATA_DIR, and answers what happened — what Kraken cancelled, or that it
// could not confirm it when Kraken fails, and that the halt is saved, not yet in the database. Once
// the database answers, the migrations are applied and the saved kills written: the bot is halted.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../support/bot-process.js';
import type { FakeKraken } from '../../support/fake-kraken.js';
import { botInMigrationWait, migrationWaitDatabases, seen } from '../../support/migration-wait-bot.js';

const TOKEN = 'kill-token-0123456789abcdef-MIG';

const openAtKraken = (kraken: FakeKraken) => [...kraken.state.orders.values()].filter((o) => o.status === 'open' || o.status === 'pending');

interface StartingKill {
  ok: boolean;
  killId: string;
  starting: boolean;
  state: string;
  krakenAccess: string;
  followUpSaved?: boolean;
  pendingFile?: string;
  cancel: { venues: Array<{ venue: string; canceled: number | null; confirmed: boolean; survivors: unknown[] }>; allConfirmed: boolean };
  message: string;
}

describe('POST /kill while `ctb start` waits for its database during the migrations', () => {
  const databases = migrationWaitDatabases();
  afterAll(() => databases.dropDatabases());

  it('cancels on Kraken and says so, says what it could not confirm when Kraken fails, and the saved kills are written once the database answers', { timeout: 240_000 }, async () => {
    const target = await databases.make('killmig');
    const held = await botInMigrationWait(target, 'ctb-kill-migrating-', { KILL_HTTP_TOKEN: TOKEN, KILL_CONFIRM_WAIT: '1s', KILL_DB_TIMEOUT: '2s' });
    const { bot: b, direct, proxy, kraken, dir } = held;
    const pendingFile = join(dir, 'data', 'kill-pending.json');
    const saved = (): Array<{ killId: string; krakenFollowUp?: boolean }> => existsSync(pendingFile)
      ? (JSON.parse(readFileSync(pendingFile, 'utf8')) as { kills: Array<{ killId: string; krakenFollowUp?: boolean }> }).kills : [];
    const url = `http://127.0.0.1:${held.port}`;
    try {
      expect(b.output().split('\n').find((l) => l.includes('"event":"start_database_lost"'))).toContain('"part":"the migrations"');
      // No Slack configured: the wait promises POST /kill only.
      expect(b.output().split('\n').find((l) => l.includes('"event":"start_database_lost"'))).toContain('POST /kill answers meanwhile: it cancels on Kraken');
      const kill = async (reason: string, headers: Record<string, string> = {}) => {
        const r = await fetch(`${url}/kill`, {
          method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers }, body: JSON.stringify({ reason }),
          signal: AbortSignal.timeout(60_000),
        });
        return { status: r.status, body: (await r.json()) as StartingKill };
      };

      // Authenticated as always: a wrong token is refused, and nothing is sent to Kraken for it.
      const wrong = await fetch(`${url}/kill`, { method: 'POST', headers: { authorization: 'Bearer not-the-token-at-all-0000000' }, signal: AbortSignal.timeout(20_000) });
      expect(wrong.status).toBe(401);
      expect(kraken.orderChangingCalls()).toEqual([]);

      // Kraken fails every CancelAll: the answer says the orders may remain open, never that they are cancelled.
      kraken.failNext('CancelAll', 'EService:Unavailable', 1_000);
      const failed = await kill('drill: Kraken down during the migrations');
      expect(failed.status).toBe(200);
      expect(failed.body).toMatchObject({ ok: false, starting: true, state: 'pending', krakenAccess: 'direct', followUpSaved: true, pendingFile });
      const failedKraken = failed.body.cancel.venues.find((v) => v.venue === 'kraken')!;
      expect(failedKraken.confirmed).toBe(false);
      // Under load the last call may be a CancelAll that missed its deadline: then the open ones are not counted.
      expect(failed.body.message).toMatch(/^Kraken: (cancel failed|no cancel answered \(.*\)), (2 still open|zero open orders NOT CONFIRMED) \(.*\): orders may remain open on Kraken\. Paper: /);
      expect(failed.body.message).not.toMatch(/none open|\(confirmed\)/);
      expect(failed.body.message).toContain(`Halt: saved in DATA_DIR (${pendingFile}), NOT yet in the database`);
      expect(failed.body.message).toContain('With it the cancel on Kraken is handed on to the bot with the key, as a follow-up.');
      expect(openAtKraken(kraken)).toHaveLength(2);
      expect(saved()).toEqual([expect.objectContaining({ killId: failed.body.killId, krakenFollowUp: true })]);

      // Kraken answers again: the next kill cancels both orders and confirms none is left.
      kraken.simulator.faults.clear();
      const cancelsBefore = kraken.callsTo('CancelAll').length;
      const done = await kill('drill: database cut during the migrations', { 'idempotency-key': 'drill-mig-1' });
      expect(done.status).toBe(200);
      expect(done.body).toMatchObject({ ok: false, killId: 'req:http:drill-mig-1', starting: true, state: 'pending', krakenAccess: 'direct' });
      expect(done.body.followUpSaved).toBeUndefined();
      expect(done.body.cancel.venues.find((v) => v.venue === 'kraken')).toMatchObject({ confirmed: true, canceled: 2, survivors: [] });
      expect(done.body.message).toMatch(/^Kraken: 2 cancelled, none open \(confirmed\)\. Paper: NOT cancelled — paper orders are kept in the database/);
      expect(done.body.message).toContain('NOT yet in the database');
      expect(kraken.callsTo('CancelAll').length).toBeGreaterThan(cancelsBefore);
      expect(openAtKraken(kraken)).toEqual([]);
      expect(kraken.callsTo('AddOrder')).toEqual([]);
      expect(saved().map((k) => k.killId).sort()).toEqual([failed.body.killId, done.body.killId].sort());
      // Still waiting: nothing else serves yet, and the process is up.
      expect((await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(10_000) })).status).toBe(503);
      expect(b.proc.exitCode).toBeNull();
      expect(b.output()).not.toMatch(/"banner":\{/);

      // The database answers: the migrations are applied, the saved kills written, the bot halted.
      proxy.set('forward');
      await seen(b, /"event":"start_database_back"/, 90_000);
      await seen(b, /"banner":\{/, 90_000);
      await waitUntil(() => saved().length === 0, 60_000, () => b.output().slice(-3000));
      const [state] = await direct<Array<{ halted: boolean }>>`select halted from bot_state`;
      expect(state!.halted).toBe(true);
      const incidents = await direct<Array<{ kill_id: string }>>`select kill_id from incidents`;
      expect(incidents).toHaveLength(1);
      expect([failed.body.killId, done.body.killId]).toContain(incidents[0]!.kill_id);
      // The kill Kraken failed is handed on, as its answer said: a follow-up cancel for the bot with the key.
      expect(await direct`select id from engine_requests where kind = 'cancel_all' and requested_by = 'http:kill'`).toHaveLength(1);
      for (const id of [failed.body.killId, done.body.killId]) {
        expect(b.output().split('\n').filter((l) => l.includes(`"killId":"${id}"`) && l.includes('pending kill written to the database'))).toHaveLength(1);
      }
      expect(b.output()).not.toMatch(/"unhandled":true|^error:/m);
      expect(b.proc.exitCode).toBeNull();
    } finally {
      await held.close();
    }
  });
});
