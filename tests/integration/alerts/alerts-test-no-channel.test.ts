// `ctb alerts test --severity critical` with neither Slack nor email configured: the escalation is
// recorded, but nobody can be paged, and the terminal says so instead of claiming a page.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/program.js';
import { alertTests } from '../../../src/db/schema/index.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';

describe('ctb alerts test with no alert channel configured', () => {
  let database: TestDatabase;
  let root: string;
  const out: string[] = [];
  beforeAll(async () => {
    database = await createPostgresTestDb();
    root = mkdtempSync(join(tmpdir(), 'ctb-alerts-test-'));
  });
  afterAll(async () => {
    await database?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('says nobody was paged and why, and exits 1, for a critical test', async () => {
    const io = {
      env: { DATABASE_URL: database.url, LOG_DIR: join(root, 'logs'), LOG_LEVEL: 'warn' },
      cwd: root,
      stdout: { write: (s: string) => out.push(s) },
      stderr: { write: () => {} },
    };
    expect(await runCli(['alerts', 'test', '--severity', 'critical'], io)).toBe(1);
    const said = out.join('');
    const [row] = await database.db.select().from(alertTests);
    expect(said).toContain(`Test alert (critical) NOT delivered: no alert channel is configured (Slack: SLACK_BOT_TOKEN and SLACK_ALERTS_CHANNEL; email: SMTP_URL and ALERT_EMAIL_TO) — group ${row!.groupId}`);
    expect(said).toContain(`Escalation recorded, but nobody was paged: no alert channel is configured (Slack: SLACK_BOT_TOKEN and SLACK_ALERTS_CHANNEL; email: SMTP_URL and ALERT_EMAIL_TO). Acknowledge it with \`ctb alerts ack ${row!.groupId}\`.`);
    expect(said).not.toMatch(/paged now|Escalation started/);
    // Nothing left this process: the closing line may not claim a test alert was sent.
    expect(said).toContain('Nothing was sent from here (the test is recorded only); alerts the bot has queued are left to the bot to send.');
    expect(said).not.toContain('Only this test alert was sent');
    expect(row).toMatchObject({ ok: false, severity: 'critical' });
  });
});
