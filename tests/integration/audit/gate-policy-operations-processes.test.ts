// The log directory, the live-switch approvers and the alert channels the audit judges are the
// engine's, across real processes on one PostgreSQL database: the engine's process (`ctb start --role
// worker`) records its LOG_DIR, SLACK_APPROVERS and alert channels with the gate policy; `ctb audit` in a
// shell that points LOG_DIR at an empty directory, lists three approvers and configures email all
// the same reads the engine's logs (and fails on the error there), judges the engine's single approver
// and its lack of any alert channel, and says whose values they are. When the engine's LOG_DIR cannot
// be read from the auditing host, the log checks fail saying so rather than warn about an empty directory.
import { appendFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alertTests, golivePolicy } from '../../../src/db/schema/index.js';
import { ctbInShell } from '../../support/ctb-shell.js';
import { useGateProcesses } from '../../support/gate-processes.js';
import { baseEnv, bot, killBotsAfterEach } from '../engine-lease/one-engine-bots.js';

killBotsAfterEach();

const bed = useGateProcesses();

describe('the engine\'s LOG_DIR, approvers and alert channels across processes', () => {
  it('are recorded by the engine and judged by ctb audit in a shell that sets looser ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctb-gate-operations-'));
    const env = baseEnv(dir, { DATABASE_URL: bed.database.url, SLACK_APPROVERS: 'U0ENGINE1' });
    const engine = bot(['start', '--role', 'worker'], env, dir);
    await engine.waitFor(/go-live gate policy recorded/, 120_000);
    const [stored] = await bed.database.db.select().from(golivePolicy);
    const recordedBy = `${hostname()}:${engine.pid} (worker)`;
    expect(stored).toMatchObject({
      recordedBy, engineLimits: { logDir: env.LOG_DIR, slackApprovers: ['U0ENGINE1'], alertChannels: { slack: null, email: null } },
    });
    engine.kill('SIGTERM');
    await engine.exited;
    const whose = `the engine's process ${recordedBy}, recorded at ${stored!.recordedAt.toISOString()}`;

    // An unhandled error in the engine's log; a shell whose LOG_DIR is empty, that lists three
    // approvers and sends email (and a test that delivered by email).
    appendFileSync(join(env.LOG_DIR!, 'system.log'), `${JSON.stringify({ level: 50, time: Date.now() - 60_000, pid: 1, msg: 'order book went away' })}\n`);
    const empty = join(dir, 'empty-logs');
    mkdirSync(empty);
    await bed.database.db.insert(alertTests).values({ at: new Date(), actor: 'cli:laptop', severity: 'critical', ok: true, channels: { email: { status: 'sent' } } });
    const shell = {
      DATABASE_URL: bed.database.url, LOG_DIR: empty, SLACK_APPROVERS: 'U0SHELL1,U0SHELL2,U0SHELL3', SMTP_URL: 'smtp://mail.example.com:25', ALERT_EMAIL_TO: 'ops@example.com',
    };
    const audit = await ctbInShell(['audit', '--dry-run'], shell);
    expect(audit.code, audit.stderr).toBe(1);
    let results = await bed.latestRun();
    const logs = results.get('logs.unhandled_errors')!;
    expect(logs.status).toBe('fail');
    expect(logs.value).toContain('1 unhandled error in the last 1d: ');
    expect(logs.value).toContain(`(LOG_DIR ${env.LOG_DIR}: ${whose})`);
    expect(results.get('mode.approvers')).toMatchObject({
      status: 'warn', value: `SLACK_APPROVERS lists only U0ENGINE1: a live switch cannot be approved (it needs 2 approvers besides the requester) (SLACK_APPROVERS of ${whose})`,
    });
    expect(results.get('alerting.channels')).toMatchObject({ status: 'fail', value: `no alert channel configured (alert channels of ${whose})` });

    // The engine ran on another host: its LOG_DIR is not here. The log checks fail, saying so.
    const elsewhere = join(dir, 'on-the-engine-host', 'logs');
    await bed.database.db.update(golivePolicy).set({ engineLimits: { ...stored!.engineLimits!, logDir: elsewhere } });
    await ctbInShell(['audit', '--dry-run'], shell);
    results = await bed.latestRun();
    const unreadable = `LOG_DIR ${elsewhere} (${whose}) cannot be read from this host: it does not exist on this host`;
    expect(results.get('logs.unhandled_errors')).toMatchObject({ status: 'fail', value: unreadable });
    expect(results.get('logging.rotation')).toMatchObject({ status: 'fail', value: unreadable });
  }, 240_000);
});
