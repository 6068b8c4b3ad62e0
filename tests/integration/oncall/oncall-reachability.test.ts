// A rotation member deactivated in Slack after being added: `ctb oncall show` (and /oncall) warns;
// Slack not answering leaves them unchecked with a warning.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { oncallSetCommand } from '../../../commands/oncall-set.js';
import { oncallShowCommand } from '../../../commands/oncall-show.js';
import { runCommand } from '../../../commands/run-command.js';
import { renderOncallShow } from '../../../src/cli/render/oncall.js';
import { renderOncallSchedule, renderOncallWho } from '../../../src/slack/views/oncall.js';
import { usePostgresTestDb } from '../../support/db.js';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.js';
import { ALERT_TABLES, alertConfig, alertHarness, type AlertHarness } from '../../support/alert-fixtures.js';

const database = usePostgresTestDb({ truncate: ALERT_TABLES });
let slack: FakeSlack;
const harnesses: AlertHarness[] = [];
const operator = { id: 'cli:op', source: 'cli' as const };

async function replica(): Promise<AlertHarness> {
  const h = await alertHarness({ database: database(), config: alertConfig(slack) });
  harnesses.push(h);
  return h;
}

/** Slack's answer to users.info once UGONE was deactivated (after joining the rotation). */
const deactivated = (body: Record<string, unknown>) =>
  ({ body: { ok: true, user: { id: body.user, is_bot: false, deleted: body.user === 'UGONE' } } });
const slackDown = () => ({ body: { ok: false, error: 'fatal_error' } });

beforeEach(async () => {
  slack = await startFakeSlack();
});
afterEach(async () => {
  while (harnesses.length > 0) await harnesses.pop()!.close();
  await slack.close();
});

/** Monday 2026-01-05 12:00 UTC: UALICE on call until the 13:00 handover, then UGONE. */
async function rotation(h: AlertHarness) {
  h.clock.set('2026-01-05T12:00:00Z');
  await runCommand(oncallSetCommand, h.ctx, operator, { members: 'UALICE,UGONE', handoff: 'mon 13:00', tz: 'UTC' });
}

describe('oncall show re-checks the people it names with Slack', () => {
  it('warns about a member Slack now says is deactivated, in the terminal and in Slack', async () => {
    const h = await replica();
    await rotation(h);
    slack.on('users.info', deactivated);
    const show = await runCommand(oncallShowCommand, h.ctx, operator, {});
    expect(show.warnings).toEqual([expect.stringMatching(/^UGONE cannot be paged: Slack says deactivated\. A page to them fails/)]);
    const text = renderOncallShow(show);
    expect(text).toContain('warning: UGONE cannot be paged: Slack says deactivated.');
    expect(text).toContain('`ctb oncall set --members …`');
    expect(JSON.stringify(renderOncallWho(show).blocks)).toContain(':warning: UGONE cannot be paged');
    expect(JSON.stringify(renderOncallSchedule(show).blocks)).toContain(':warning: UGONE cannot be paged');
  });

  it('still shows the rotation when Slack does not answer, saying who was not checked', async () => {
    const h = await replica();
    await rotation(h);
    slack.on('users.info', slackDown);
    const show = await runCommand(oncallShowCommand, h.ctx, operator, {});
    expect(show).toMatchObject({ ok: true, now: { primary: 'UALICE', next: 'UGONE' } });
    expect(show.warnings).toEqual(['Could not check with Slack that UALICE, UGONE can still be paged (Slack did not answer: fatal_error).']);
  });
});
