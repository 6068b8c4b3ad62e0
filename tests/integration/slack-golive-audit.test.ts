// `/golive audit` through the real Bolt receiver with signed requests: operators only, acked before
// the audit runs, "running the audit…" at once, the verdict (failing checks with their fixes) posted
// in the channel when done, recorded once, and a Slack retry never runs it twice. The audit runs the
// real runner (stored in audit_runs) over checks chosen by the test.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { auditCommand } from '../../commands/audit.js';
import { defineCommand } from '../../commands/define.js';
import { auditRuns } from '../../src/db/schema/index.js';
import { runAudit } from '../../src/services/audit/run-audit.js';
import { defineCheck, type AuditOptions } from '../../src/services/audit/types.js';
import { goLiveAuditRoute } from '../../src/slack/listeners/golive-audit.js';
import { listenerTable } from '../../src/slack/listeners/table.js';
import type { ListenerTable } from '../../src/slack/listeners/types.js';
import { startSlackHarness, USERS, type SlackHarness } from '../support/slack-harness.js';

const runs: AuditOptions[] = [];
/** Holds the first check until released; afterEach releases it, so a failing test never leaves an audit hanging. */
let gate: Promise<void> = Promise.resolve();
let release: () => void = () => {};
/** Called when the first check starts: a test waits on the run itself, not on a polling deadline. */
let entered: () => void = () => {};

const checks = [
  defineCheck({
    id: 'exchange.key_rights', title: 'Key cannot withdraw', checklistSection: 1,
    async run(_ctx, opts) {
      runs.push(opts);
      entered();
      await gate;
      return { status: 'fail', value: 'key can withdraw', fix: 'Create a new key with Query and Trade rights only.' };
    },
  }),
  defineCheck({ id: 'risk.kill_switch', title: 'Kill switch wired', checklistSection: 4, run: async () => ({ status: 'pass', value: 'wired', fix: null }) }),
  defineCheck({ id: 'logs.rotation', title: 'Logs rotate', checklistSection: 3, run: async () => ({ status: 'warn', value: 'not configured yet', fix: 'Set LOG_MAX_BYTES.' }) }),
];

const testAudit = defineCommand({ ...auditCommand, run: (ctx, args) => runAudit(ctx, { actor: ctx.actor, dryRun: args.dryRun, cwd: '.', checks }) });

function tableWithTestAudit(): ListenerTable {
  return {
    ...listenerTable,
    commands: listenerTable.commands.map((row) =>
      row.command !== '/golive' ? row : { ...row, subcommands: row.subcommands.map((s) => (s.name === 'audit' ? goLiveAuditRoute({ command: testAudit }) : s)) },
    ),
  };
}

const text = (v: unknown) => JSON.stringify(v ?? {});

describe('/golive audit', () => {
  let h: SlackHarness;
  beforeAll(async () => {
    h = await startSlackHarness({ table: tableWithTestAudit() });
  });
  afterEach(async () => {
    release();
    gate = Promise.resolve();
    entered = () => {};
    await h?.idle();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('acks before the audit finishes, says it is running, then posts the verdict with each failing check\'s fix in the channel', async () => {
    gate = new Promise((resolve) => (release = resolve));
    const started = new Promise<void>((resolve) => (entered = resolve));
    const before = h.responses().length;
    const res = await h.slash('/golive', 'audit', { user: USERS.operator });
    expect(res.status).toBe(200);
    // Acked while the audit is still waiting inside its first check.
    await started;
    expect(runs).toHaveLength(1);
    expect(h.responses().slice(before).map((r) => r.text)).toEqual([
      '[PAPER] Running the go-live audit… the verdict will be posted in this channel when it is done.',
    ]);
    expect(h.responses()[before]?.response_type).toBe('ephemeral');
    release();
    await h.idle();
    const replies = h.responses().slice(before);
    expect(replies).toHaveLength(2);
    const verdict = replies[1]!;
    expect(verdict.response_type).toBe('in_channel');
    expect(verdict.text).toMatch(/^\[PAPER\] AUDIT FAILED — 1 pass, 1 warn, 1 fail \(full run, paper mode\) — failing: exchange\.key_rights$/);
    expect(text(verdict)).toContain('Key cannot withdraw* — key can withdraw');
    expect(text(verdict)).toContain('_Fix:_ Create a new key with Query and Trade rights only.');
    expect(text(verdict)).toContain('_Fix:_ Set LOG_MAX_BYTES.');
    const stored = await h.ctx.db.select().from(auditRuns);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ actor: USERS.operator, passed: false, dryRun: false });
    expect(text(verdict)).toContain(`Run #${stored[0]!.id} by <@${USERS.operator}>`);
    const log = await h.commandLog();
    expect(log.at(-1)).toMatchObject({ source: 'slack', actor: USERS.operator, command: 'audit', allowed: true, result: 'failed' });
  });

  it('runs a dry run when asked: read-only exchange calls only', async () => {
    runs.length = 0;
    await h.slash('/golive', 'audit dry-run', { user: USERS.operator });
    await h.idle();
    expect(runs).toEqual([{ dryRun: true, purpose: 'check' }]);
    expect(h.responses().at(-1)?.text).toContain('(dry run, paper mode)');
  });

  it('refuses a reader: clear answer, the audit does not run, the refusal is recorded', async () => {
    runs.length = 0;
    const storedBefore = (await h.ctx.db.select().from(auditRuns)).length;
    const before = h.responses().length;
    await h.slash('/golive', 'audit', { user: USERS.reader });
    await h.idle();
    const replies = h.responses().slice(before);
    expect(replies).toHaveLength(1);
    expect(text(replies[0])).toContain('You are not allowed to run `/golive audit [dry-run]`: it needs the operator role');
    expect(runs).toHaveLength(0);
    expect((await h.ctx.db.select().from(auditRuns)).length).toBe(storedBefore);
    expect((await h.commandLog()).at(-1)).toMatchObject({ actor: USERS.reader, command: 'golive audit', allowed: false, result: 'refused' });
  });

  it('answers stray words with the usage and runs nothing', async () => {
    runs.length = 0;
    await h.slash('/golive', 'audit everything now', { user: USERS.operator });
    await h.idle();
    const reply = text(h.responses().at(-1));
    expect(reply).toContain('takes nothing, or `dry-run`');
    expect(reply).toContain('/golive audit [dry-run]');
    expect(runs).toHaveLength(0);
  });

  it('runs the audit once when Slack retries the command', async () => {
    runs.length = 0;
    const storedBefore = (await h.ctx.db.select().from(auditRuns)).length;
    await h.slash('/golive', 'audit', { user: USERS.operator, triggerId: 'trg-audit-retry' });
    await h.slash('/golive', 'audit', { user: USERS.operator, triggerId: 'trg-audit-retry', retryNum: 1, retryReason: 'http_timeout' });
    await h.idle();
    expect(runs).toHaveLength(1);
    expect((await h.ctx.db.select().from(auditRuns)).length).toBe(storedBefore + 1);
  });
});
