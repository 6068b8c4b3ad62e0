// The live switch rehearsed with no Slack workspace, across processes as an operator runs it: the
// stand-in (`ctb simulate-slack`, a child), a bot (`ctb start`, a child) whose .env points SLACK_API_URL
// at it, and the people — `ctb simulate-slack command|react|messages` — in the bot's directory, reading
// the same .env: the first person's command a `ctb` process of its own, the others the same CLI run in
// this process. PostgreSQL and the bot's /healthz judge the outcome.
// A passing go-live audit is out of reach here (weeks of paper trades, a tagged release: the live soak,
// tests/soak/live-soak.test.ts, earns it and goes live through this same stand-in), so the live change request is the one step this file plays itself: it records the request and
// posts its message through the stand-in's Web API as the bot does; the reactions on it are then real
// Events API requests the bot verifies, counts and answers.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/program.js';
import { insertRequest, setRequestMessage } from '../../../src/db/queries/mode-change.js';
import { modeChangeEvents, modeChangeRequests, modeChangeVotes } from '../../../src/db/schema/index.js';
import { renderChangeRequest } from '../../../src/slack/views/mode-change.js';
import { startBotProcess, waitUntil, type BotProcess } from '../../support/bot-process.js';
import { recordingIo } from '../../support/cli-io.js';
import { ctbIn, type ShellRun } from '../../support/ctb-shell.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { freePort } from '../../support/free-port.js';
import { baseEnv } from '../engine-lease/one-engine-bots.js';

const SECRET = 'rehearsal-signing-secret-5f3a9c0e7b21d4';
const OPS = 'C0REHOPS1';
const REQUESTER = 'U0REHOPER';
const APPROVER_A = 'U0REHAPPA';
const APPROVER_B = 'U0REHAPPB';

let database: TestDatabase;
let dir: string;
let standIn: BotProcess;
let bot: BotProcess;
let apiUrl: string;
let botPort: number;
const outputs: string[] = [];

/** `ctb args` in the bot's directory, as the operator's second shell runs it: a process of its own. */
async function ctb(args: string[], env: Record<string, string> = {}): Promise<ShellRun> {
  const run = await ctbIn(dir, args, { LOG_LEVEL: 'warn', ...env });
  outputs.push(run.stdout, run.stderr);
  return run;
}

/**
 * `ctb args` run in this process in the bot's directory (reading its .env): the same command, for the
 * people after the first, whose own process is not what is checked — the bot and the stand-in they
 * talk to are processes of their own all the same.
 */
async function ctbHere(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = { ...recordingIo({ LOG_LEVEL: 'warn' }), cwd: dir };
  const code = await runCli(args, io);
  outputs.push(io.out(), io.err());
  return { code, stdout: io.out(), stderr: io.err() };
}

async function health(): Promise<{ mode: string }> {
  return (await (await fetch(`http://127.0.0.1:${botPort}/healthz`)).json()) as { mode: string };
}

beforeAll(async () => {
  database = await createPostgresTestDb();
  dir = mkdtempSync(join(tmpdir(), 'ctb-simslack-'));
  standIn = startBotProcess(['simulate-slack', '--port', '0'], { PATH: process.env.PATH ?? '', HOME: dir }, dir);
  await standIn.waitFor(/^SLACK_API_URL=\S+$/m, 30_000);
  apiUrl = /^SLACK_API_URL=(\S+)$/m.exec(standIn.output())![1]!;
  botPort = await freePort();
  writeFileSync(join(dir, '.env'), [
    `SLACK_API_URL=${apiUrl}`, 'SLACK_BOT_TOKEN=xoxb-rehearsal', `SLACK_SIGNING_SECRET=${SECRET}`,
    `SLACK_OPS_CHANNEL=${OPS}`, `SLACK_OPERATORS=${REQUESTER}`, `SLACK_APPROVERS=${REQUESTER},${APPROVER_A},${APPROVER_B}`,
    `DATABASE_URL=${database.url}`, `PORT=${botPort}`, '',
  ].join('\n'), { mode: 0o600 });
  bot = startBotProcess(['start'], baseEnv(dir, { PORT: String(botPort) }, { idle: true }), dir);
  await bot.waitFor(/Slack: listening on POST \/slack\/events/, 90_000);
  await bot.waitFor(/engine ready/, 90_000);
}, 180_000);

afterAll(async () => {
  bot?.kill('SIGTERM');
  standIn?.kill('SIGTERM');
  await Promise.all([bot?.exited, standIn?.exited]);
  await database?.close();
}, 60_000);

