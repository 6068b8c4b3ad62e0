import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { oncallOverrideCommand } from '../../../commands/oncall-override.js';
import { oncallSetCommand } from '../../../commands/oncall-set.js';
import { oncallShowCommand } from '../../../commands/oncall-show.js';
import { runCommand } from '../../../commands/run-command.js';
import { buildAppContext, type OwnedContext } from '../../../src/app/build-context.js';
import { runCli } from '../../../src/cli/program.js';
import { ManualClock } from '../../../src/clock.js';
import { testConfig } from '../../../src/config/env.js';
import { alertPolicies, oncallOverrides, oncallRotations } from '../../../src/db/schema/index.js';
import { silentLogger } from '../../../src/logger.js';
import { whoIsOnCall } from '../../../src/services/oncall/who-is-on-call.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';

let database: TestDatabase;
let ctx: OwnedContext;
let clock: ManualClock;
const operator = { id: 'UOPS1', source: 'slack' as const };

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
    const set = await runCommand(oncallSetCommand, ctx, operator, { members: 'UALICE,<@UBOB|bob>,@UCAROL', handoff: 'mon 09:00', tz: 'America/New_York' });
    expect(set).toMatchObject({ members: ['UALICE', 'UBOB', 'UCAROL'], onCallNow: 'UALICE', next: 'UBOB', policy: { severity: 'critical', stored: true } });

    clock.set('2026-01-12T13:59:00Z'); // 08:59 New York
    expect((await whoIsOnCall(ctx.db, clock.now())).primary).toBe('UALICE');
    clock.set('2026-01-12T14:00:00Z'); // 09:00 New York: Bob's week starts
    expect(await whoIsOnCall(ctx.db, clock.now())).toMatchObject({ primary: 'UBOB', next: 'UCAROL' });

    const o = await runCommand(oncallOverrideCommand, ctx, operator, { user: '<@UDAVE>', duration: '2h' });
    expect(o).toMatchObject({ userId: 'UDAVE', startsAt: '2026-01-12T14:00:00.000Z', endsAt: '2026-01-12T16:00:00.000Z' });
    clock.set('2026-01-12T15:59:00Z');
    expect(await whoIsOnCall(ctx.db, clock.now())).toMatchObject({ primary: 'UDAVE', via: 'override', next: 'UBOB' });
    clock.set('2026-01-12T16:00:00Z');
    expect(await whoIsOnCall(ctx.db, clock.now())).toMatchObject({ primary: 'UBOB', via: 'rotation' });

    const show = await runCommand(oncallShowCommand, ctx, operator, {});
    expect(show.now).toMatchObject({ primary: 'UBOB', next: 'UCAROL', until: '2026-01-19T14:00:00.000Z' });
    expect(show.upcoming.map((s) => s.userId)).toEqual(['UBOB', 'UCAROL', 'UALICE', 'UBOB']);
  });

  it('refuses bad input with a message naming what is expected, and writes nothing', async () => {
    await expect(runCommand(oncallSetCommand, ctx, operator, { members: 'alice,bob' })).rejects.toThrow(/expected a user id such as U012ABCDEF/);
    await expect(runCommand(oncallSetCommand, ctx, operator, { members: 'UA1,UB2', tz: 'Mars/Olympus' })).rejects.toThrow(/IANA name such as Europe\/London/);
    await expect(runCommand(oncallSetCommand, ctx, operator, { members: 'UA1,UB2', handoff: 'funday 9' })).rejects.toThrow(/"mon 09:00"/);
    await expect(runCommand(oncallSetCommand, ctx, operator, { members: 'UA1,UA1' })).rejects.toThrow(/listed twice/);
    await expect(runCommand(oncallOverrideCommand, ctx, operator, { user: 'UA1', duration: 'forever' })).rejects.toThrow(/expected a duration up to 30d/);
    expect(await database.db.select().from(oncallRotations)).toEqual([]);
    expect(await database.db.select().from(oncallOverrides)).toEqual([]);
  });

  it('lets only operators change the rotation from Slack', async () => {
    await expect(runCommand(oncallSetCommand, ctx, { id: 'USTRANGER', source: 'slack' }, { members: 'UA1,UB2' })).rejects.toThrow(/needs the operator role/);
    const show = await runCommand(oncallShowCommand, ctx, { id: 'USTRANGER', source: 'slack' }, {});
    expect(show).toMatchObject({ ok: false, now: { primary: null, via: 'nobody' }, fallback: ['UAPP1'] });
  });
});

describe('ctb oncall (terminal)', () => {
  const io = () => {
    let out = '';
    let err = '';
    return {
      value: { env: { DATABASE_URL: database.url, LOG_DIR: '/tmp/ctb-test-logs', LOG_LEVEL: 'error' }, cwd: '/nonexistent-ctb-test',
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
