// `ctb alerts list`: the open alert groups with the numbers to act on them — the command App Home's
// "…and N more" line sends people to.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/program.js';
import { alertGroups } from '../../../src/db/schema/index.js';
import { renderAppHome } from '../../../src/slack/views/app-home.js';
import { recordingIo } from '../../support/cli-io.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { bigDashboard } from '../../support/factories/dashboard.js';

let database: TestDatabase;
const cli = async (...argv: string[]) => {
  const io = recordingIo({ DATABASE_URL: database.url });
  const code = await runCli(argv, io);
  return { code, out: io.out(), err: io.err() };
};

beforeAll(async () => {
  database = await createPostgresTestDb();
  const at = (iso: string) => new Date(iso);
  const base = { source: 'engine', firstAt: at('2026-01-05T10:00:00Z') };
  await database.db.insert(alertGroups).values([
    { ...base, fingerprint: 'a', severity: 'warning', title: 'Kraken 5xx & retries', lastAt: at('2026-01-05T11:00:00Z') },
    { ...base, fingerprint: 'b', severity: 'critical', title: 'Engine heartbeat stale', lastAt: at('2026-01-05T11:58:00Z'), count: 4 },
    { ...base, fingerprint: 'c', severity: 'critical', title: 'Fixed already', status: 'resolved', lastAt: at('2026-01-05T11:59:00Z') },
    { ...base, fingerprint: 'd', severity: 'info', title: 'Acked thing', status: 'acknowledged', acknowledgedBy: 'UOPS1', lastAt: at('2026-01-05T09:00:00Z') },
    { ...base, fingerprint: 'e', severity: 'critical', title: 'Rehearsal', test: true, lastAt: at('2026-01-05T11:59:30Z') },
  ]);
}, 120_000);
afterAll(async () => {
  await database?.close();
});

describe('ctb alerts list', () => {
  it('lists the groups not resolved, critical first, with their numbers, and says how many it left out', async () => {
    const all = await cli('alerts', 'list');
    expect(all.code).toBe(0);
    const lines = all.out.trim().split('\n');
    expect(lines[0]).toBe('Open alerts: 3 (critical first; act with ctb alerts ack|resolve|silence <group>)');
    expect(lines.slice(2).map((l) => l.replace(/\s+/g, ' ').trim())).toEqual([
      '2 critical ×4 last 2026-01-05T11:58:00.000Z Engine heartbeat stale (NOT acknowledged)',
      '1 warning ×1 last 2026-01-05T11:00:00.000Z Kraken 5xx & retries (NOT acknowledged)',
      '4 info ×1 last 2026-01-05T09:00:00.000Z Acked thing (acked by UOPS1)',
    ]);
    const two = await cli('alerts', 'list', '--limit', '2');
    expect(two.out).toContain('…and 1 more: ctb alerts list --limit 3');
    const json = JSON.parse((await cli('alerts', 'list', '--json')).out);
    expect(json).toMatchObject({ ok: true, total: 3 });
    expect(json.groups.map((g: { id: number }) => g.id)).toEqual([2, 1, 4]);
  });

  it('refuses a limit that is not a whole number from 1 to 500, saying what it expects', async () => {
    const r = await cli('alerts', 'list', '--limit', '0');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/at least 1/);
  });

  it("is what App Home's \"…and N more\" line points at, and that command runs", async () => {
    const home = JSON.stringify(renderAppHome(bigDashboard(3)).blocks);
    const pointer = /…and \d+ more: `ctb (alerts[^`]*)`/.exec(home);
    expect(pointer?.[1]).toBe('alerts list');
    const r = await cli(...pointer![1]!.split(' '));
    expect(r.code).toBe(0);
    expect(r.out).toContain('Engine heartbeat stale');
  });
});
