// Every replica runs the escalation tick, so the policy paging follows is one row in the database:
// the first bot process to start stores its configured policy, a second one started with other
// ESCALATION_* pages by the stored row all the same and says so at start, and the go-live audit —
// from a shell with a third configuration — judges that stored row. Two real bot processes page from
// one database here.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { asc } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alertPages, alertPolicies } from '../../../src/db/schema/index.js';
import { onCallCheck } from '../../../src/services/audit/checks/oncall.js';
import type { AuditContext } from '../../../src/services/audit/types.js';
import { saveRotation } from '../../../src/services/oncall/store.js';
import { childScript } from '../../support/children.js';
import { usePostgresTestDb } from '../../support/db.js';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.js';
import { rotationOnDatabaseClock } from '../../support/oncall-fixtures.js';
import { ALERT_TABLES, alertConfig, alertHarness, type AlertHarness, passEscalationTime } from '../../support/alert-fixtures.js';

const database = usePostgresTestDb({ truncate: ALERT_TABLES });
const START = '2026-01-05T12:00:00Z';
const MIN = 60_000;
let slack: FakeSlack;
let shell: AlertHarness | undefined;
const children: Replica[] = [];

interface Replica {
  lines: Array<Record<string, unknown>>;
  /** Sets the replica's clock and runs one escalation tick there. */
  tickAt(atMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** A bot process with these ESCALATION_* settings, its alert pipeline started. */
async function startReplica(env: Record<string, string>): Promise<Replica> {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [childScript('pager-child'), database().url, slack.url, START, JSON.stringify(env)]);
  const lines: Array<Record<string, unknown>> = [];
  let waiter: { until: (l: Record<string, unknown>) => boolean; resolve: () => void } | undefined;
  createInterface({ input: child.stdout }).on('line', (text) => {
    const line = JSON.parse(text) as Record<string, unknown>;
    lines.push(line);
    if (waiter?.until(line)) waiter.resolve();
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  const next = (until: (l: Record<string, unknown>) => boolean) => new Promise<void>((resolve, reject) => {
    waiter = { until, resolve };
    child.once('exit', (code) => reject(new Error(`replica exited (${code}): ${stderr}`)));
  });
  await next((l) => l.ready === true);
  const replica: Replica = {
    lines,
    async tickAt(atMs) {
      const done = next((l) => 'done' in l);
      child.stdin.write(`tick ${new Date(atMs).toISOString()}\n`);
      await done;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin.write('stop\n');
      await exited;
    },
  };
  children.push(replica);
  return replica;
}

beforeEach(async () => {
  slack = await startFakeSlack();
});
afterEach(async () => {
  for (const c of children.splice(0)) await c.stop();
  await shell?.close();
  await slack.close();
});

const pages = async () => (await database().db.select().from(alertPages).orderBy(asc(alertPages.id))).map((p) => `${p.round}.${p.step}:${p.userId}`);

describe('the escalation policy of two replicas with different ESCALATION_*', () => {
  it('pages by the policy the first one stored, warns on the other, and the audit judges the stored one', async () => {
    const t0 = new Date(START).getTime();
    // An operator's shell with a third configuration: it records the alert and runs the audit.
    shell = await alertHarness({ database: database(), config: alertConfig(slack, { ESCALATION_ACK_SLA: '1m', SLACK_APPROVERS: 'UAPP1,UAPP2' }) });
    await rotationOnDatabaseClock(database().db, ['UALICE', 'UBOB', 'UCAROL']); // who is paged is judged at the database's now()

    const first = await startReplica({ ESCALATION_ACK_SLA: '5m' });
    const second = await startReplica({ ESCALATION_ACK_SLA: '20m' });
    const stored = await database().db.select().from(alertPolicies);
    expect(stored.map((p) => [p.severity, p.ackSlaMs])).toEqual(expect.arrayContaining([['critical', 5 * MIN], ['warning', 5 * MIN], ['info', 5 * MIN]]));
    expect(stored.find((p) => p.severity === 'critical')?.updatedBy).toMatch(/^config of .+:\d+$/);

    // The second replica says its setting is not the one paging follows; the first says nothing.
    const warns = (r: Replica) => r.lines.filter((l) => l.level === 40).map((l) => String(l.msg));
    expect(warns(first)).toEqual([]);
    expect(warns(second)).toEqual([expect.stringMatching(
      /^This process's ESCALATION_ACK_SLA=20 ?m(in(utes)?)? differs from the stored escalation policy \(critical: ACK SLA 5 ?m(in(utes)?)?, 2 round\(s\), stored by config of .+; paging follows the stored policy on every replica\. Change it with `ctb oncall set --ack-sla … --max-rounds …`/)]);

    // The second replica ticks: the next rung is paged one stored ACK SLA (5m) later, not 20m. Each
    // replica's own every-second tick may take a step first (it skips one another holds), so the
    // pages are waited for, not read once.
    await shell.sink.record({ source: 'engine', severity: 'critical', title: 'engine loop stopped', fingerprint: 'G' });
    await second.tickAt(t0);
    await expect.poll(pages, { timeout: 15_000 }).toEqual(['1.0:UALICE']);
    await passEscalationTime(database().db, null, 5 * MIN); // due times are on the database's clock
    await second.tickAt(t0 + 5 * MIN);
    await expect.poll(pages, { timeout: 15_000 }).toEqual(['1.0:UALICE', '1.1:UBOB']);

    // The audit, from the shell set to 1m, judges the stored policy.
    const audit = Object.assign(shell.ctx, { actor: { id: 'cli:a', source: 'cli' as const }, cwd: '.', kraken: () => undefined, memo: <T>(_k: string, f: () => Promise<T>) => f() }) as unknown as AuditContext;
    const judged = await onCallCheck.run(audit, { dryRun: true });
    expect(judged.value).toMatch(/critical: oncall → next → approvers every 5m ×2/);
  }, 60_000);

  it('the audit fails while no policy is stored, rather than judging its own configuration', async () => {
    shell = await alertHarness({ database: database(), config: alertConfig(slack, { SLACK_APPROVERS: 'UAPP1,UAPP2' }) });
    await saveRotation(database().db, { members: ['UALICE', 'UBOB'], handoffWeekday: 1, handoffTime: '09:00', timeZone: 'UTC', now: shell.clock.now(), actor: 'test' });
    const audit = Object.assign(shell.ctx, { actor: { id: 'cli:a', source: 'cli' as const }, cwd: '.', kraken: () => undefined, memo: <T>(_k: string, f: () => Promise<T>) => f() }) as unknown as AuditContext;
    expect(await onCallCheck.run(audit, { dryRun: true })).toMatchObject({
      status: 'fail', value: 'no critical escalation policy stored', fix: expect.stringContaining('Start the bot'),
    });
  });
});
