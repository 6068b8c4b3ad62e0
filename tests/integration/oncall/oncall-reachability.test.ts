// A rotation member deactivated in Slack after being added: `ctb oncall show` (and /oncall) warns,
// and the handover that puts them on call raises a warning in the alerts channel, once across
// replicas; Slack not answering leaves them unchecked with a warning and is asked again.
import { Writable } from 'node:stream';
import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { oncallSetCommand } from '../../../commands/oncall-set.js';
import { oncallShowCommand } from '../../../commands/oncall-show.js';
import { runCommand } from '../../../commands/run-command.js';
import { alertsFeature } from '../../../src/app/features/alerts.js';
import { renderOncallShow } from '../../../src/cli/render/oncall.js';
import type { HttpServer } from '../../../src/http/server.js';
import { alertGroups } from '../../../src/db/schema/index.js';
import { createLogger } from '../../../src/logger.js';
import { renderOncallSchedule, renderOncallWho } from '../../../src/slack/views/oncall.js';
import { usePostgresTestDb } from '../../support/db.js';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.js';
import { handoffFromDatabaseNow, passOncallTime, rotationOnDatabaseClock } from '../../support/oncall-fixtures.js';
import { ALERT_TABLES, ALERTS_CHANNEL, alertConfig, alertHarness, type AlertHarness } from '../../support/alert-fixtures.js';

const database = usePostgresTestDb({ truncate: ALERT_TABLES });
let slack: FakeSlack;
const harnesses: AlertHarness[] = [];
const operator = { id: 'cli:op', source: 'cli' as const };
const HOUR = 3_600_000;

async function replica(logged?: Array<{ msg: string; level: number }>): Promise<AlertHarness> {
  const config = alertConfig(slack);
  const logger = logged
    ? createLogger({ config, stdout: false, files: false, destination: new Writable({ write(chunk, _enc, done) { logged.push(JSON.parse(String(chunk))); done(); } }) })
    : undefined;
  const h = await alertHarness({ database: database(), config, ...(logger ? { logger } : {}) });
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

/** Set with `ctb oncall set`: UALICE on call until a handover an hour after the database's now(), then UGONE. */
async function rotation(h: AlertHarness) {
  const { handoff } = await handoffFromDatabaseNow(h.ctx.db, HOUR, 'UTC');
  await runCommand(oncallSetCommand, h.ctx, operator, { members: 'UALICE,UGONE', handoff, tz: 'UTC' });
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

/**
 * The handover on the database's clock (whoIsOnCall's): UALICE on call until a handover within the
 * hour, then UGONE. Returns when UGONE's shift starts once `handover()` has moved that hour on.
 */
async function rotationHandingOverInAnHour(): Promise<{ since: Date; handover: () => Promise<void> }> {
  const { handoffAt } = await rotationOnDatabaseClock(database().db, ['UALICE', 'UGONE'], { handoffInMs: HOUR });
  return { since: new Date(handoffAt.getTime() - HOUR), handover: () => passOncallTime(database().db, HOUR) };
}

describe('the handover that puts a deactivated member on call', () => {
  const unreachableGroups = () => database().db.select().from(alertGroups).where(eq(alertGroups.source, 'oncall'));
  const channelPosts = () => slack.callsTo('chat.postMessage').filter((c) => c.body.channel === ALERTS_CHANNEL).map((c) => JSON.stringify(c.body));

  it('raises one warning in the alerts channel across two replicas', async () => {
    const a = await replica();
    const b = await replica();
    const { since, handover } = await rotationHandingOverInAnHour();
    slack.on('users.info', deactivated);
    expect(await a.runtime.handover.tick()).toBe('reachable'); // UALICE's shift
    expect(await unreachableGroups()).toEqual([]);

    await handover();
    expect(await a.runtime.handover.tick()).toBe('unreachable');
    expect(await b.runtime.handover.tick()).toBe('unreachable');
    expect(await a.runtime.handover.tick()).toBe('checked_already');
    const groups = await unreachableGroups();
    expect(groups).toMatchObject([{ severity: 'warning', count: 1, fingerprint: `oncall-unreachable:UGONE@${since.toISOString()}` }]);

    for (let i = 0; i < 3; i += 1) {
      a.clock.advance(1_000);
      await a.runtime.delivery.tick();
    }
    const posted = channelPosts();
    expect(posted).toHaveLength(1);
    expect(posted[0]).toContain(`UGONE is on call since ${since.toISOString()} (by the rotation) but cannot be paged: Slack says deactivated`);
  });

  it('is checked by the running bot (a job on every replica)', async () => {
    const h = await replica();
    const { since, handover } = await rotationHandingOverInAnHour();
    slack.on('users.info', deactivated);
    await handover();
    const running = await alertsFeature.start(h.ctx, {} as HttpServer, { role: 'all', feed: 'replay' });
    try {
      await h.ctx.jobs.runNow('oncall-handover');
    } finally {
      await running?.stop();
      await h.ctx.jobs.stopAll();
    }
    expect(await unreachableGroups()).toMatchObject([{ fingerprint: `oncall-unreachable:UGONE@${since.toISOString()}` }]);
  });

  it('logs a Slack outage once when the check first fails and once when Slack answers again, with the count, not a line a run', async () => {
    const logged: Array<{ msg: string; level: number }> = [];
    const h = await replica(logged);
    const { since, handover } = await rotationHandingOverInAnHour();
    await handover();
    slack.on('users.info', slackDown);
    // This replica's clock dates its own outage; the handover is the database's.
    for (let minute = 0; minute < 5; minute += 1) {
      h.clock.set(`2026-01-05T13:0${minute}:05Z`);
      expect(await h.runtime.handover.tick()).toBe('unchecked');
    }
    const about = () => logged.filter((l) => l.msg.includes('UGONE') && l.level >= 30).map((l) => [l.level, l.msg]);
    expect(about()).toEqual([
      [40, `could not check with Slack that UGONE, on call since ${since.toISOString()}, can be paged (fatal_error); asking again every run, quietly until Slack answers`],
    ]);
    slack.on('users.info', deactivated);
    h.clock.set('2026-01-05T13:05:05Z');
    expect(await h.runtime.handover.tick()).toBe('unreachable');
    expect(about().slice(1, 2)).toEqual([
      [30, 'Slack answered the check of UGONE again after 5 failed tries since 2026-01-05T13:00:05.000Z'],
    ]);
    expect(await unreachableGroups()).toHaveLength(1);
  });

  it('asks again when Slack did not answer at the handover', async () => {
    const h = await replica();
    const { handover } = await rotationHandingOverInAnHour();
    await handover();
    slack.on('users.info', slackDown);
    expect(await h.runtime.handover.tick()).toBe('unchecked');
    expect(await unreachableGroups()).toEqual([]);
    slack.on('users.info', deactivated);
    expect(await h.runtime.handover.tick()).toBe('unreachable');
    expect(await unreachableGroups()).toHaveLength(1);
  });
});
