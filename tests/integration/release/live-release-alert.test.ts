// An engine that takes the lease of a live database, armed, on a build that is no tagged release
// built from a clean tree pages (critical): the live switch checked the release once; a restart on
// another build would otherwise trade live unseen. Paper, or not armed, or a tagged release: no page.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AlertInput } from '../../../src/alerts/types.js';
import { ManualClock } from '../../../src/clock.js';
import type { ReleaseInfo } from '../../../src/domain/release.js';
import { silentLogger } from '../../../src/logger.js';
import { getBotState, updateBotState } from '../../../src/services/bot-state.js';
import { alertUntaggedLiveRelease, LIVE_RELEASE_UNTAGGED } from '../../../src/services/release/live-release-alert.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';

const HEAD = 'c0ffee0123456789abcdef0123456789abcdef01';
const TAGGED: ReleaseInfo = {
  source: 'git', label: 'v1.0-go-live', tag: 'v1.0-go-live', commit: HEAD, dirty: false, tagged: true, packageVersion: '0.1.0', distCommit: HEAD,
  build: { commit: HEAD, tag: 'v1.0-go-live', dirty: false },
};
const UNTAGGED: ReleaseInfo = { ...TAGGED, label: 'v1.0-go-live-3-gc0ffee0', tag: null, tagged: false, build: { commit: HEAD, tag: null, dirty: false } };

let database: TestDatabase;
const raised: AlertInput[] = [];
beforeAll(async () => {
  database = await createPostgresTestDb();
});
afterAll(async () => database?.close());
beforeEach(() => void (raised.length = 0));

const deps = (armed: boolean) => ({ db: database.db, config: { IS_LIVE: armed }, logger: silentLogger(), alerts: { raise: async (a: AlertInput) => void raised.push(a) } });
async function mode(m: 'live' | 'paper') {
  await getBotState(database.db);
  await updateBotState(database.db, new ManualClock(new Date('2026-03-02T08:00:00Z')), { mode: m });
}

describe('an engine taking over live trading on a build that is no release', () => {
  it('pages critical, naming the engine, what it runs and how to fix it', async () => {
    await mode('live');
    expect(await alertUntaggedLiveRelease(deps(true), UNTAGGED, 'worker-host:4242 (worker)')).toBe(true);
    expect(raised).toEqual([expect.objectContaining({
      source: 'engine', severity: 'critical', fingerprint: LIVE_RELEASE_UNTAGGED,
      title: 'The engine (worker-host:4242 (worker)) took over live trading on v1.0-go-live-3-gc0ffee0 (commit c0ffee012345, not on a release tag): not a tagged release built from a clean tree',
    })]);
    expect(String((raised[0]!.details as { fix: string }).fix)).toContain('Restart the engine (ctb start) on the tagged release');
  });

  it('does not page for a tagged release, in paper, or when the engine is not armed', async () => {
    await mode('live');
    expect(await alertUntaggedLiveRelease(deps(true), TAGGED, 'w:1 (worker)')).toBe(false);
    expect(await alertUntaggedLiveRelease(deps(false), UNTAGGED, 'w:1 (worker)')).toBe(false);
    await mode('paper');
    expect(await alertUntaggedLiveRelease(deps(true), UNTAGGED, 'w:1 (worker)')).toBe(false);
    expect(raised).toEqual([]);
  });
});
