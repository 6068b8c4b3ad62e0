// `ctb mode …` against the same PostgreSQL database the bot used: the complete sign-off of a live
// switch in `ctb mode history --json`, the immediate rollback, and `ctb mode live` explaining Slack.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../../src/cli/io.js';
import { runCli } from '../../../src/cli/program.js';
import { commandLog } from '../../../src/db/schema/index.js';
import { getBotState } from '../../../src/services/bot-state.js';
import { acquireLease, releaseLease } from '../../../src/db/queries/engine-lease.js';
import { openLiveRequest } from '../../../src/services/mode/open-live-request.js';
import { modeHistory, type SignOffRecord } from '../../../src/services/mode/sign-off.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.js';
import { APPROVER_B, APPROVER_C, modeEnv, modeHarness, OPERATOR, OPS, OUTSIDER, passModeTime, slackActor, type ModeHarness } from '../../support/mode-harness.js';

let database: TestDatabase;
let slack: FakeSlack;
let h: ModeHarness;
let requestId: number;

function cli(env: Record<string, string | undefined>) {
  let out = '';
  let err = '';
  const cwd = mkdtempSync(join(tmpdir(), 'ctb-mode-cli-'));
  const io: CliIo = { env, cwd, stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } };
  return { io, out: () => out, err: () => err };
}

const cliEnv = () => ({ ...modeEnv(slack, h.dirs), DATABASE_URL: database.url, LOG_LEVEL: 'warn' });

beforeAll(async () => {
  database = await createPostgresTestDb();
  slack = await startFakeSlack();
  h = await modeHarness({ database, slack });
  const opened = await openLiveRequest(h.ctx, h.ctx.liveSwitch, { actor: slackActor(OPERATOR), reason: 'criteria met for 30 days' });
  if (!opened.opened) throw new Error('not opened');
  const request = opened.request;
  requestId = request.id;
  await h.react(request, OUTSIDER);
  await passModeTime(database.db, 60_000);
  await h.react(request, APPROVER_B);
  await passModeTime(database.db, 60_000);
  await h.react(request, APPROVER_C);
  // The stand-in engine that vouched for the Kraken feed stops: the tests below bring their own lease or none.
  await h.engine.stop();
});

afterAll(async () => {
  await h.ctx.close();
  await slack.close();
  await database.close();
});

