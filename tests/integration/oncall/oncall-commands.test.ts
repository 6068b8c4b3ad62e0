import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { oncallOverrideClearCommand, oncallOverrideCommand } from '../../../commands/oncall-override.js';
import { oncallSetCommand } from '../../../commands/oncall-set.js';
import { oncallShowCommand } from '../../../commands/oncall-show.js';
import { runCommand } from '../../../commands/run-command.js';
import { buildAppContext, type OwnedContext } from '../../../src/app/build-context.js';
import { runCli } from '../../../src/cli/program.js';
import { ManualClock } from '../../../src/clock.js';
import { testConfig } from '../../../src/config/env.js';
import { alertPolicies, oncallOverrides, oncallRotations } from '../../../src/db/schema/index.js';
import { silentLogger } from '../../../src/logger.js';
import { onCallAt, type OnCallNow } from '../../../src/services/oncall/schedule.js';
import { getRotation, overridesBetween } from '../../../src/services/oncall/store.js';
import { databaseNow } from '../../../src/db/queries/database-clock.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { handoffFromDatabaseNow } from '../../support/oncall-fixtures.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

let database: TestDatabase;
let ctx: OwnedContext;
let clock: ManualClock;
const operator = { id: 'UOPS1', source: 'slack' as const };

/** Who the stored rotation and overrides put on call at `at` (the manual clock's; whoIsOnCall asks at the database's now()). */
async function whoIsOnCall(db: OwnedContext['db'], at: Date): Promise<OnCallNow> {
  return onCallAt(await getRotation(db), await overridesBetween(db, at, new Date(at.getTime() + 1)), at);
}

beforeAll(async () => {
  database = await createPostgresTestDb();
});
afterAll(async () => {
  await ctx?.close();
  await database?.close();
});
beforeEach(async () => {
  await ctx?.close();
  for (const t of [oncallRotations, oncallOverrides, alertPolicies]) await database.db.delete(t);
  // Monday 2026-01-12 13:00 UTC = 08:00 in New York, an hour before a "mon 09:00" New York handoff.
  clock = new ManualClock('2026-01-12T13:00:00Z');
  ctx = await buildAppContext({ config: testConfig({ SLACK_OPERATORS: 'UOPS1', SLACK_APPROVERS: 'UAPP1' }), clock, logger: silentLogger(), database });
});