describe('ctb simulate-slack: the live switch rehearsed with no workspace', () => {
  it('says it is a stand-in, listens on 127.0.0.1 only, and the bot connected to it (auth.test) rather than Slack', () => {
    expect(standIn.output()).toMatch(/^Slack stand-in: .*It is not Slack: nothing posted here reaches any workspace\./m);
    expect(apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/$/);
    expect(bot.output()).toContain('Slack: connected as ctb in ctb rehearsal (Slack stand-in)');
  });

  it('/mode live typed as the operator reaches the bot signed, and its answer comes back through the stand-in', async () => {
    const run = await ctb(['simulate-slack', 'command', '--as', REQUESTER, '/mode live', '--wait', '60']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`${REQUESTER} typed /mode live in #${OPS}; the bot acknowledged it.`);
    // Not armed (no IS_LIVE): refused before any audit, and nothing recorded.
    expect(run.stdout).toContain(`#${OPS} reply to ${REQUESTER}'s command: [PAPER] This process is not armed for live trading: IS_LIVE is not true.`);
    expect(await database.db.select().from(modeChangeRequests)).toEqual([]);
    const listed = await ctbHere(['simulate-slack', 'messages']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('This process is not armed for live trading');
  }, 120_000);

  it('counts two distinct approvers\' reactions on the live request and not the requester\'s own; the switch still needs the go-live audit', async () => {
    // The request the bot would have opened after a passing audit: its row, and its message posted through the stand-in.
    const now = new Date();
    const expiresAt = new Date(now.getTime() + 30 * 60_000);
    const request = await insertRequest(database.db, {
      requester: REQUESTER, requesterSource: 'slack', fromMode: 'paper', toMode: 'live', status: 'requested', reason: 'rehearsal',
      createdAt: now, expiresAt, auditRunId: null, auditSummary: 'AUDIT PASSED (rehearsal)', criteria: [],
    });
    const message = renderChangeRequest({
      requestId: request.id, requester: REQUESTER, reason: 'rehearsal', fromMode: 'paper', toMode: 'live', audit: { passed: true, summary: 'AUDIT PASSED (rehearsal)', auditRunId: null },
      checks: [], approvers: [APPROVER_A, APPROVER_B], approvalsNeeded: 2, approvalEmoji: 'white_check_mark', rejectionEmoji: 'x', expiresAt,
    });
    const posted = (await (await fetch(`${apiUrl}chat.postMessage`, {
      method: 'POST', headers: { authorization: 'Bearer xoxb-rehearsal', 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify({ channel: OPS, ...message }),
    })).json()) as { ok: boolean; channel: string; ts: string };
    expect(posted.ok).toBe(true);
    await setRequestMessage(database.db, { id: request.id, channel: posted.channel, ts: posted.ts });

    const own = await ctbHere(['simulate-slack', 'react', '--as', REQUESTER, '--to', 'the live request']);
    expect(own.code).toBe(0);
    expect(own.stdout).toContain(`${REQUESTER} reacted :white_check_mark: to #${OPS} ${posted.ts}; the bot acknowledged it.`);
    // The bot's answer, waited for by the command and printed: only the requester sees it.
    expect(own.stdout).toContain(`#${OPS} only to ${REQUESTER}: [PAPER] Your reaction did not count: the requester never counts.`);
    const first = await ctbHere(['simulate-slack', 'react', '--as', APPROVER_A, '--to', posted.ts]);
    expect(first.stdout).toContain(`#${OPS} ${posted.ts}`);
    expect(first.stdout).toMatch(new RegExp(`\\(thread ${posted.ts.replace('.', '\\.')}\\): \\[PAPER\\] Approval 1 of 2: ${APPROVER_A}`));
    expect((await ctbHere(['simulate-slack', 'react', '--as', APPROVER_B, '--to', 'the live request'])).code).toBe(0);

    // Quorum closes the request: the switch is attempted, and the go-live audit run again at that moment
    // refuses it (this bot has no paper record, no Kraken key, no IS_LIVE): never made.
    await waitUntil(async () => {
      const [row] = await database.db.select().from(modeChangeRequests).where(eq(modeChangeRequests.id, request.id));
      return row!.status !== 'requested' && row!.status !== 'approved';
    }, 60_000, () => `request #${request.id} to be decided:\n${bot.output().slice(-3000)}`);
    const [after] = await database.db.select().from(modeChangeRequests).where(eq(modeChangeRequests.id, request.id));
    expect(after).toMatchObject({ status: 'failed', outcome: expect.stringMatching(/^the go-live audit failed at the switch: AUDIT FAILED/) });
    const votes = await database.db.select().from(modeChangeVotes).where(eq(modeChangeVotes.requestId, request.id)).orderBy(asc(modeChangeVotes.id));
    expect(votes.map((v) => [v.slackUser, v.kind, v.withdrawnAt])).toEqual([[APPROVER_A, 'approve', null], [APPROVER_B, 'approve', null]]);
    const events = await database.db.select().from(modeChangeEvents).where(eq(modeChangeEvents.requestId, request.id)).orderBy(asc(modeChangeEvents.id));
    expect(events.filter((e) => e.kind === 'vote_ignored').map((e) => [e.actor, e.details['reason']])).toEqual([[REQUESTER, 'the requester never counts']]);
    expect((await health()).mode).toBe('paper');
    // What the bot posted in the request's thread, as `messages --json` lists it. The failure is posted
    // after the request's row says failed (a CI run at load 17 read the thread in between): wait for it.
    type Listed = Array<{ kind: string; threadTs?: string; text: string }>;
    const inThread = async () => (JSON.parse((await ctbHere(['simulate-slack', 'messages', '--json'])).stdout) as Listed).filter((m) => m.threadTs === posted.ts);
    let thread: Listed = [];
    await waitUntil(async () => (thread = await inThread()).length >= 2, 30_000, () => `the failure in the request's thread: ${JSON.stringify(thread)}`);
    expect(thread.map((m) => m.text)).toEqual([
      `[PAPER] Approval 1 of 2: ${APPROVER_A}`,
      expect.stringMatching(new RegExp(`^\\[PAPER\\] Live change request #${request.id} failed: the go-live audit failed at the switch: AUDIT FAILED`)),
    ]);
  }, 180_000);

  it('refuses, exit 2 with what to do: a malformed member id, a secret the bot does not share, no bot listening, a stand-in not on this machine, a bot the stand-in never saw', async () => {
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [['command', '--as', 'bob', '/mode status'], {}, /--as "bob" is not a Slack member id: expected U or W then capitals and digits/],
      [['command', '--as', REQUESTER, '/mode status'], { SLACK_SIGNING_SECRET: 'not-the-bots-secret-0000000000' }, /the bot refused the request's signature \(401\): this shell's SLACK_SIGNING_SECRET is not the bot's/],
      [['command', '--as', REQUESTER, '/mode status', '--bot-url', `http://127.0.0.1:${await freePort()}`], {}, /no bot is listening at http:\/\/127\.0\.0\.1:\d+\/slack\/events: start it/],
      [['messages'], { SLACK_API_URL: 'https://slack.com/api/' }, /SLACK_API_URL is https:\/\/slack\.com, not this machine/],
      [['react', '--as', APPROVER_A, '--to', 'the live request', '--bot-url', 'https://ctb.example.com'], {}, /the bot's URL https:\/\/ctb\.example\.com is not on this machine/],
      // A shell whose .env is not the rehearsing bot's (e.g. copied from production, its bot tunnelled to this host): nothing is signed.
      [['command', '--as', REQUESTER, '/mode live'], { SLACK_BOT_TOKEN: 'xoxb-copied-from-production' },
        /the Slack stand-in at http:\/\/127\.0\.0\.1:\d+ has never been called by a bot with this shell's SLACK_BOT_TOKEN, so nothing is sent to http:\/\/127\.0\.0\.1:\d+/],
      [['react', '--as', APPROVER_A, '--to', 'the live request'], { SLACK_BOT_TOKEN: 'xoxb-copied-from-production' }, /has never been called by a bot with this shell's SLACK_BOT_TOKEN/],
    ];
    // In this process (each is refused before it would wait on anything), reading the bot's .env.
    for (const [args, env, message] of cases) {
      const io = { ...recordingIo(env), cwd: dir };
      const code = await runCli(['simulate-slack', ...args], io);
      outputs.push(io.out(), io.err());
      expect({ args, code }).toEqual({ args, code: 2 });
      expect(io.err()).toMatch(message);
    }
    // The signing secret is never shown, by the stand-in nor by any person's command.
    expect([standIn.output(), ...outputs].filter((o) => o.includes(SECRET) || o.includes('not-the-bots-secret'))).toEqual([]);
  }, 120_000);
});
