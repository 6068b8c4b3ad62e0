// Slack's /kill to a `ctb start` (a child process, holding the Kraken key, Slack over HTTP) whose start
// waits for its database during the migrations: Slack starts only after the database, so POST
// /slack/events answered 503 "starting" — Slack shows the operator a failure and nothing was
// cancelled. Now a signed /kill by an operator is acked at once, cancels on Kraken (the fake Kraken,
// with open orders of this bot), saves the halt in DATA_DIR, and answers through its response_url
// in the words POST /kill answers with; a bad signature is refused and cancels nothing, someone not
// in SLACK_OPERATORS is refused as the running /kill refuses them, and /stats is answered "starting".
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FakeKraken } from '../../support/fake-kraken.js';
import { startFakeSlack } from '../../support/fake-slack.js';
import { botInMigrationWait, migrationWaitDatabases } from '../../support/migration-wait-bot.js';
import { signedHeaders } from '../../support/slack-signing.js';

const SIGNING_SECRET = 'slack-signing-secret-while-migrating-0123';
const BOT_TOKEN = 'xoxb-3333-4444-whilemigratingtoken';
const OPERATOR = 'UOPERATOR1';
const READER = 'UREADER01';

const openAtKraken = (kraken: FakeKraken) => [...kraken.state.orders.values()].filter((o) => o.status === 'open' || o.status === 'pending');

/** Slack's response_url: keeps what is posted to each path, and tells a waiter when one arrives. */
async function startResponseUrls(): Promise<{ url: string; posted: Map<string, Array<Record<string, unknown>>>; next(path: string): Promise<Record<string, unknown>>; close(): Promise<void> }> {
  const posted = new Map<string, Array<Record<string, unknown>>>();
  const waiters = new Map<string, Array<(body: Record<string, unknown>) => void>>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      const path = req.url ?? '/';
      posted.set(path, [...(posted.get(path) ?? []), body]);
      for (const resolve of waiters.get(path) ?? []) resolve(body);
      waiters.delete(path);
      res.writeHead(200);
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    posted,
    next: (path) => new Promise((resolve) => waiters.set(path, [...(waiters.get(path) ?? []), resolve])),
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

interface Saved {
  killId: string;
  actor: string;
  actorSource: string;
  reason: string;
}

describe('Slack /kill while `ctb start` waits for its database during the migrations', () => {
  const databases = migrationWaitDatabases();
  afterAll(() => databases.dropDatabases());

  it('takes a signed /kill from an operator: cancels on Kraken, saves the halt, answers truthfully; refuses a bad signature and a non-operator; answers /stats "starting"', { timeout: 240_000 }, async () => {
    const target = await databases.make('slackmig');
    const slack = await startFakeSlack();
    const responses = await startResponseUrls();
    const held = await botInMigrationWait(target, 'ctb-slack-kill-migrating-', {
      SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.url, SLACK_OPERATORS: OPERATOR,
      KILL_CONFIRM_WAIT: '1s', KILL_DB_TIMEOUT: '2s',
    }).catch(async (err: unknown) => {
      await slack.close();
      await responses.close();
      throw err;
    });
    const { bot: b, kraken, dir } = held;
    const pendingFile = join(dir, 'data', 'kill-pending.json');
    const saved = (): Saved[] => existsSync(pendingFile) ? (JSON.parse(readFileSync(pendingFile, 'utf8')) as { kills: Saved[] }).kills : [];
    const events = `http://127.0.0.1:${held.port}/slack/events`;
    try {
      expect(b.output().split('\n').find((l) => l.includes('"event":"start_database_lost"'))).toContain("POST /kill answers meanwhile, and Slack's /kill over HTTP: it cancels");

      const slash = async (command: string, user: string, text: string, trigger: string, secret = SIGNING_SECRET) => {
        const raw = new URLSearchParams({
          command, text, user_id: user, user_name: user.toLowerCase(), channel_id: 'COPS', team_id: 'T1', trigger_id: trigger,
          response_url: `${responses.url}/${trigger}`,
        }).toString();
        const r = await fetch(events, {
          method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...signedHeaders(secret, raw) }, body: raw, signal: AbortSignal.timeout(30_000),
        });
        const body = await r.text();
        return { status: r.status, json: body ? (JSON.parse(body) as { response_type?: string; text?: string }) : undefined };
      };

      // Signed with another secret: refused as when running, and nothing is sent to Kraken for it.
      const forged = await slash('/kill', OPERATOR, 'forged', 'T-FORGED', 'not-the-signing-secret-at-all-00000');
      expect(forged.status).toBe(401);
      // Someone not in SLACK_OPERATORS: refused as the running /kill refuses them.
      const reader = await slash('/kill', READER, 'not mine to do', 'T-READER');
      expect(reader.status).toBe(200);
      expect(reader.json).toMatchObject({ response_type: 'ephemeral' });
      expect(reader.json?.text).toContain('You are not allowed to run `/kill [reason]`: it needs the operator role. Nothing was done.');
      expect(kraken.orderChangingCalls()).toEqual([]);
      expect(saved()).toEqual([]);

      // Any other command: told the bot is starting, and why, instead of silence.
      const stats = await slash('/stats', OPERATOR, '', 'T-STATS');
      expect(stats.status).toBe(200);
      expect(stats.json).toMatchObject({ response_type: 'ephemeral' });
      expect(stats.json?.text).toMatch(/^starting: the database is not reachable yet \(waiting for it since .*, for the migrations: .*\)\./);
      expect(stats.json?.text).toContain('`/kill` is taken meanwhile');

      // The operator's /kill: acked at once (its answer follows on response_url), cancelled on Kraken, saved.
      const answered = responses.next('/T-KILL');
      const ack = await slash('/kill', OPERATOR, 'drill: database cut during the migrations', 'T-KILL');
      expect(ack.status).toBe(200);
      expect(ack.json?.text).toMatch(/^Kill received while the bot starts \(its database is not reachable yet\): taken without its database — cancelling on Kraken/);
      const answer = (await answered) as { response_type: string; text: string };
      expect(answer.response_type).toBe('ephemeral');
      // POST /kill's words during the wait: what Kraken confirmed, paper not reached, the halt saved but not in the database.
      expect(answer.text).toMatch(/^Kill taken while the bot starts \(its database is not reachable yet\): Kraken confirmed clear; the halt is saved in DATA_DIR, not yet in the database\. Kraken: 2 cancelled, none open \(confirmed\)\. Paper: NOT cancelled — paper orders are kept in the database/);
      expect(answer.text).toContain(`Halt: saved in DATA_DIR (${pendingFile}), NOT yet in the database`);
      expect(openAtKraken(kraken)).toEqual([]);
      expect(kraken.callsTo('CancelAll').length).toBeGreaterThan(0);
      expect(kraken.callsTo('AddOrder')).toEqual([]);
      expect(saved()).toEqual([expect.objectContaining({
        killId: 'req:slack:command:T-KILL', actor: OPERATOR, actorSource: 'slack', reason: 'drill: database cut during the migrations',
      })]);
      // Nothing answered the refused ones through their response_url, and the start still waits.
      expect([...responses.posted.keys()]).toEqual(['/T-KILL']);
      expect(b.proc.exitCode).toBeNull();
      expect(b.output()).not.toMatch(/"banner":\{/);
      expect(b.output()).not.toContain(BOT_TOKEN);
      expect(b.output()).not.toMatch(/"unhandled":true|^error:/m);
    } finally {
      await held.close();
      await slack.close();
      await responses.close();
    }
  });
});