describe('on-call commands on PostgreSQL', () => {
  it('hands off at the New York time, not the UTC one, and an override wins for its range', async () => {
    // The handoff is New York's local time an hour after the database's now() (which the commands
    // judge "now" by); read as UTC it would fall hours away.
    const { handoff, at } = await handoffFromDatabaseNow(ctx.db, 60 * MIN, 'America/New_York');
    const set = await runCommand(oncallSetCommand, ctx, operator, { members: 'UALICE,<@UBOB|bob>,@UCAROL', handoff, tz: 'America/New_York' });
    expect(set).toMatchObject({ members: ['UALICE', 'UBOB', 'UCAROL'], onCallNow: 'UALICE', next: 'UBOB', policy: { severity: 'critical', stored: true } });

    expect((await whoIsOnCall(ctx.db, new Date(at.getTime() - MIN))).primary).toBe('UALICE');
    expect(await whoIsOnCall(ctx.db, at)).toMatchObject({ primary: 'UBOB', next: 'UCAROL' });

    const before = await databaseNow(ctx.db);
    const o = await runCommand(oncallOverrideCommand, ctx, operator, { user: '<@UDAVE>', duration: '2h' });
    const startsAt = new Date(o.startsAt);
    expect(o).toMatchObject({ userId: 'UDAVE', endsAt: new Date(startsAt.getTime() + 2 * HOUR).toISOString() });
    expect(startsAt >= before && startsAt <= (await databaseNow(ctx.db)), 'starts at the database\'s now()').toBe(true);
    expect(await whoIsOnCall(ctx.db, new Date(startsAt.getTime() + 2 * HOUR - MIN))).toMatchObject({ primary: 'UDAVE', via: 'override', next: 'UBOB' });
    expect(await whoIsOnCall(ctx.db, new Date(startsAt.getTime() + 2 * HOUR))).toMatchObject({ primary: 'UBOB', via: 'rotation' });

    const show = await runCommand(oncallShowCommand, ctx, operator, {});
    expect(show.now).toMatchObject({ primary: 'UDAVE', via: 'override', next: 'UALICE', until: o.endsAt });
    expect(show.upcoming.map((s) => s.userId)).toEqual(['UALICE', 'UBOB', 'UCAROL', 'UALICE']);
    expect(show.upcoming[1]!.startsAt).toBe(at.toISOString());
  });

  it('refuses bad input with a message naming what is expected, and writes nothing', async () => {
    await expect(runCommand(oncallSetCommand, ctx, operator, { members: 'alice,bob' })).rejects.toThrow(/is not a Slack member id: expected one such as U012ABCDEF/);
    await expect(runCommand(oncallSetCommand, ctx, operator, { members: 'UA1,UB2', tz: 'Mars/Olympus' })).rejects.toThrow(/IANA name such as Europe\/London/);
    await expect(runCommand(oncallSetCommand, ctx, operator, { members: 'UA1,UB2', handoff: 'funday 9' })).rejects.toThrow(/"mon 09:00"/);
    await expect(runCommand(oncallSetCommand, ctx, operator, { members: 'UA1,UA1' })).rejects.toThrow(/listed twice/);
    await expect(runCommand(oncallOverrideCommand, ctx, operator, { user: 'UA1', duration: 'forever' })).rejects.toThrow(/expected a duration up to 30d/);
    expect(await database.db.select().from(oncallRotations)).toEqual([]);
    expect(await database.db.select().from(oncallOverrides)).toEqual([]);
  });

  it('keeps the stored handoff and time zone when --members comes alone', async () => {
    await runCommand(oncallSetCommand, ctx, operator, { members: 'UALICE,UBOB', handoff: 'fri 17:30', tz: 'Europe/London' });
    const again = await runCommand(oncallSetCommand, ctx, operator, { members: 'UBOB,UALICE' });
    expect(again).toMatchObject({ members: ['UBOB', 'UALICE'], handoff: 'fri 17:30', timeZone: 'Europe/London' });
    expect(await database.db.select().from(oncallRotations)).toMatchObject([{ handoffWeekday: 5, handoffTime: '17:30', timeZone: 'Europe/London' }]);
  });

  it('says the rotation was stored with its members never verified when Slack is not configured', async () => {
    const set = await runCommand(oncallSetCommand, ctx, operator, { members: 'UALICE,UBOB' });
    expect(set.members).toEqual(['UALICE', 'UBOB']);
    expect(set.warnings).toContain(
      'Stored unverified: Slack is not configured here (SLACK_BOT_TOKEN), so nobody checked that UALICE, UBOB are Slack users who can be paged. '
      + 'The go-live audit (oncall.rotation) warns until Slack has checked them.',
    );
  });

  it('refuses an override that lies entirely in the past, and clears the ones in force and to come', async () => {
    // "Now" is the database's now(), which paging judges overrides by; the manual clock is January's.
    const t = await databaseNow(ctx.db);
    const iso = (ms: number) => new Date(t.getTime() + ms).toISOString();
    const past = await runCommand(oncallOverrideCommand, ctx, operator, { user: 'UDAVE', duration: '2h', from: iso(-3 * HOUR) }).then(() => null, (err: Error) => err.message);
    const said = new RegExp(`would end at ${iso(-HOUR).replace(/[.]/g, '\\.')}, before now \\(([^)]+)\\): it would never put anyone on call`).exec(past ?? '');
    expect(said, past ?? 'accepted').not.toBeNull();
    expect(new Date(said![1]!) >= t && new Date(said![1]!) <= (await databaseNow(ctx.db)), `now in "${past}" is the database's`).toBe(true);
    expect(await database.db.select().from(oncallOverrides)).toEqual([]);
    await runCommand(oncallSetCommand, ctx, operator, { members: 'UALICE,UBOB' });
    await runCommand(oncallOverrideCommand, ctx, operator, { user: 'UDAVE', duration: '2h', from: iso(-HOUR) });
    await runCommand(oncallOverrideCommand, ctx, operator, { user: 'UERIN', duration: '1h', from: iso(23 * HOUR) });
    expect((await whoIsOnCall(ctx.db, t)).primary).toBe('UDAVE');
    const cleared = await runCommand(oncallOverrideClearCommand, ctx, operator, {});
    const after = await databaseNow(ctx.db);
    expect(cleared.cleared.map((o) => o.userId)).toEqual(['UDAVE', 'UERIN']);
    expect(await whoIsOnCall(ctx.db, after)).toMatchObject({ primary: 'UALICE', via: 'rotation' });
    // The one in force is kept as history, ended at the database's now(); the one to come is gone.
    const rows = await database.db.select().from(oncallOverrides);
    expect(rows).toMatchObject([{ userId: 'UDAVE' }]);
    expect(rows[0]!.endsAt >= t && rows[0]!.endsAt <= after, 'ended at the database\'s now()').toBe(true);
  });

  it('says where the escalation SLA and rounds come from, and changes the stored ones only when asked', async () => {
    const envCtx = await buildAppContext({
      config: testConfig({ SLACK_OPERATORS: 'UOPS1', SLACK_APPROVERS: 'UAPP1', ESCALATION_ACK_SLA: '10m' }), clock, logger: silentLogger(), database,
    });
    try {
      const before = await runCommand(oncallShowCommand, envCtx, operator, {});
      expect(before.policies[0]).toMatchObject({ severity: 'critical', ackSlaMs: 600_000, maxRounds: 3, stored: false, source: { ackSla: 'env', maxRounds: 'default' } });
      const set = await runCommand(oncallSetCommand, envCtx, operator, { members: 'UALICE,UBOB' });
      expect(set).toMatchObject({ policyChange: 'stored_from_env', policy: { ackSlaMs: 600_000, stored: true } });
      expect(set.warnings.join('\n')).toMatch(/later changes to ESCALATION_ACK_SLA \/ ESCALATION_MAX_ROUNDS have no effect/);
      // Another shell with another ESCALATION_ACK_SLA: the stored policy is not changed, and show says the env is ignored.
      const show = await runCommand(oncallShowCommand, ctx, operator, {});
      expect(show.policies[0]).toMatchObject({ ackSlaMs: 600_000, stored: true, source: { ackSla: 'stored', maxRounds: 'stored', updatedBy: 'UOPS1' }, envIgnored: [] });
      const otherEnv = await buildAppContext({ config: testConfig({ SLACK_OPERATORS: 'UOPS1', ESCALATION_ACK_SLA: '2m' }), clock, logger: silentLogger(), database });
      try {
        expect((await runCommand(oncallShowCommand, otherEnv, operator, {})).policies[0]).toMatchObject({ ackSlaMs: 600_000, envIgnored: ['ESCALATION_ACK_SLA'] });
        const again = await runCommand(oncallSetCommand, otherEnv, operator, { members: 'UALICE,UBOB' });
        expect(again).toMatchObject({ policyChange: 'unchanged', policy: { ackSlaMs: 600_000 } });
        expect(again.warnings.join('\n')).toMatch(/ESCALATION_ACK_SLA in this environment differs from the stored policy and is ignored/);
      } finally {
        await otherEnv.close();
      }
      const changed = await runCommand(oncallSetCommand, ctx, operator, { ackSla: '15m', maxRounds: 5 });
      expect(changed).toMatchObject({ rotationChanged: false, members: ['UALICE', 'UBOB'], policyChange: 'changed', policy: { ackSlaMs: 900_000, maxRounds: 5 } });
      expect(await database.db.select().from(alertPolicies)).toMatchObject([{ severity: 'critical', ackSlaMs: 900_000, maxRounds: 5, steps: ['oncall', 'next', 'approvers'] }]);
      await expect(runCommand(oncallSetCommand, ctx, operator, { ackSla: '1s' })).rejects.toThrow(/--ack-sla: "1s" is not a usable acknowledge deadline/);
      await expect(runCommand(oncallSetCommand, ctx, operator, {})).rejects.toThrow(/expected --members .* or --ack-sla \/ --max-rounds/);
    } finally {
      await envCtx.close();
    }
  });

  it('lets only operators change the rotation from Slack', async () => {
    await expect(runCommand(oncallSetCommand, ctx, { id: 'USTRANGER', source: 'slack' }, { members: 'UA1,UB2' })).rejects.toThrow(/needs the operator role/);
    const show = await runCommand(oncallShowCommand, ctx, { id: 'USTRANGER', source: 'slack' }, {});
    expect(show).toMatchObject({ ok: false, now: { primary: null, via: 'nobody' }, fallback: ['UAPP1'] });
  });

  it('reports the routes a page can take from the same configuration escalation pages by', async () => {
    // testConfig: no Slack token, no SMTP: nobody can be paged (escalation logs "nobody paged for …").
    expect(await runCommand(oncallShowCommand, ctx, operator, {})).toMatchObject({ routes: { slack: false, email: false } });
    const wired = await buildAppContext({
      config: testConfig({ SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: 'x'.repeat(32), SLACK_ALERTS_CHANNEL: 'C0ALERTS', SMTP_URL: 'smtp://127.0.0.1:1', ALERT_EMAIL_TO: 'ops@example.com' }),
      clock, logger: silentLogger(), database,
    });
    try {
      expect(await runCommand(oncallShowCommand, wired, operator, {})).toMatchObject({ routes: { slack: true, email: true } });
    } finally {
      await wired.close();
    }
  });
});