describe('ctb mode', () => {
  it('history --json prints the complete sign-off of a live switch', async () => {
    const t = cli(cliEnv());
    expect(await runCli(['mode', 'history', '--json'], t.io)).toBe(0);
    const { records } = JSON.parse(t.out()) as { records: SignOffRecord[] };
    const r = records.find((x) => x.id === requestId)!;
    expect(r).toMatchObject({
      status: 'switched', fromMode: 'paper', toMode: 'live', requester: OPERATOR, requesterSource: 'slack',
      reason: 'criteria met for 30 days',
      message: { channel: OPS, ts: expect.any(String) },
      approvals: [
        { user: APPROVER_B, addedAt: expect.any(String), withdrawnAt: null },
        { user: APPROVER_C, addedAt: expect.any(String), withdrawnAt: null },
      ],
      rejections: [],
      snapshot: { path: expect.stringContaining(h.dirs.backups), id: expect.stringMatching(/^\d+$/) },
    });
    expect(r.audit.atRequest.runId).toEqual(expect.any(Number));
    expect(r.audit.atSwitch.runId).toBeGreaterThan(r.audit.atRequest.runId!);
    expect(r.audit.atSwitch.summary).toMatch(/AUDIT PASSED/);
    expect(r.criteria.map((c) => c.id)).toContain('test.controlled');
    // The record's times are the database's: it expires MODE_CHANGE_TTL after it was written, a minute
    // or more passed before each approval, quorum came with the second (approved once Slack's reactions
    // on the request were read, after that vote was recorded), and the switch after it.
    const ms = (at: string | null) => Date.parse(at!);
    const [b, c] = r.approvals;
    expect(ms(r.expiresAt) - ms(r.createdAt)).toBe(30 * 60_000);
    expect(ms(b!.addedAt) - ms(r.createdAt)).toBeGreaterThanOrEqual(60_000);
    expect(ms(c!.addedAt) - ms(b!.addedAt)).toBeGreaterThanOrEqual(60_000);
    expect(ms(r.approvedAt)).toBeGreaterThanOrEqual(ms(c!.addedAt));
    expect(ms(r.decidedAt)).toBeGreaterThanOrEqual(ms(r.approvedAt));
    expect(r.outcome).toBe(`switched to live; approved by ${APPROVER_B} at ${b!.addedAt} and ${APPROVER_C} at ${c!.addedAt}`);
    expect(r.trail.map((e) => e.kind)).toEqual(['requested', 'posted', 'vote_ignored', 'vote_added', 'vote_added', 'approved', 'switched', 'announcing', 'announced']);
    expect(r.announcement).toMatchObject({ state: 'delivered', attempts: 1 });
    expect(r.trail[2]).toMatchObject({ actor: OUTSIDER, details: { reason: 'not an approver (SLACK_APPROVERS)' } });
  });

  it('history prints the sign-off as text', async () => {
    const t = cli(cliEnv());
    expect(await runCli(['mode', 'history'], t.io)).toBe(0);
    expect(t.out()).toContain(`#${requestId} paper → live: SWITCHED`);
    const [signOff] = await modeHistory(h.ctx, { limit: 1, id: requestId });
    expect(t.out()).toContain(`approval ${APPROVER_B} at ${signOff!.approvals[0]!.addedAt}`);
    expect(t.out()).toMatch(/snapshot .*ctb-mode-backups-/);
  });

  it('history refuses a bad --limit with what is expected', async () => {
    const t = cli(cliEnv());
    expect(await runCli(['mode', 'history', '--limit', 'lots'], t.io)).toBe(2);
    expect(t.err()).toMatch(/limit/);
  });

  it("status shows the running bot's armed state from its engine lease, from a shell without IS_LIVE or keys", async () => {
    const bot = { holderId: 'bot-host:4242:0a1b2c3d', host: 'bot-host', pid: 4242, role: 'worker', feed: 'kraken', armed: true, hasKrakenKeys: true };
    expect((await acquireLease(h.ctx.db, bot, 15_000)).acquired).toBe(true);
    try {
      const t = cli({ ...cliEnv(), IS_LIVE: 'false', KRAKEN_API_KEY: undefined, KRAKEN_API_SECRET: undefined });
      expect(await runCli(['mode', 'status'], t.io)).toBe(0);
      expect(t.out()).toMatch(/^mode: LIVE\n/);
      expect(t.out()).toMatch(/^engine: bot-host:4242 \(worker, feed kraken, armed for live, has Kraken keys\), heartbeat \d+s ago; engine trading now$/m);
      expect(t.out()).toContain('armed (IS_LIVE): yes');
      expect(t.out()).toContain('this shell: IS_LIVE=false, no Kraken keys');
      const j = cli({ ...cliEnv(), IS_LIVE: 'false', KRAKEN_API_KEY: undefined, KRAKEN_API_SECRET: undefined });
      expect(await runCli(['mode', 'status', '--json'], j.io)).toBe(0);
      expect(JSON.parse(j.out())).toMatchObject({
        mode: 'live', armed: true, shell: { armed: false, hasKrakenKeys: false },
        engine: { state: 'running', host: 'bot-host', pid: 4242, role: 'worker', armed: true, hasKrakenKeys: true, heartbeatAt: expect.any(String) },
      });
    } finally {
      await releaseLease(h.ctx.db, bot.holderId);
    }
  });

  it('status says no engine runs (and trades nothing) when no process holds the lease, whatever this shell would do', async () => {
    const t = cli(cliEnv());
    expect(await runCli(['mode', 'status'], t.io)).toBe(0);
    expect(t.out()).toMatch(/^mode: PAPER \(database says live; trading paper because no engine is running\)/);
    expect(t.out()).toContain('engine: no engine running');
    expect(t.out()).toContain('this shell: IS_LIVE=true, Kraken keys');
  });

  it('live explains that going live is requested in Slack and signed by two approvers, and exits 2: never done from the terminal', async () => {
    const t = cli(cliEnv());
    expect(await runCli(['mode', 'live'], t.io)).toBe(2);
    expect(t.err()).toMatch(/^error: Live trading is requested in Slack, not from the terminal\. Run \/mode live in Slack; two approvers other than you then react with/);
    expect(t.err()).toContain('ctb mode paper rolls back at once.');
    const json = cli(cliEnv());
    expect(await runCli(['mode', 'live', '--json'], json.io)).toBe(2);
    expect(JSON.parse(json.out())).toMatchObject({ ok: false, code: 'live_needs_slack', exitCode: 2 });
  });

  it('paper rolls back at once and is recorded with the terminal user', async () => {
    const t = cli(cliEnv());
    expect(await runCli(['mode', 'paper', '--reason', 'end of trial'], t.io)).toBe(0);
    expect(t.out()).toMatch(/switched to PAPER \(was live\)/);
    expect((await getBotState(h.ctx.db)).mode).toBe('paper');
    const log = await h.ctx.db.select().from(commandLog);
    expect(log.some((l) => l.command === 'mode paper' && l.source === 'cli' && l.result === 'ok')).toBe(true);
    const s = cli(cliEnv());
    expect(await runCli(['mode', 'history', '--json', '--limit', '1'], s.io)).toBe(0);
    expect(JSON.parse(s.out()).records[0]).toMatchObject({ fromMode: 'live', toMode: 'paper', status: 'switched', requesterSource: 'cli', reason: 'end of trial' });
  });

  it('live and status say /mode live is refused while the running engine is not armed, naming it and how to arm it', async () => {
    const worker = { holderId: 'bot-host:4242:0a1b2c3d', host: 'bot-host', pid: 4242, role: 'worker', feed: 'kraken', armed: false, hasKrakenKeys: true };
    // After the rollback above: the database asks for paper.
    expect((await acquireLease(h.ctx.db, worker, 15_000)).acquired).toBe(true);
    try {
      const refusal = 'the engine (bot-host pid 4242, worker) is not armed (IS_LIVE is not true in its process)';
      const arm = 'Restart the worker on bot-host (pid 4242) with IS_LIVE=true';
      const t = cli(cliEnv());
      expect(await runCli(['mode', 'live'], t.io)).toBe(2);
      expect(t.err()).toContain(`ctb mode paper rolls back at once. /mode live would be refused now: ${refusal}`);
      expect(t.err()).toContain(arm);
      const s = cli(cliEnv());
      expect(await runCli(['mode', 'status'], s.io)).toBe(0);
      expect(s.out()).toContain(`going live: refused now — ${refusal}`);
      expect(s.out()).toContain(arm);
    } finally {
      await releaseLease(h.ctx.db, worker.holderId);
    }
  });
});