describe('ctb oncall (terminal)', () => {
  const io = () => {
    let out = '';
    let err = '';
    return {
      value: { env: { DATABASE_URL: database.url, LOG_DIR: join(tmpdir(), 'ctb-test-logs'), LOG_LEVEL: 'error' }, cwd: '/nonexistent-ctb-test',
        stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } },
      out: () => out,
      err: () => err,
    };
  };

  it('sets, overrides and shows the rotation', async () => {
    const set = io();
    expect(await runCli(['oncall', 'set', '--members', 'UA1,UB2', '--handoff', 'fri 17:30', '--tz', 'Europe/London'], set.value)).toBe(0);
    expect(set.out()).toMatch(/Rotation set: UA1 → UB2 · handoff fri 17:30 Europe\/London/);
    const override = io();
    expect(await runCli(['oncall', 'override', 'UC3', '2h'], override.value)).toBe(0);
    expect(override.out()).toMatch(/UC3 is on call/);
    const show = io();
    expect(await runCli(['oncall', '--json'], show.value)).toBe(0);
    expect(JSON.parse(show.out())).toMatchObject({ now: { primary: 'UC3', via: 'override' }, rotation: { members: ['UA1', 'UB2'] } });
  });

  it('refuses `me` saying it is read only in Slack and that a member id is expected; a name is not a member id', async () => {
    for (const argv of [['oncall', 'override', 'me', '2h'], ['oncall', 'set', '--members', 'me,UB2']]) {
      const me = io();
      expect(await runCli(argv, me.value), argv.join(' ')).toBe(2);
      expect(me.err(), argv.join(' ')).toBe('error: "me" can only be read in Slack (/oncall override me 2h), where the bot knows who typed it: expected your Slack member id, such as U012ABCDEF. Find it in Slack: your profile → ⋮ → Copy member ID.\n(run ' + `ctb oncall ${argv[1]} --help for its usage and options)\n`);
    }
    const name = io();
    expect(await runCli(['oncall', 'override', 'alice', '2h'], name.value)).toBe(2);
    expect(name.err()).toMatch(/^error: "alice" is not a Slack member id: expected one such as U012ABCDEF, or an @mention\./);
    expect(name.err()).not.toMatch(/not a Slack user/);
  });

  it('shows where each policy value comes from, changes it with --ack-sla/--max-rounds, and clears overrides with --clear', async () => {
    const run = async (...args: string[]) => {
      const o = io();
      const code = await runCli(args, o.value);
      return { code, out: o.out(), err: o.err() };
    };
    expect((await run('oncall', 'show')).out).toMatch(/critical +nobody paged: no Slack alerts channel, no email \(configured ladder: oncall → next → approvers every 5m, 3 round\(s\)\) \(SLA built-in default, rounds built-in default; not stored\)/);
    expect((await run('oncall', 'set', '--members', 'UA1,UB2')).out).toMatch(/Critical escalation: 5m to acknowledge, 3 round\(s\) \(stored now\)/);
    const set = await run('oncall', 'set', '--ack-sla', '10m', '--max-rounds', '2');
    expect(set.out).toMatch(/Rotation unchanged: UA1 → UB2 · handoff mon 09:00 UTC/);
    expect(set.out).toMatch(/Critical escalation: 10m to acknowledge, 2 round\(s\) \(changed, stored\)/);
    expect((await run('oncall', 'show')).out).toMatch(/critical +nobody paged: no Slack alerts channel, no email \(configured ladder: oncall → next → approvers every 10m, 2 round\(s\)\) \(stored by cli:\S+ at .*; ESCALATION_\* do not apply\)/);
    expect((await run('oncall', 'set', '--max-rounds', 'lots')).err).toMatch(/--max-rounds: expected a whole number from 1 to 20/);
    expect((await run('oncall', 'override', 'UC3', '2h')).code).toBe(0);
    const clear = await run('oncall', 'override', '--clear');
    expect(clear.code).toBe(0);
    expect(clear.out).toMatch(/Cleared 1 override\(s\); the rotation decides who is on call again:\n  #\d+ UC3/);
    expect((await run('oncall', 'override', '--clear')).out).toMatch(/nothing to clear/);
    expect((await run('oncall', 'override', 'UC3', '--clear')).code).toBe(2);
  });

  it('exits 1 while nobody is on call, as its help says, and names how to set the rotation', async () => {
    const show = io();
    expect(await runCli(['oncall', 'show'], show.value)).toBe(1);
    expect(show.out()).toMatch(/On call now: nobody/);
    expect(show.out()).toMatch(/run `ctb oncall set --members/);
    const help = io();
    expect(await runCli(['oncall', 'show', '--help'], help.value)).toBe(0);
    expect(help.out().replace(/\s+/g, ' ')).toContain('(exit 1 while nobody is on call)');
  });

  it('exits 2 with the reason on bad arguments', async () => {
    const bad = io();
    expect(await runCli(['oncall', 'set', '--members', 'UA1', '--tz', 'Nowhere/Land'], bad.value)).toBe(2);
    expect(bad.err()).toMatch(/--tz: "Nowhere\/Land" is not a time zone/);
  });
});
